"""The compact frame of a served call (grader/sandbox/protocol.py, "The compact frame").

- Each supported value (numeric arrays of every allowed dtype and shape, Python and numpy scalars,
  tuples, lists and dicts of them, keyword arguments, the errstate byte, a reply's value or error)
  arrives as it was sent, as the general frame would make it.
- Anything else falls back to the general frame (nothing is sent compactly), with the same result.
- A malformed or hostile frame raises ProtocolError in the judge and nothing else, within bounded
  memory; deadlines hold for reads and for writes to a peer that stops reading.
- In a real worker, served calls give the reference's values and exceptions, under the caller's
  errstate, and the judge counts each.
- A served call's large arrays travel in shared memory both ways and arrive as copies; an array described
  outside its area, malformed or over the budget is refused, one named many times is read once and
  counted each time against the cap on a served call (frames forged in a real worker).
"""
import collections
import os
import random
import struct
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from grader.engine.staging import reference_functions, stage_package
from grader.sandbox import protocol
from grader.sandbox.client import Limits, StudentModule

DTYPES = ["?", "i1", "<i2", "<i4", "<i8", "u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16",
          np.longdouble, np.clongdouble]


@pytest.fixture
def pipe():
    """(worker side, judge side): two channels over a pair of pipes, as the worker and the judge hold them."""
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    worker = protocol.Channel(b_r, a_w)
    judge = protocol.Channel(a_r, b_w, max_payload=protocol.MAX_REPLY, max_header=protocol.MAX_REPLY_HEADER)
    yield worker, judge
    for fd in (a_r, a_w, b_r, b_w):
        try:
            os.close(fd)
        except OSError:
            pass


def deadline(seconds=10):
    return time.monotonic() + seconds


def call_roundtrip(pipe, args, kwargs=None, thread=True):
    """What the judge receives when the worker sends this callback (from a thread: it may fill the pipe)."""
    worker, judge = pipe
    if not thread:                   # a small frame, with this thread's numpy errstate
        assert worker.send_callback("activations", "sigmoid", args, kwargs or {})
        return judge.recv(deadline=deadline())
    sent = []
    writer = threading.Thread(target=lambda: sent.append(worker.send_callback("activations", "sigmoid", args,
                                                                              kwargs or {})))
    writer.start()
    try:
        return judge.recv(deadline=deadline())
    finally:
        writer.join(timeout=30)
        assert sent == [True]


def general(value):
    """What the general frame makes of `value` (the compact frame must make the same)."""
    data = protocol.pack({"kind": "ok", "value": value})
    size = int.from_bytes(data[4:12], "big")
    body, specs = protocol.unpack_header(data[12:12 + size])
    return protocol.finish(body, specs, bytearray(data[12 + size:]))["value"]


def same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b and (not isinstance(a, float) or np.copysign(1, a) == np.copysign(1, b))


def arrays():
    rng = np.random.default_rng(0)
    for dtype in DTYPES:
        dtype = np.dtype(dtype)
        for shape in [(), (0,), (3,), (2, 3), (0, 5), (2, 1, 3, 1)]:
            a = np.asarray(rng.normal(size=shape) * 50).astype(dtype)
            if dtype.kind == "c":
                a = np.asarray(a + 1j * a, dtype)
            yield a


@pytest.mark.parametrize("array", list(arrays()), ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_arrays_of_every_allowed_dtype_and_shape(pipe, array):
    got = call_roundtrip(pipe, (array, array[..., ::-1] if array.ndim else array))
    assert got["kind"] == "callback" and got["module"] == "activations" and got["fn"] == "sigmoid"
    a, b = got["args"]
    same(a, general(array))
    same(b, general(array[..., ::-1] if array.ndim else array))
    assert a.flags.writeable and a.flags.c_contiguous and got["kwargs"] == {}


def test_non_contiguous_arrays_arrive_in_c_order(pipe):
    x = np.arange(24.0).reshape(4, 6)
    got = call_roundtrip(pipe, (x.T, x[::2, 1::3], np.asfortranarray(x)))["args"]
    for sent, arrived in zip((x.T, x[::2, 1::3], x), got):
        np.testing.assert_array_equal(arrived, sent)
        assert arrived.flags.c_contiguous


SCALARS = [None, True, False, 0, 1, -1, 2 ** 63 - 1, -2 ** 63, 0.0, -0.0, 1.5, float("inf"), float("-inf"),
           float("nan"), 1e-310, np.float64(2.5), np.float32(-1.25), np.float16(3), np.int8(-7), np.int64(-2 ** 63),
           np.uint64(2 ** 64 - 1), np.uint8(200), np.bool_(True), np.bool_(False), np.complex128(1 - 2j),
           np.complex64(3j), np.longdouble(1) / 3, np.intc(5), np.longlong(9), np.ulonglong(9)]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_python_and_numpy_scalars(pipe, value):
    got = call_roundtrip(pipe, (value,), {"alpha": value})
    same(got["args"][0], general(value))
    same(got["kwargs"]["alpha"], general(value))


def test_keyword_arguments_and_many_arguments(pipe):
    x = np.ones((2, 2))
    kwargs = {"alpha": 0.1, "n": 3, "flag": True, "none": None, "x": x, "é" * 100: np.int32(4)}
    args = tuple(range(protocol.FAST_MAX_ITEMS - len(kwargs)))
    got = call_roundtrip(pipe, args, kwargs)
    assert got["args"] == list(args)
    assert list(got["kwargs"]) == list(kwargs)
    for k, v in kwargs.items():
        same(got["kwargs"][k], general(v))


def test_arrays_do_not_share_the_reading_buffer(pipe):
    first = call_roundtrip(pipe, (np.full(4, 1.0),))["args"][0]
    second = call_roundtrip(pipe, (np.full(4, 2.0),))["args"][0]
    assert first.tolist() == [1.0] * 4 and second.tolist() == [2.0] * 4
    big = np.arange(100_000.0)                                # larger than the buffer: a buffer of its own
    got = call_roundtrip(pipe, (big, np.full(3, 7.0)))["args"]
    np.testing.assert_array_equal(got[0], big)
    assert got[1].tolist() == [7.0] * 3 and got[0].flags.writeable


@pytest.mark.parametrize("modes", [
    {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"},
    {"divide": "raise", "over": "ignore", "under": "warn", "invalid": "raise"},
    {"divide": "print", "over": "log", "under": "call", "invalid": "ignore"},
])
def test_the_errstate_byte(pipe, modes):
    with np.errstate(call=lambda *a: None, **modes):
        got = call_roundtrip(pipe, (1.0,), thread=False)
    runs_as = {k: "ignore" if v in ("call", "print", "log") else v for k, v in modes.items()}
    assert isinstance(got["errstate"], int)
    # What the judge runs the call under: the same as the general frame's dict gives.
    assert protocol.callback_errstate(got["errstate"]) in (None, runs_as)
    assert protocol.callback_errstate(modes) == runs_as
    with np.errstate(**runs_as):
        assert protocol.callback_errstate(got["errstate"]) is None      # the judge's state already
    with np.errstate(all="print"):
        assert protocol.callback_errstate(got["errstate"]) == runs_as   # print is not ignore
    assert protocol.callback_errstate("nonsense") == {} and protocol.callback_errstate(999) == {}


def test_errstate_code_follows_every_change():
    base = protocol.errstate_code()
    with np.errstate(over="raise"):
        raised = protocol.errstate_code()
        np.seterr(under="warn")
        both = protocol.errstate_code()
        assert both != raised
    assert raised != base and protocol.errstate_code() == base

    def other_thread(out):
        np.seterr(all="raise")
        out.append(protocol.errstate_code())
    out = []
    t = threading.Thread(target=other_thread, args=(out,))
    t.start()
    t.join()
    assert out == [0b10101010] and protocol.errstate_code() == base


@pytest.mark.parametrize("value", [np.arange(5.0).reshape(5, 1), np.float64(0.25), 0.5, 3, True, None])
def test_replies(pipe, value):
    worker, judge = pipe
    judge.send_reply({"op": "callback_reply", "kind": "ok", "value": value}, deadline=deadline())
    got = worker.recv()
    assert got["op"] == "callback_reply" and got["kind"] == "ok"
    same(got["value"], general(value))
    error = {"type": "ValueError", "message": "operands could not be broadcast — é"}
    judge.send_reply({"op": "callback_reply", "kind": "error", "error": error}, deadline=deadline())
    assert worker.recv() == {"op": "callback_reply", "kind": "error", "error": error}


class Sub(np.ndarray):
    pass


class MyFloat(float):
    pass


def nested(depth):
    value = 1.0
    for _ in range(depth):
        value = [value]
    return value


# What the networks' served calls pass and return: a parameter dict, (output, cache), gradients.
PARAMS = {"W1": np.ones((4, 2)), "b1": np.zeros(4), "W2": np.full((1, 4), 0.5), "b2": np.zeros(1)}
CONTAINERS = {
    "parameter dict": PARAMS, "forward's (output, cache)": (np.ones((4, 1)), {"Z1": np.ones((4, 4)), "A1": None}),
    "list of scalars": [1.0, 2, True, None, np.float32(3.0)], "empty ones": ((), [], {}),
    "as deep as allowed": nested(protocol.FAST_MAX_DEPTH), "a cache as a tuple": (np.ones(2), (np.ones(3), 2.5)),
    "as many values as allowed": [0.5] * protocol.FAST_MAX_VALUES, "unicode keys": {"é": 1.0, "": 2.0},
}


@pytest.mark.parametrize("value", CONTAINERS.values(), ids=CONTAINERS.keys())
def test_tuples_lists_and_dicts_of_numbers(pipe, value):
    """They arrive as the general frame makes them (plain types, in order), as arguments, keyword arguments
    and replies."""
    def check(got, want):
        assert type(got) is type(want)
        if isinstance(want, dict):
            assert list(got) == list(want)
            for k in want:
                check(got[k], want[k])
        elif isinstance(want, (tuple, list)):
            assert len(got) == len(want)
            for g, w in zip(got, want):
                check(g, w)
        else:
            same(got, want)
    expected = general(value)
    got = call_roundtrip(pipe, (value, np.ones(2)))
    check(got["args"][0], expected)
    check(call_roundtrip(pipe, (), {"cache": value})["kwargs"]["cache"], expected)
    worker, judge = pipe
    assert protocol.pack_reply({"op": "callback_reply", "kind": "ok", "value": value}) is not None
    judge.send_reply({"op": "callback_reply", "kind": "ok", "value": value}, deadline=deadline())
    check(worker.recv()["value"], expected)


def test_a_frames_containers_share_one_count_of_values():
    half = [0.5] * (protocol.FAST_MAX_VALUES // 2 + 1)
    assert protocol.pack_callback("two_layer_net", "backward", (half,), {}) is not None
    assert protocol.pack_callback("two_layer_net", "backward", (half, half), {}) is None
    assert protocol.pack_callback("two_layer_net", "backward", (half,), {"y": half}) is None


def test_arrays_inside_containers_count_toward_a_large_call():
    """An MNIST network's parameter dict (1.9 MB) goes to shared memory, not through the pipe."""
    assert protocol.large_arrays(({"W1": np.zeros(1 << 17), "b1": np.zeros(3)},))
    assert protocol.large_arrays(([np.zeros(1 << 16)], (np.zeros(1 << 16),)))
    assert not protocol.large_arrays(({"W1": np.zeros(1000)}, [np.zeros(1000)]))


class Named(tuple):
    pass


FALLBACKS = {
    "list of str": (["x"],), "tuple with an object": ((np.ones(2), object()),), "dict with int keys": ({1: 1.0},),
    "dict with a long key": ({"k" * 256: 1.0},), "dict subclass": (collections.OrderedDict(a=1.0),),
    "tuple subclass": (Named((1.0,)),), "nested too deeply": (nested(protocol.FAST_MAX_DEPTH + 1),),
    "too many values": ([0.5] * (protocol.FAST_MAX_VALUES + 1),), "str": ("x",),
    "int beyond 64 bits": (2 ** 63,), "negative int beyond 64 bits": (-2 ** 63 - 1,), "complex": (1j,),
    "subclass": (np.ones(3).view(Sub),), "float subclass": (MyFloat(1),), "big-endian": (np.ones(3, ">f8"),),
    "object array": (np.array([None, 1], dtype=object),), "str array": (np.array(["a"]),),
    "datetime": (np.array(["2020-01-01"], dtype="datetime64[D]"),), "structured": (np.zeros(2, "i4,f8"),),
    "numpy str": (np.str_("x"),), "object": (object(),),
    "too many": tuple(range(protocol.FAST_MAX_ITEMS + 1)),
}


@pytest.mark.parametrize("args", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_what_does_not_fit_falls_back_to_the_general_frame(pipe, args):
    worker, judge = pipe
    assert protocol.pack_callback("activations", "sigmoid", args, {}) is None
    if len(args) == 1:
        assert protocol.pack_callback("activations", "sigmoid", (), {"alpha": args[0]}) is None
    else:
        assert protocol.pack_callback("activations", "sigmoid", (), {f"k{i}": v for i, v in enumerate(args)}) is None
    assert not worker.send_callback("activations", "sigmoid", args, {})
    with pytest.raises(TimeoutError):                         # nothing was written
        judge.recv(deadline=time.monotonic() + 0.05)


def test_other_fallbacks():
    assert protocol.pack_callback("activations", "sigmoid", (), {1: 2.0}) is None
    assert protocol.pack_callback("activations", "sigmoid", (), {"k" * 256: 2.0}) is None
    assert protocol.pack_callback("activations", "sigmoid", (), {"\udc80": 2.0}) is None
    assert protocol.pack_callback("a" * 256, "sigmoid", (), {}) is None
    assert protocol.pack_callback("activations", "\udc80", (), {}) is None
    assert protocol.pack_callback("activations", "sigmoid", (np.zeros((1,) * 33),), {}) is None
    for message in ({"op": "callback_reply", "kind": "ok", "value": (1.0, "x")},
                    {"op": "callback_reply", "kind": "ok", "value": 2 ** 70},
                    {"op": "callback_reply", "kind": "error", "error": {"type": "E", "message": "\udc80"}},
                    {"op": "callback_reply", "kind": "error", "error": {"type": "E" * 256, "message": ""}},
                    {"op": "callback_reply", "kind": "ok", "value": 1.0, "extra": 1},
                    {"kind": "ok", "value": 1.0}):
        assert protocol.pack_reply(message) is None


def test_a_reply_that_does_not_fit_goes_in_the_general_frame(pipe):
    worker, judge = pipe
    message = {"op": "callback_reply", "kind": "ok", "value": (np.ones(2), [1, None, "x"])}
    judge.send_reply(message, deadline=deadline())
    got = worker.recv()
    assert got["kind"] == "ok" and got["value"][1] == [1, None, "x"] and got["value"][0].tolist() == [1.0, 1.0]


def test_frames_back_to_back_in_one_write_are_read_in_order(pipe):
    """A peer may write several frames at once: what one read takes beyond a frame stays for the next."""
    worker, judge = pipe
    pieces, _ = protocol.pack_callback("activations", "relu", (np.arange(3.0),), {})
    fast = b"".join(pieces)
    general = protocol.pack({"kind": "ok", "value": [1, 2]})
    os.write(worker.write_fd, fast + general + fast + fast)
    assert judge.recv(deadline=deadline())["args"][0].tolist() == [0.0, 1.0, 2.0]
    assert judge.recv(deadline=deadline())["value"] == [1, 2]
    assert judge.recv(deadline=deadline())["fn"] == "relu"
    assert judge.recv(deadline=deadline())["fn"] == "relu"


def test_a_frame_that_straddles_the_buffer_is_read_whole(pipe):
    worker, judge = pipe
    n = protocol.BUFFER_BYTES // 8 - 40                      # a frame a little under the buffer's size
    pieces, total = protocol.pack_callback("activations", "relu", (np.arange(float(n)),), {})
    first = b"".join(pieces)
    small = b"".join(protocol.pack_callback("activations", "relu", (1.0,), {})[0])
    writer = threading.Thread(target=lambda: [os.write(worker.write_fd, small + first[:100]), time.sleep(0.05),
                                              os.write(worker.write_fd, first[100:])])
    writer.start()
    assert judge.recv(deadline=deadline())["args"] == [1.0]
    np.testing.assert_array_equal(judge.recv(deadline=deadline())["args"][0], np.arange(float(n)))
    writer.join()


# -- hostile frames ----------------------------------------------------------------------------------
def fast_frame(body):
    return protocol.FAST_MAGIC + len(body).to_bytes(8, "big") + body


def callback_body(items, nargs=None, nkwargs=0, module=b"activations", fn=b"sigmoid", errstate=0):
    head = struct.pack("<6B", 1, errstate, len(items) if nargs is None else nargs, nkwargs, len(module), len(fn))
    return head + module + fn + b"".join(items)


def array_item(code, shape, data=b""):
    return struct.pack(f"<3B{len(shape)}q", 6, code, len(shape), *shape) + data


F8 = protocol._DTYPE_CODES[np.dtype("<f8")]


def judge_recv(data, close=True):
    """The judge's Channel.recv on `data` (written by a thread, then the pipe closed)."""
    r, w = os.pipe()

    def write():
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(w, view[:65536]):]
        except OSError:
            pass
        finally:
            if close:
                os.close(w)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        return protocol.Channel(r, None, max_payload=protocol.MAX_REPLY,
                                max_header=protocol.MAX_REPLY_HEADER).recv(deadline=deadline(30))
    finally:
        os.close(r)
        writer.join(timeout=30)
        if not close:
            os.close(w)


HOSTILE = {
    "declared size beyond the bounds": (protocol.FAST_MAGIC + (1 << 40).to_bytes(8, "big"), "frame too large"),
    "declared size larger than sent": (protocol.FAST_MAGIC + (100).to_bytes(8, "big") + b"\1" * 10, "closed"),
    "declared large frame, nothing sent": (protocol.FAST_MAGIC + (200 << 20).to_bytes(8, "big"), "closed"),
    "empty body": (fast_frame(b""), "truncated"),
    "unknown kind": (fast_frame(b"\x09"), "unknown compact frame"),
    "short callback head": (fast_frame(b"\x01\x00\x01"), "truncated"),
    "names beyond the frame": (fast_frame(struct.pack("<6B", 1, 0, 0, 0, 200, 200) + b"abc"), "truncated"),
    "names not UTF-8": (fast_frame(callback_body([], module=b"\xff\xfe")), "malformed text"),
    "missing argument": (fast_frame(callback_body([], nargs=2)), "truncated"),
    "missing keyword": (fast_frame(callback_body([], nargs=0, nkwargs=1)), "truncated"),
    "keyword beyond the frame": (fast_frame(callback_body([b"\x09ab"], nargs=0, nkwargs=1)), "truncated"),
    "keyword not UTF-8": (fast_frame(callback_body([b"\x02\xc3\x28\x00"], nargs=0, nkwargs=1)), "malformed text"),
    "bytes left over": (fast_frame(callback_body([b"\x00", b"junk"], nargs=1)), "left over"),
    "unknown tag": (fast_frame(callback_body([b"\x63"])), "unknown tag"),
    "truncated int": (fast_frame(callback_body([b"\x03\x01\x02"])), "truncated"),
    "truncated float": (fast_frame(callback_body([b"\x04\x01"])), "truncated"),
    "unknown dtype code": (fast_frame(callback_body([array_item(200, (1,), b"\0")])), "refused array dtype"),
    "object dtype code": (fast_frame(callback_body([array_item(16, (1,), b"\0" * 8)])), "refused array dtype"),
    "scalar of unknown dtype": (fast_frame(callback_body([b"\x05\xff" + b"\0" * 8])), "refused array dtype"),
    "truncated scalar": (fast_frame(callback_body([b"\x05" + bytes((F8,)) + b"\0" * 3])), "truncated"),
    "too many dimensions": (fast_frame(callback_body([array_item(F8, (1,) * 33, b"\0" * 8)])), "refused array shape"),
    "negative dimension": (fast_frame(callback_body([array_item(F8, (-1, 4))])), "refused array shape"),
    "shape that overflows 64 bits": (fast_frame(callback_body([array_item(F8, (2 ** 32,) * 3)])), "too large"),
    "zero-size with huge dimensions": (fast_frame(callback_body([array_item(F8, (0, 2 ** 62, 2 ** 62))])),
                                       "too large"),
    "array beyond the frame": (fast_frame(callback_body([array_item(F8, (1000,), b"\0" * 16)])), "truncated"),
    "array head beyond the frame": (fast_frame(callback_body([array_item(F8, (3, 3))[:10]])), "truncated"),
    "truncated error": (fast_frame(struct.pack("<BBH", 3, 10, 10) + b"Value"), "truncated"),
    "huge error text": (fast_frame(struct.pack("<BBH", 3, 1, 65535) + b"E" + b"x" * 10), "truncated"),
    "reply without value": (fast_frame(b"\x02"), "truncated"),
    "list beyond the frame": (fast_frame(callback_body([b"\x08\x05\x00\x00"])), "truncated"),
    "truncated list head": (fast_frame(callback_body([b"\x08"])), "truncated"),
    "dict key beyond the frame": (fast_frame(callback_body([b"\x09\x01\x09ab"])), "truncated"),
    "dict key not UTF-8": (fast_frame(callback_body([b"\x09\x01\x02\xc3\x28\x00"])), "malformed text"),
    "nested too deeply": (fast_frame(callback_body([b"\x07\x01" * (protocol.FAST_MAX_DEPTH + 1) + b"\x00"])),
                          "nested too deeply"),
    "more values than allowed": (fast_frame(callback_body([b"\x08\xff" + b"\x00" * 255, b"\x08\x01\x00"],
                                                          nargs=2)), "too large"),
}


@pytest.mark.parametrize("data, problem", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_frames_raise_protocol_error(data, problem):
    tracemalloc.start()
    try:
        with pytest.raises(protocol.ProtocolError, match=problem):
            judge_recv(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A frame's bytes are allocated once its declared size is within the bounds (as the general frame's
    # arrays are): 200 MB for the frame declared so, a few MB at most for the others.
    assert peak < (4 << 20) + (200 << 20 if data[4:12] == (200 << 20).to_bytes(8, "big") else 0), peak


def test_a_frame_declared_beyond_the_bounds_is_refused_before_any_allocation():
    tracemalloc.start()
    try:
        size = protocol.MAX_REPLY + protocol.FAST_MAX_HEAD + 1
        with pytest.raises(protocol.ProtocolError, match="frame too large"):
            judge_recv(protocol.FAST_MAGIC + size.to_bytes(8, "big"), close=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_integers_beyond_64_bits_never_travel_compactly():
    """The compact frame has no room for them: the general frame carries them, and the judge refuses it."""
    assert protocol.pack_callback("activations", "sigmoid", (10 ** 400,), {}) is None
    data = protocol.pack({"kind": "callback", "module": "activations", "fn": "sigmoid", "args": [10 ** 400],
                          "kwargs": {}, "errstate": {}})
    with pytest.raises(protocol.ProtocolError, match="beyond 64 bits"):
        judge_recv(data)


def test_mutated_frames_decode_or_raise_protocol_error_only():
    """Random truncations, bit flips and byte changes of valid frames: a message or ProtocolError, nothing else."""
    rng = random.Random(0)
    x = np.arange(12.0).reshape(3, 4)
    valid = [b"".join(protocol.pack_callback("activations", "sigmoid_backward", (x, x.T, 3, 2.5, None, np.int16(4)),
                                             {"alpha": 0.01, "y": np.ones(2, np.complex64)})[0]),
             b"".join(protocol.pack_reply({"op": "callback_reply", "kind": "ok", "value": x})[0]),
             b"".join(protocol.pack_reply({"op": "callback_reply", "kind": "ok",
                                           "value": ({"W1": x, "b": [1.5, None]}, (x.T, 2))})[0]),
             b"".join(protocol.pack_reply({"op": "callback_reply", "kind": "error",
                                           "error": {"type": "ValueError", "message": "no"}})[0])]
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(3000):
        body = bytearray(rng.choice(valid)[12:])
        for _ in range(rng.randint(1, 4)):
            what = rng.random()
            if not body:
                break
            if what < 0.2:
                del body[rng.randrange(len(body)):]
            elif what < 0.6:
                body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            else:
                body[rng.randrange(len(body))] = rng.choice([0, 1, 2, 3, 5, 6, 7, 32, 127, 128, 255])
        try:
            message = protocol.unpack_fast(body, 0, len(body))
            assert isinstance(message, dict)
            outcomes["decoded"] += 1
        except protocol.ProtocolError:
            outcomes["refused"] += 1
    assert outcomes["decoded"] and outcomes["refused"], outcomes


# -- deadlines -----------------------------------------------------------------------------------------
def test_deadlines_hold_for_reads(pipe):
    worker, judge = pipe
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        judge.recv(deadline=start + 0.2)
    data = b"".join(protocol.pack_callback("activations", "sigmoid", (np.ones(10),), {})[0])
    os.write(worker.write_fd, data[:30])                   # half a frame, and then nothing
    with pytest.raises(TimeoutError):
        judge.recv(deadline=time.monotonic() + 0.2)
    assert time.monotonic() - start < 5


def test_a_read_without_a_deadline_still_waits_after_one_with(pipe):
    """A read with a deadline makes the read end non-blocking; a later read without one still waits."""
    worker, judge = pipe
    with pytest.raises(TimeoutError):
        judge.recv(deadline=time.monotonic() + 0.05)
    later = threading.Timer(0.2, lambda: worker.send_callback("activations", "relu", (1.0,), {}))
    later.start()
    assert judge.recv()["fn"] == "relu"
    later.join()
    worker.send({"kind": "ok", "value": [1, 2]})          # there already: taken without waiting
    assert judge.recv(deadline=deadline())["value"] == [1, 2]
    with pytest.raises(TimeoutError):                    # ... but not past the deadline
        worker.send({"kind": "ok", "value": 1})
        judge.recv(deadline=time.monotonic() - 1)


def test_deadlines_hold_for_writes_to_a_peer_that_stops_reading(pipe):
    """A worker that sends a callback and never reads the reply cannot hold the judge past its deadline."""
    worker, judge = pipe
    big = {"op": "callback_reply", "kind": "ok", "value": np.zeros(1 << 20)}      # 8 MB: more than a pipe holds
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        judge.send_reply(big, deadline=start + 0.3)
    with pytest.raises(TimeoutError):
        judge.send(dict(big, value=[np.zeros(1 << 20)]), deadline=time.monotonic() + 0.3)
    assert time.monotonic() - start < 5


def test_a_large_reply_arrives_whole(pipe):
    worker, judge = pipe
    value = np.random.default_rng(1).normal(size=(700, 900))
    got = []
    reader = threading.Thread(target=lambda: got.append(worker.recv()))
    reader.start()
    judge.send_reply({"op": "callback_reply", "kind": "ok", "value": value}, deadline=deadline())
    reader.join(timeout=30)
    np.testing.assert_array_equal(got[0]["value"], value)
    # and the write end, now non-blocking, still carries a message sent with no deadline
    reader = threading.Thread(target=lambda: got.append(worker.recv()))
    reader.start()
    judge.send({"kind": "ok", "value": value})
    reader.join(timeout=30)
    np.testing.assert_array_equal(got[1]["value"], value)


# -- in a worker -----------------------------------------------------------------------------------
SERVED = '''
import numpy as np
from .activations import sigmoid, sigmoid_backward, leaky_relu, tanh

def values(x):
    return [sigmoid(x), sigmoid_backward(x, x), leaky_relu(x, alpha=0.2), leaky_relu(x, 0.3), tanh(x[0, 0]),
            sigmoid(float(x[0, 0])), sigmoid([1.0, -2.0]), sigmoid(x.T), sigmoid(np.float32(2.0))]

def errors(x):
    out = []
    for f in (lambda: sigmoid_backward(x, x[:2]), lambda: sigmoid(x, 3), lambda: sigmoid(),
              lambda: leaky_relu(x, beta=1.0)):
        try:
            f()
            out.append(None)
        except Exception as exc:
            out.append([type(exc).__name__, str(exc)])
    return out

def overflow(x, mode):
    with np.errstate(over=mode):
        try:
            return leaky_relu(x, alpha=1e300)
        except FloatingPointError as exc:
            return "FloatingPointError: " + str(exc)

def many(x, n):
    for _ in range(n):
        sigmoid(x)
    return n
'''


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    (tmp / "two_layer_net.py").write_text(SERVED)
    m = StudentModule("two_layer_net", stage_package("two_layer_net", tmp / "two_layer_net.py", tmp / "pkg"),
                      Limits(test_seconds=60), remote=reference_functions("two_layer_net"))
    yield m
    m.close()


def test_served_calls_give_the_references_values(served):
    ref = reference_functions("two_layer_net")["activations"]
    x = np.random.default_rng(2).normal(size=(3, 4)) * 5
    got = served.values(x)
    expected = [ref["sigmoid"](x), ref["sigmoid_backward"](x, x), ref["leaky_relu"](x, alpha=0.2),
                ref["leaky_relu"](x, 0.3), ref["tanh"](x[0, 0]), ref["sigmoid"](float(x[0, 0])),
                ref["sigmoid"]([1.0, -2.0]), ref["sigmoid"](x.T), ref["sigmoid"](np.float32(2.0))]
    for g, e in zip(got, expected):
        assert type(g) is type(e) and np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(g, e)


def test_served_errors_are_the_references_exceptions(served):
    x = np.ones((3, 4))
    ref = reference_functions("two_layer_net")["activations"]
    expected = []
    for f in (lambda: ref["sigmoid_backward"](x, x[:2]), lambda: ref["sigmoid"](x, 3),
              lambda: ref["sigmoid"](), lambda: ref["leaky_relu"](x, beta=1.0)):
        try:
            f()
            expected.append(None)
        except Exception as exc:
            expected.append([type(exc).__name__, str(exc)[:300]])
    assert served.errors(x) == expected


def test_served_calls_run_under_the_callers_errstate(served):
    x = np.full(3, 1e300)
    assert served.overflow(x, "raise").startswith("FloatingPointError: overflow")
    with np.errstate(over="raise"):                    # the judge's own state does not leak into the call
        np.testing.assert_array_equal(served.overflow(x, "ignore"), x)


def test_the_judge_counts_every_served_call(served):
    value = served.call("many", np.zeros(2), 250)
    assert value == 250 and served.remote_calls["activations.sigmoid"] == 250


FORGER = '''
import os, struct, sys

def attack(case):
    """Write a compact frame straight to the judge's pipe, then spin."""
    head = struct.pack("<6B", 1, 0, 1, 0, 11, 7) + b"activationssigmoid"
    body = {"overflow": head + struct.pack("<3B3q", 6, 11, 3, 2 ** 32, 2 ** 32, 2 ** 32),
            "truncated": head + struct.pack("<3B1q", 6, 11, 1, 1000) + bytes(8),
            "bad dtype": head + struct.pack("<3B1q", 6, 99, 1, 1) + bytes(8),
            # a list in a list ... 10,000 deep, and a list that claims 255 items after one of 255
            "nested": head + b"\\x08\\x01" * 10000 + b"\\x00",
            "too many values": struct.pack("<6B", 1, 0, 2, 0, 11, 7) + b"activationssigmoid"
                               + b"\\x08\\xff" + b"\\x00" * 255 + b"\\x08\\xff" + b"\\x00" * 255}.get(case)
    size = (1 << 40) if body is None else len(body)
    fds = sys.argv[sys.argv.index("--fds") + 1]
    os.write(int(fds.split(",")[1]), b"MLPF" + size.to_bytes(8, "big") + (body or b""))
    while True:
        pass

def fine(x):
    return x
'''


@pytest.mark.parametrize("case", ["overflow", "truncated", "bad dtype", "huge", "nested", "too many values"])
def test_a_worker_that_forges_compact_frames_fails_its_own_call_only(tmp_path, case):
    from grader.sandbox.client import BadReturn
    (tmp_path / "activations.py").write_text(FORGER)
    m = StudentModule("activations", stage_package("activations", tmp_path / "activations.py", tmp_path / "pkg"),
                      Limits(test_seconds=60))
    try:
        with pytest.raises(BadReturn, match="cannot be checked"):
            m.attack(case)
        assert m.fine(2.5) == 2.5                     # a fresh worker; the judge lived on
    finally:
        m.close()


@pytest.mark.parametrize("frame", ["compact", "general"])
def test_an_oversized_callback_is_read_and_dropped_without_holding_it(pipe, frame):
    """A callback larger than `callback_bytes` (the judge's cap on a served call: 64 MiB of int8 here) comes
    back as {"oversize": its size} with its names, its bytes never held in memory, and the frame after it
    arrives intact."""
    worker, judge = pipe
    big = np.ones(64 << 20, dtype=np.int8)
    follow = np.arange(3.0)
    # (the general frame is packed here, before memory is traced: packing it copies the array)
    packed = None if frame == "compact" else memoryview(protocol.pack(
        {"kind": "callback", "module": "activations", "fn": "sigmoid", "args": [big], "kwargs": {}}))

    def send():
        if packed is None:
            assert worker.send_callback("activations", "sigmoid", (big,), {})
        else:
            worker._write(packed, None)
        assert worker.send_callback("activations", "relu", (follow,), {})

    writer = threading.Thread(target=send)
    writer.start()
    tracemalloc.start()
    try:
        got = judge.recv(deadline=deadline(60), callback_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = judge.recv(deadline=deadline(60), callback_bytes=1 << 20)
    writer.join(timeout=60)
    assert got["module"] == "activations" and got["fn"] == "sigmoid" and got["oversize"] >= big.nbytes, got
    assert "args" not in got
    assert peak < 4 << 20, peak                     # 64 MiB went by; at most a few buffers' worth was held
    assert after["fn"] == "relu" and after["args"][0].tolist() == [0.0, 1.0, 2.0]


# -- a served call's large arrays, in shared memory ------------------------------------------------
AREA = 4 << 20             # a small served area, in anonymous shared memory, for the channel-level tests


@pytest.fixture
def area():
    import mmap
    buf = mmap.mmap(-1, 2 * AREA)
    yield buf, AREA, 2 * AREA          # the area is the second half: the first stands for the call's arguments
    buf.close()


def test_large_arrays_travel_in_shared_memory_both_ways_and_arrive_as_copies(pipe, area):
    worker, judge = pipe
    buf, start, end = area
    rng = np.random.default_rng(3)
    params = {"W1": rng.normal(size=(256, 200)), "b1": rng.normal(size=256), "W2": rng.normal(size=(10, 256)),
              "b2": np.zeros(10)}
    x = rng.normal(size=(64, 200)).astype(">f8")          # big-endian: it arrives as the same numbers
    placer = protocol.AreaPlacer(buf, start, end)
    worker.send({"kind": "callback", "module": "mlp", "fn": "forward", "args": [params, x], "kwargs": {}},
                place_array=placer, shared=placer.shared)
    # W1 and x (400 KB, 100 KB) went to shared memory; the small ones stayed in the frame
    assert [s[2] for s in placer.placed] == [[256, 200], [64, 200]] and all(s[0] >= start for s in placer.placed)
    reader = protocol.AreaReader(buf, start, end, budget=AREA)
    got = judge.recv(deadline=deadline(), resolve_shared=reader, callback_bytes=AREA)
    sent_w1 = params["W1"].copy()
    buf[start:end] = bytes(AREA)                          # the worker rewrites the area once the frame is read
    same(got["args"][0]["W1"], sent_w1)
    same(got["args"][0]["b2"], params["b2"])
    np.testing.assert_array_equal(got["args"][1], x)
    # the reply: a large value (1 MiB or more, inside containers too) goes in a general frame, its arrays in
    # the area, and arrives as a copy
    value = (rng.normal(size=(520, 256)), [(x.astype("<f8"), rng.normal(size=(64, 10)))])
    judge.send_reply({"op": "callback_reply", "kind": "ok", "value": value}, deadline=deadline(),
                     place_array=protocol.AreaPlacer(buf, start, end))
    back = worker.recv(resolve_shared=protocol.AreaReader(buf, start, end, budget=AREA))
    buf[start:end] = bytes(AREA)
    same(back["value"][0], value[0])
    same(back["value"][1][0][0], value[1][0][0])
    assert back["value"][0].base is None and back["value"][0].flags.writeable
    # a single large array skips the compact reply for the area; a small one keeps it
    for n, compact in ((1 << 17, False), (1000, True)):
        big = rng.normal(size=n)
        placer = protocol.AreaPlacer(buf, start, end)
        judge.send_reply({"op": "callback_reply", "kind": "ok", "value": big}, deadline=deadline(),
                         place_array=placer)
        same(worker.recv(resolve_shared=protocol.AreaReader(buf, start, end, budget=AREA))["value"], big)
        assert (placer.placed == []) == compact


@pytest.mark.parametrize("spec", [[-64, "<f8", [8]], [0, "<f8", [8]], [2 * AREA - 8, "<f8", [2]],
                                  [AREA, "|O", [8]], [AREA, "|V8", [8]], [AREA, "<f8", [-1]],
                                  [AREA, "<f8", [1] * 40], [float(AREA), "<f8", [8]], [AREA, "<f8"], "x",
                                  [AREA, "<f8", [1 << 62, 1 << 62]], [AREA, "<U4", [2]], [True, "<f8", [2]]])
def test_a_shared_array_outside_its_area_or_malformed_is_refused(area, spec):
    buf, start, end = area
    with pytest.raises(protocol.ProtocolError):
        protocol.AreaReader(buf, start, end, budget=AREA)(spec, 0)


def test_a_shared_array_named_many_times_is_copied_once_and_within_the_budget(area):
    buf, start, end = area
    reader = protocol.AreaReader(buf, start, end, budget=AREA // 2)
    spec = [start, "<f8", [AREA // 32]]                   # a quarter of the area
    first = reader(spec, 0)
    assert all(reader(spec, 0) is first for _ in range(1000)) and reader.used == AREA // 4
    reader([start + 64, "<f8", [AREA // 32]], 1)           # a second array: half the area in all
    with pytest.raises(protocol.ProtocolError, match="too large"):
        reader([start, "<f8", [8]], 2)
    with pytest.raises(protocol.ProtocolError):            # {"M": i} alone means nothing to the worker
        reader(0)
    assert protocol.AreaReader(buf, start, end, AREA, plain=lambda i: ("plain", i))(3) == ("plain", 3)


def test_a_callback_over_the_cap_by_its_shared_arrays_is_refused_unread(pipe, area):
    worker, judge = pipe
    buf, start, end = area
    worker.send({"kind": "callback", "module": "activations", "fn": "sigmoid", "args": [{"M": 0}], "kwargs": {},
                 "_arrays": [], "_shared": [[start, "<f8", [1 << 40]]]})
    got = judge.recv(deadline=deadline(), resolve_shared=protocol.AreaReader(buf, start, end, AREA),
                     callback_bytes=1 << 20)
    assert got == {"kind": "callback", "module": "activations", "fn": "sigmoid", "oversize": 8 << 40}
    worker.send({"kind": "callback", "module": "activations", "fn": "sigmoid", "args": [], "kwargs": {},
                 "_arrays": [], "_shared": [[start, "<f8", "x"]]})
    with pytest.raises(protocol.ProtocolError):
        judge.recv(deadline=deadline(), callback_bytes=1 << 20)


LARGE = '''
import numpy as np
from .activations import sigmoid, leaky_relu

def large(x):
    return [sigmoid(x), leaky_relu(x, alpha=0.2), sigmoid(x[:10])]
'''


def test_large_served_calls_give_the_references_values_through_the_arena(tmp_path):
    (tmp_path / "two_layer_net.py").write_text(LARGE)
    m = StudentModule("two_layer_net", stage_package("two_layer_net", tmp_path / "two_layer_net.py", tmp_path / "pkg"),
                      Limits(test_seconds=60), remote=reference_functions("two_layer_net"))
    try:
        ref = reference_functions("two_layer_net")["activations"]
        x = np.random.default_rng(4).normal(size=(512, 300)) * 5     # 1.2 MB: past SERVED_COMPACT_BYTES
        got = m.large(x)
        for g, e in zip(got, [ref["sigmoid"](x), ref["leaky_relu"](x, alpha=0.2), ref["sigmoid"](x[:10])]):
            same(g, e)
        arena = m.worker.arena
        last_reply = np.ndarray(x.shape, dtype=np.float64, buffer=arena.map, offset=arena.served)
        same(last_reply.copy(), ref["leaky_relu"](x, alpha=0.2))   # the last large reply went through the area
        assert m.remote_calls["activations.sigmoid"] == 2
    finally:
        m.close()


# the hostile catalog's forger (its _forge writes a frame for activations.sigmoid and reads the judge's error reply)
SHARED_FORGER = (Path(__file__).resolve().parent / "hostile" / "code" / "served_frame_forgery.py").read_text() + '''

def attack(case):
    fd, start, end = _area()
    big = _np.ones((4 << 20) - (1 << 16))                 # just under the cap on a served call
    if case == "aliased in the frame":
        return list(_forge([{"L": [{"A": 0}] * 20}], arrays=[big]))
    if case == "aliased in shared memory":
        _mmap.mmap(fd, 0)[start:start + big.nbytes] = big.tobytes()
        return list(_forge([{"L": [{"M": 0}] * 20}], shared=[[start, "<f8", list(big.shape)]]))
    if case == "over the cap":
        return list(_forge([{"M": 0}], shared=[[start, "<f8", [5 << 20]]]))
    if case == "outside the area":
        return _forge([{"M": 0}], shared=[[0, "<f8", [8]]])
    if case == "past the end":
        return _forge([{"M": 0}], shared=[[end - 64, "<f8", [100]]])

def fine(x):
    return x
'''


@pytest.mark.parametrize("case, expected", [
    ("aliased in the frame", "for at most 4,194,304 numbers per call; this call passed 82,575,360"),
    ("aliased in shared memory", "for at most 4,194,304 numbers per call; this call passed 82,575,360"),
    ("over the cap", "for at most 33 MiB of arguments per call; this call passed 40 MiB"),
    ("outside the area", None), ("past the end", None)])
def test_a_worker_that_forges_a_served_calls_arrays_gets_a_refusal_or_fails_its_own_call(tmp_path, case, expected):
    """One array named 20 times (in the frame or in the shared area) is 20 arrays to the reference: the
    judge's cap on a served call counts every one (it would have held 660 MB). An array outside the
    served area is a malformed frame: the call fails and a fresh worker takes the next one."""
    from grader.sandbox.client import BadReturn
    (tmp_path / "two_layer_net.py").write_text(SHARED_FORGER)
    m = StudentModule("two_layer_net", stage_package("two_layer_net", tmp_path / "two_layer_net.py", tmp_path / "pkg"),
                      Limits(test_seconds=60), remote=reference_functions("two_layer_net"))
    try:
        if expected is None:
            with pytest.raises(BadReturn, match="cannot be checked"):
                m.attack(case)
        else:
            kind, message = m.attack(case)
            assert kind == "ValueError" and expected in message, (kind, message)
        assert m.fine(2.5) == 2.5
    finally:
        m.close()
