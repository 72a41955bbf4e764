"""Wire format between the judge (trusted) and the worker (runs student code).

No pickle: unpickling data from the worker would let student code run inside
the judge. A frame is

    b"MLPK" | 8-byte big-endian header length | JSON header | raw array bytes

The JSON header holds a tagged tree (``{"A": 0}`` is array 0, ``{"T": [...]}``
a tuple, ``{"H": 3}`` an opaque handle to an object kept in the worker, ...)
and the dtype and shape of every array. Decoding checks sizes, dtypes and
depth, so a malformed or hostile frame raises ProtocolError and nothing else.

This file must stay self-contained (standard library and numpy only): the
worker imports it by path inside the sandbox.
"""
import json
import math
import os
import select
import time

import numpy as np

MAGIC = b"MLPK"
MAX_HEADER = 64 << 20        # bytes of JSON
MAX_REPLY_HEADER = 16 << 20  # ... in a frame from the worker
MAX_PAYLOAD = 2 << 30        # bytes of array data in one frame (judge -> worker: the MNIST set)
MAX_REPLY = 256 << 20        # ... in one reply from the worker (the judge's memory is not theirs)
MAX_NODES = 200_000
MAX_CONTAINERS = 4 * MAX_NODES + 1000   # JSON objects and arrays in one header, counted before parsing
MAX_DEPTH = 64
MAX_STR = 100_000
MAX_INT = 2 ** 63            # integers travel as int64 values: a bigger one is not a number to check
ALLOWED_KINDS = "biufc"      # bool, int, uint, float, complex: never object or void

# The judge's memory per reply from a worker is bounded by: the raw header (MAX_REPLY_HEADER), its
# parsed JSON (at most MAX_CONTAINERS objects and lists, checked on the raw bytes before parsing, plus
# the strings, which the raw header bounds), and the array bytes (MAX_REPLY): about 0.5 GiB at worst.


class ProtocolError(Exception):
    """A frame was malformed, too large, or the peer went away."""


class Handle:
    """An object that stays in the worker; only its id and type travel."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name="object"):
        self.id = int(id)
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<{self.type_name} kept in your process>"


class RemoteTuple(tuple):
    """A tuple subclass of the student's (a namedtuple) as the judge sees it: its items, to check,
    and the handle of the original, so that passing it back (a cache to backward) hands the
    student's code its own object, attributes and all."""
    handle = None


class RemoteDict(dict):
    """A dict subclass of the student's (OrderedDict, defaultdict, an attribute dict), likewise.
    It goes back as the original only while the judge has not changed its entries."""
    handle = None
    entries = ()


def _entries(d):
    return tuple((k, id(v)) for k, v in dict.items(d))


class SharedRef:
    """{"M": i} in a message from the worker: argument array i of the call's shared memory, handed
    back as the call left it (the judge reads it from the shared memory itself)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = int(index)

    def __repr__(self):
        return f"SharedRef({self.index})"


def encode(value, store_handle=None, place_array=None, known=None):
    """Encode `value` into (tree, arrays). Unknown objects become handles via
    `store_handle(obj) -> id`; without it they raise TypeError. With
    `place_array(array) -> index or None`, arrays go to shared memory ({"M": index}).
    With `known(obj) -> node or None`, an object the peer already has (an argument it sent)
    goes back as that node instead of its contents."""
    arrays = []

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise TypeError("nested too deeply")
        if known is not None and not isinstance(v, (bool, int, float, str, type(None))):
            node = known(v)
            if node is not None:
                return node
        if v is None:
            return {"N": 0}
        if type(v) is bool:
            return {"B": v}
        if isinstance(v, int) and type(v) is int:
            return {"I": v}
        if isinstance(v, float) and type(v) is float:
            return {"F": v}
        if isinstance(v, str) and type(v) is str:
            return {"S": v[:MAX_STR]}
        if isinstance(v, np.ndarray) and v.dtype.kind in ALLOWED_KINDS:
            if place_array is not None:
                index = place_array(v)
                if index is not None:
                    return {"M": index}
            arrays.append(v if type(v) is np.ndarray else v.view(np.ndarray))   # np.matrix and kin
            return {"A": len(arrays) - 1}
        if isinstance(v, np.generic) and v.dtype.kind in ALLOWED_KINDS:
            arrays.append(np.asarray(v))
            return {"G": len(arrays) - 1}
        if isinstance(v, Handle):
            return {"H": v.id}
        if isinstance(v, RemoteTuple) and v.handle is not None:
            return {"H": v.handle.id}
        if isinstance(v, RemoteDict) and v.handle is not None and _entries(v) == v.entries:
            return {"H": v.handle.id}
        # Subclasses (a namedtuple, an OrderedDict, a defaultdict) are what the contract asks for
        # too: they travel as the plain type, read through the base class's own methods.
        if isinstance(v, tuple):
            node = {"T": [enc(x, depth + 1) for x in tuple.__iter__(v)]}
        elif isinstance(v, list):
            node = {"L": [enc(x, depth + 1) for x in list.__iter__(v)]}
        elif isinstance(v, dict) and all(isinstance(k, str) for k in dict.keys(v)):
            node = {"D": [[str.__str__(k), enc(x, depth + 1)] for k, x in dict.items(v)]}
        else:
            node = None
        if node is not None:
            if type(v) in (tuple, list, dict) or store_handle is None or isinstance(v, list):
                return node
            node["H"] = store_handle(v)          # a subclass: its items, and the original kept here
            return node
        if store_handle is None:
            raise TypeError(f"cannot send {type(v).__name__}")
        return {"H": store_handle(v), "type": type(v).__name__}

    return enc(value, 0), arrays


def decode(tree, arrays, resolve_handle=None, resolve_shared=None):
    """Inverse of encode. Handles become Handle objects, or whatever
    `resolve_handle(id)` returns; {"M": i} (an array the judge placed in shared
    memory) becomes `resolve_shared(i)`."""
    count = [0]

    def dec(node, depth):
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH:
            raise ProtocolError("value too large or nested too deeply")
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise ProtocolError("malformed value")
        (tag, body), = list(node.items())[:1]
        if tag in ("T", "D") and len(node) == 2:          # a subclass: items plus the original's handle
            handle = node.get("H")
            if not isinstance(handle, int) or isinstance(handle, bool):
                raise ProtocolError("malformed value")
            if resolve_handle is not None:
                return resolve_handle(handle)
            plain = dec({tag: body}, depth)
            out = RemoteTuple(plain) if tag == "T" else RemoteDict(plain)
            out.handle = Handle(handle, "tuple" if tag == "T" else "dict")
            if tag == "D":
                out.entries = _entries(out)
            return out
        if tag == "N":
            return None
        if tag == "B" and isinstance(body, bool):
            return body
        if tag == "I" and isinstance(body, int) and not isinstance(body, bool):
            if not -MAX_INT <= body < MAX_INT:
                raise ProtocolError("an integer too large to be a number (beyond 64 bits)")
            return body
        if tag == "F" and isinstance(body, (int, float)) and not isinstance(body, bool):
            return float(body)
        if tag == "S" and isinstance(body, str):
            return body[:MAX_STR]
        if tag in ("A", "G") and isinstance(body, int) and 0 <= body < len(arrays):
            return arrays[body] if tag == "A" else arrays[body][()]
        if tag == "M" and isinstance(body, int) and resolve_shared is not None:
            return resolve_shared(body)
        if tag == "H" and isinstance(body, int):
            if resolve_handle is not None:
                return resolve_handle(body)
            return Handle(body, node.get("type", "object"))
        if tag in ("T", "L") and isinstance(body, list):
            items = [dec(x, depth + 1) for x in body]
            return tuple(items) if tag == "T" else items
        if tag == "D" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ProtocolError("malformed dict")
                out[pair[0][:MAX_STR]] = dec(pair[1], depth + 1)
            return out
        raise ProtocolError(f"unknown or malformed tag {str(tag)[:10]!r}")

    return dec(tree, 0)


def pack(message, store_handle=None, place_array=None, shared=None, known=None):
    """Serialise a message dict. Values under "value" and "args"/"kwargs" may
    hold arrays; the rest must be plain JSON. `place_array` (args and kwargs
    only) puts arrays in shared memory; `shared()`, called once they are placed,
    gives "_shared", the list of [offset, dtype, shape] that {"M": i} indexes.
    `known` (args and kwargs only): see encode."""
    arrays = []
    body = dict(message)
    for key in ("value", "args", "kwargs"):
        if key in body:
            tree, arrs = encode(body[key], store_handle, place_array if key != "value" else None,
                                known if key != "value" else None)
            # re-number arrays so several keys share one list
            offset = len(arrays)
            body[key] = _shift(tree, offset)
            arrays.extend(arrs)
    meta = []
    chunks = []
    for a in arrays:
        if not a.flags.c_contiguous:
            a = a.copy(order="C")      # (np.ascontiguousarray would turn 0-d into 1-d)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        meta.append([a.dtype.str, list(a.shape)])
        chunks.append(a.tobytes())
    body["_arrays"] = meta
    if shared is not None:
        body["_shared"] = shared()
    header = json.dumps(body, allow_nan=True, separators=(",", ":")).encode()
    return b"".join([MAGIC, len(header).to_bytes(8, "big"), header] + chunks)


def _shift(tree, offset):
    if not offset:
        return tree
    if isinstance(tree, dict):
        if set(tree) <= {"A", "G"} and len(tree) == 1:
            (k, v), = tree.items()
            return {k: v + offset}
        return {k: _shift(v, offset) if k != "type" else v for k, v in tree.items()}
    if isinstance(tree, list):
        return [_shift(x, offset) for x in tree]
    return tree


def unpack_header(raw, max_payload=MAX_PAYLOAD):
    # Count containers on the raw bytes first: 63 MB of "{}" would parse into 7 million dicts (2 GB).
    if raw.count(b"{") + raw.count(b"[") > MAX_CONTAINERS:
        raise ProtocolError("value too large or nested too deeply")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError("malformed header") from None
    if not isinstance(body, dict) or not isinstance(body.get("_arrays"), list):
        raise ProtocolError("malformed header")
    specs = []
    total = 0
    for spec in body["_arrays"]:
        try:
            dtype_str, shape = spec
            dtype = np.dtype(str(dtype_str))
            shape = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            raise ProtocolError("malformed array description") from None
        if dtype.kind not in ALLOWED_KINDS or dtype.itemsize > 32 or dtype.fields is not None:
            raise ProtocolError(f"refused array dtype {dtype.str}")
        if len(shape) > 32 or any(s < 0 for s in shape):
            raise ProtocolError("refused array shape")
        nbytes = math.prod(shape) * dtype.itemsize           # Python integers: no int64 overflow
        total += nbytes
        if total > max_payload:
            raise ProtocolError("arrays too large")
        specs.append((dtype, shape, nbytes))
    return body, specs


def finish(body, specs, payload, resolve_handle=None, resolve_shared=None):
    arrays = []
    pos = 0
    view = memoryview(payload)
    try:
        for dtype, shape, nbytes in specs:
            chunk = view[pos:pos + nbytes]
            pos += nbytes
            arrays.append(np.frombuffer(chunk, dtype=dtype).reshape(shape))
    except (ValueError, TypeError, OverflowError):
        raise ProtocolError("malformed array") from None
    shared = body.pop("_shared", None)
    resolve = None
    if resolve_shared is not None and shared is None:
        def resolve(i):                 # {"M": i} without "_shared": the receiver's own index
            if not (isinstance(i, int) and 0 <= i < MAX_NODES):
                raise ProtocolError("malformed shared array")
            return resolve_shared(i)
    elif resolve_shared is not None:
        if not isinstance(shared, list):
            raise ProtocolError("malformed shared array")

        def resolve(i):
            if not (isinstance(i, int) and 0 <= i < len(shared)):
                raise ProtocolError("malformed shared array")
            return resolve_shared(shared[i], i)
    for key in ("value", "args", "kwargs"):
        if key in body:
            body[key] = decode(body[key], arrays, resolve_handle, resolve)
    del body["_arrays"]
    return body


class Channel:
    """Framed messages over a pair of file descriptors, with deadlines."""

    def __init__(self, read_fd, write_fd, max_payload=MAX_PAYLOAD, max_header=MAX_HEADER):
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.max_payload = max_payload
        self.max_header = max_header

    def send(self, message, deadline=None, store_handle=None, place_array=None, shared=None, known=None):
        data = memoryview(pack(message, store_handle, place_array, shared, known))
        while data:
            self._wait(self.write_fd, "w", deadline)
            try:
                n = os.write(self.write_fd, data[:1 << 20])
            except (BrokenPipeError, OSError) as exc:
                raise ProtocolError(f"peer closed the channel ({exc.__class__.__name__})") from None
            data = data[n:]

    def readable(self, timeout):
        """Is there something to read (waiting at most `timeout` seconds)?"""
        r, _, _ = select.select([self.read_fd], [], [], max(0.0, timeout))
        return bool(r)

    def recv(self, deadline=None, resolve_handle=None, resolve_shared=None):
        head = self._read(12, deadline)
        if head[:4] != MAGIC:
            raise ProtocolError("bad frame start")
        size = int.from_bytes(head[4:], "big")
        if size > self.max_header:
            raise ProtocolError("header too large")
        body, specs = unpack_header(bytes(self._read(size, deadline)), self.max_payload)
        payload = self._read(sum(s[2] for s in specs), deadline)
        return finish(body, specs, payload, resolve_handle, resolve_shared)

    def _read(self, n, deadline):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            self._wait(self.read_fd, "r", deadline)
            try:
                k = os.readv(self.read_fd, [view[got:got + (4 << 20)]])
            except OSError as exc:
                raise ProtocolError(f"read failed ({exc.__class__.__name__})") from None
            if k == 0:
                raise ProtocolError("peer closed the channel")
            got += k
        return buf

    @staticmethod
    def _wait(fd, mode, deadline):
        if deadline is None:
            return
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, w, _ = select.select([fd] if mode == "r" else [], [fd] if mode == "w" else [], [], left)
            if r or w:
                return
