"""Wire format between the judge (trusted) and the worker (runs student code).

No pickle: unpickling data from the worker would let student code run inside
the judge. A frame is

    b"MLPK" | 8-byte big-endian header length | JSON header | raw array bytes

The JSON header holds a tagged tree (``{"A": 0}`` is array 0, ``{"T": [...]}``
a tuple, ``{"H": 3}`` an opaque handle to an object kept in the worker, ...)
and the dtype and shape of every array. Decoding checks sizes, dtypes and
depth, so a malformed or hostile frame raises ProtocolError and nothing else.

A stub call from the worker (a served function: numeric arrays and scalars
in, one array or scalar or an error out) travels in a compact frame instead,
with no JSON (see "The compact frame" below); anything else falls back to the
general one. Both start with a magic and an 8-byte length, and one Channel
reads either.

This file must stay self-contained (standard library and numpy only): the
worker imports it by path inside the sandbox.
"""
import json
import math
import os
import select
import struct
import time
import types

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
    hold arrays; the rest must be plain JSON. `place_array` puts arrays in
    shared memory (or leaves them in the frame); `shared()`, called once they are placed,
    gives "_shared", the list of [offset, dtype, shape] that {"M": i} indexes.
    `known` (args and kwargs only): see encode."""
    arrays = []
    body = dict(message)
    for key in ("value", "args", "kwargs"):
        if key in body:
            tree, arrs = encode(body[key], store_handle, place_array, known if key != "value" else None)
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


# -- The compact frame ----------------------------------------------------------------------------
#
# A served call's round trip, in two frames with no JSON:
#
#     b"MLPF" | 8-byte big-endian length of the rest | body          (all numbers little-endian)
#
#     callback (worker -> judge): u8 1 | u8 errstate | u8 nargs | u8 nkwargs | u8 len(module) | u8 len(fn)
#                                 | module | fn | nargs items | nkwargs times (u8 len(key) | key | item)
#     reply, a value:             u8 2 | item
#     reply, an error:            u8 3 | u8 len(type) | u16 len(message) | type | message      (UTF-8)
#
#     item: u8 tag, then  None, False, True: nothing | int: i64 | float: f64
#                         numpy scalar: u8 dtype code | its bytes
#                         array: u8 dtype code | u8 ndim | ndim x i64 | its bytes (C order)
#                         tuple, list: u8 count | count items
#                         dict: u8 count | count times (u8 len(key) | key | item)
#
# The errstate byte holds numpy's mode for divide, over, under and invalid, 2 bits each (ignore 0,
# warn 1, raise 2, and 3 for call, print and log, which the judge runs as ignore). Only exact types
# travel here (an ndarray, not a subclass; a float, not np.float64, which is a numpy scalar; a dict
# with str keys, not an OrderedDict; a tuple, not a namedtuple), with a dtype of the table below in
# little-endian order, containers at most FAST_MAX_DEPTH deep and holding at most FAST_MAX_VALUES
# items in all; anything else, or more than FAST_MAX_ITEMS arguments, goes in the general frame.
# The containers are what the networks' served calls pass and return: a parameter dict, a forward
# pass's (output, cache), a dict of gradients (in the general frame, a two-layer net's served
# backward cost the judge 0.3 ms a round trip in JSON alone). The reader checks every length against
# the frame before it slices, the frame's length against the channel's bounds before it allocates,
# each array's size (Python integers, no overflow) against the bytes that are there, and the depth
# and count of containers against the same bounds: a malformed frame raises ProtocolError. The
# judge's memory per frame: its reading buffer (BUFFER_BYTES, allocated once) or, for a larger
# frame, the frame itself (at most max_payload + FAST_MAX_HEAD), plus the arrays copied out of the
# buffer (no more than the frame) and at most 2 x 255 + FAST_MAX_VALUES small Python values.

FAST_MAGIC = b"MLPF"
FAST_CALLBACK, FAST_OK, FAST_ERROR = 1, 2, 3
FAST_MAX_ITEMS = 32            # arguments (positional and keyword) of a callback in a compact frame
FAST_MAX_NDIM = 32
FAST_MAX_HEAD = 1 << 20        # bytes of a compact frame besides its arrays' data (at most ~140 kB)
BUFFER_BYTES = 256 << 10       # a channel's reading buffer: a frame up to this size arrives in one read
FAST_MAX_DEPTH = 4             # containers within containers of a compact frame's item
FAST_MAX_VALUES = 255          # items of a compact frame's containers, all together
_T_NONE, _T_FALSE, _T_TRUE, _T_INT, _T_FLOAT, _T_SCALAR, _T_ARRAY, _T_TUPLE, _T_LIST, _T_DICT = range(10)
_PREFIX = struct.Struct(">4sQ")
_CALL_HEAD = struct.Struct("<6B")
_ERROR_HEAD = struct.Struct("<BBH")
_INT = struct.Struct("<Bq")
_FLOAT = struct.Struct("<Bd")
_ARRAY_HEAD = tuple(struct.Struct(f"<3B{n}q") for n in range(FAST_MAX_NDIM + 1))
_SHAPE = tuple(struct.Struct(f"<{n}q") for n in range(FAST_MAX_NDIM + 1))
_NONE, _FALSE, _TRUE = bytes((_T_NONE,)), bytes((_T_FALSE,)), bytes((_T_TRUE,))
_OK = bytes((FAST_OK,))


def _fast_dtypes():
    """(dtype by code, code by dtype, code by numpy scalar type). A code is an index into a fixed list,
    the same in the judge and the worker; a type this platform lacks (float128) keeps its index."""
    names = ("|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8",
             "<f2", "<f4", "<f8", "<f16", "<c8", "<c16", "<c32")
    by_code = [None] * 256
    for code, name in enumerate(names):
        try:
            dtype = np.dtype(name)
        except TypeError:
            continue
        if dtype.kind in ALLOWED_KINDS and dtype.str == name and dtype.isnative:
            by_code[code] = dtype
    codes, scalars = {}, {}
    for char in np.typecodes["All"]:
        dtype = np.dtype(char)
        for code, known in enumerate(by_code):
            if known is not None and dtype == known:
                codes[dtype] = code
                codes[known] = code
                scalars[dtype.type] = code
    return tuple(by_code), codes, scalars


_DTYPES, _DTYPE_CODES, _SCALAR_CODES = _fast_dtypes()


# numpy's error state as one byte. Reading it (np.geterr) costs more than the rest of a call's
# encoding, so it is read again only when this thread's state object (numpy 2's context variable:
# a new object for each change) is not the one last seen.
_ERR_KEYS = ("divide", "over", "under", "invalid")
_ERR_MODES = {"ignore": 0, "warn": 1, "raise": 2}
_ERR_NAMES = ("ignore", "warn", "raise", "ignore")        # call, print and log run as ignore
_ERR_KWARGS = tuple(types.MappingProxyType({k: _ERR_NAMES[(c >> 2 * i) & 3] for i, k in enumerate(_ERR_KEYS)})
                    for c in range(256))
_ERR_RUN = tuple(sum(((c >> 2 * i) & 3) % 3 << 2 * i for i in range(4)) for c in range(256))


def _errstate_variable():
    try:
        from numpy._core.umath import _extobj_contextvar as variable
        before = variable.get()
        with np.errstate(divide="raise" if np.geterr()["divide"] != "raise" else "ignore"):
            changed = variable.get() is not before
        return variable if changed and variable.get() is before else None
    except Exception:            # noqa: BLE001 -- another numpy: read the state each time
        return None


_ERR_VARIABLE = _errstate_variable()
_ERR_SEEN = [(None, None)]       # (state object, its code): replaced whole, never changed in place


def errstate_code():
    """This thread's numpy error state as the compact frame's byte."""
    variable = _ERR_VARIABLE
    if variable is not None:
        state = variable.get()
        seen = _ERR_SEEN[0]
        if seen[0] is state:
            return seen[1]
    modes = np.geterr()
    code = 0
    for i, key in enumerate(_ERR_KEYS):
        code |= _ERR_MODES.get(modes.get(key), 3) << (2 * i)
    if variable is not None:
        _ERR_SEEN[0] = (state, code)
    return code


def callback_errstate(requested):
    """The numpy error state a callback asks for, as keyword arguments of np.errstate, or None when it
    is this thread's state already. `requested`: the compact frame's byte, or the general frame's dict
    (only the four errors and numpy's modes are taken; call, print and log run as ignore)."""
    if type(requested) is int and 0 <= requested < 256:
        if _ERR_RUN[requested] == errstate_code():
            return None
        return _ERR_KWARGS[requested]
    if not isinstance(requested, dict):
        return {}
    state = {k: v for k, v in requested.items() if k in _ERR_KEYS
             and v in ("ignore", "warn", "raise", "call", "print", "log")}
    return {k: ("ignore" if v in ("call", "print", "log") else v) for k, v in state.items()}


def _pack_item(value, out, room=None, depth=0):
    """Append the pieces of `value` to `out`; their length, or -1 if it needs the general frame.
    `room`: [how many more container items the frame may hold] (a list, shared by the whole frame)."""
    kind = type(value)
    if kind is np.ndarray:
        code = _DTYPE_CODES.get(value.dtype)
        shape = value.shape
        if code is None or len(shape) > FAST_MAX_NDIM:
            return -1
        if not value.flags.c_contiguous:
            value = value.copy(order="C")
        head = _ARRAY_HEAD[len(shape)].pack(_T_ARRAY, code, len(shape), *shape)
        out.append(head)
        if value.nbytes:
            out.append(value)
        return len(head) + value.nbytes
    if kind is float:
        out.append(_FLOAT.pack(_T_FLOAT, value))
        return 9
    if kind is int:
        if -MAX_INT <= value < MAX_INT:
            out.append(_INT.pack(_T_INT, value))
            return 9
        return -1
    if kind is bool:
        out.append(_TRUE if value else _FALSE)
        return 1
    if value is None:
        out.append(_NONE)
        return 1
    if kind is tuple or kind is list or kind is dict:
        return _pack_container(value, kind, out, [FAST_MAX_VALUES] if room is None else room, depth)
    code = _SCALAR_CODES.get(kind)
    if code is None:
        return -1
    piece = bytes((_T_SCALAR, code)) + value.tobytes()
    out.append(piece)
    return len(piece)


def _pack_container(value, kind, out, room, depth):
    """_pack_item for an exact tuple, list or dict (str keys of at most 255 bytes)."""
    count = len(value)
    if depth >= FAST_MAX_DEPTH or count > room[0]:
        return -1
    room[0] -= count
    out.append(bytes((_T_TUPLE if kind is tuple else _T_LIST if kind is list else _T_DICT, count)))
    total = 2
    if kind is dict:
        for key, item in dict.items(value):
            if type(key) is not str:
                return -1
            try:
                raw = key.encode()
            except UnicodeEncodeError:
                return -1
            if len(raw) > 255:
                return -1
            out.append(bytes((len(raw),)) + raw)
            n = _pack_item(item, out, room, depth + 1)
            if n < 0:
                return -1
            total += 1 + len(raw) + n
    else:
        for item in value:
            n = _pack_item(item, out, room, depth + 1)
            if n < 0:
                return -1
            total += n
    return total


_NAMES = {}


def _names(module, fn):
    """The callback frame's module and function names, or None if either is not a short str."""
    key = (module, fn)
    names = _NAMES.get(key)
    if names is None and type(module) is str and type(fn) is str:
        try:
            m, f = module.encode(), fn.encode()
        except UnicodeEncodeError:
            return None
        if len(m) < 256 and len(f) < 256:
            names = _NAMES[key] = (len(m), len(f), m + f)
    return names


def pack_callback(module, fn, args, kwargs, errstate=None):
    """The pieces (bytes and arrays, for one writev) of a compact callback frame, with their total
    length, or None when an argument needs the general frame. `errstate`: default this thread's."""
    names = _names(module, fn)
    if names is None or len(args) + len(kwargs) > FAST_MAX_ITEMS:
        return None
    out = [None, None]
    room = [FAST_MAX_VALUES]
    total = 6 + len(names[2])
    for value in args:
        n = _pack_item(value, out, room)
        if n < 0:
            return None
        total += n
    for key, value in kwargs.items():
        if type(key) is not str:
            return None
        try:
            raw = key.encode()
        except UnicodeEncodeError:
            return None
        if len(raw) > 255:
            return None
        out.append(bytes((len(raw),)) + raw)
        n = _pack_item(value, out, room)
        if n < 0:
            return None
        total += 1 + len(raw) + n
    code = errstate_code() if errstate is None else errstate
    out[0] = _PREFIX.pack(FAST_MAGIC, total)
    out[1] = _CALL_HEAD.pack(FAST_CALLBACK, code, len(args), len(kwargs), names[0], names[1]) + names[2]
    return out, 12 + total


def pack_reply(message):
    """The pieces of a compact callback reply ({"op": "callback_reply", "kind": "ok", "value": v} or
    {..., "kind": "error", "error": {"type": t, "message": m}}) with their total length, or None."""
    if message.get("op") != "callback_reply" or len(message) != 3:
        return None
    kind = message.get("kind")
    if kind == "ok" and "value" in message:
        out = [None, _OK]
        n = _pack_item(message["value"], out)
        if n < 0:
            return None
        out[0] = _PREFIX.pack(FAST_MAGIC, 1 + n)
        return out, 13 + n
    error = message.get("error")
    if kind == "error" and type(error) is dict and len(error) == 2 and type(error.get("type")) is str \
            and type(error.get("message")) is str:
        try:
            etype, text = error["type"].encode(), error["message"].encode()
        except UnicodeEncodeError:
            return None
        if len(etype) > 255 or len(text) > 65535:
            return None
        body = _ERROR_HEAD.pack(FAST_ERROR, len(etype), len(text)) + etype + text
        return [_PREFIX.pack(FAST_MAGIC, len(body)), body], 12 + len(body)
    return None


def _unpack_item(buf, p, end, copy, room=None, depth=0):
    """(value, position after it) of the item at buf[p:end]. `room`: [how many more container items the
    frame may hold], shared by the whole frame."""
    if p >= end:
        raise ProtocolError("truncated compact frame")
    tag = buf[p]
    if tag == _T_ARRAY:
        if p + 3 > end:
            raise ProtocolError("truncated compact frame")
        dtype, ndim = _DTYPES[buf[p + 1]], buf[p + 2]
        if dtype is None:
            raise ProtocolError("refused array dtype")
        if ndim > FAST_MAX_NDIM:
            raise ProtocolError("refused array shape")
        start = p + 3 + 8 * ndim
        if start > end:
            raise ProtocolError("truncated compact frame")
        shape = _SHAPE[ndim].unpack_from(buf, p + 3)
        nbytes = bound = dtype.itemsize
        for s in shape:
            if s < 0:
                raise ProtocolError("refused array shape")
            nbytes *= s
            bound *= s or 1
        if bound > MAX_PAYLOAD:                  # numpy's own limit on the dimensions, zeros or not
            raise ProtocolError("array too large")
        stop = start + nbytes
        if stop > end:
            raise ProtocolError("truncated compact frame (array too large)")
        array = np.ndarray(shape, dtype, buf, start)
        return (array.copy() if copy else array), stop
    if tag == _T_FLOAT:
        if p + 9 > end:
            raise ProtocolError("truncated compact frame")
        return _FLOAT.unpack_from(buf, p)[1], p + 9
    if tag == _T_INT:
        if p + 9 > end:
            raise ProtocolError("truncated compact frame")
        return _INT.unpack_from(buf, p)[1], p + 9
    if tag <= _T_TRUE:
        return (None, False, True)[tag], p + 1
    if tag == _T_SCALAR:
        if p + 2 > end:
            raise ProtocolError("truncated compact frame")
        dtype = _DTYPES[buf[p + 1]]
        if dtype is None:
            raise ProtocolError("refused array dtype")
        stop = p + 2 + dtype.itemsize
        if stop > end:
            raise ProtocolError("truncated compact frame")
        return np.ndarray((), dtype, buf, p + 2)[()], stop
    if _T_TUPLE <= tag <= _T_DICT:
        return _unpack_container(buf, p, end, copy, [FAST_MAX_VALUES] if room is None else room, depth)
    raise ProtocolError("unknown tag in a compact frame")


def _unpack_container(buf, p, end, copy, room, depth):
    """_unpack_item for a tuple, a list or a dict, within the frame's bounds on depth and count."""
    if p + 2 > end:
        raise ProtocolError("truncated compact frame")
    tag, count = buf[p], buf[p + 1]
    if depth >= FAST_MAX_DEPTH or count > room[0]:
        raise ProtocolError("compact frame nested too deeply or too large")
    room[0] -= count
    p += 2
    if tag == _T_DICT:
        out = {}
        for _ in range(count):
            if p >= end:
                raise ProtocolError("truncated compact frame")
            key = _text(buf, p + 1, buf[p], end)
            out[key], p = _unpack_item(buf, p + 1 + buf[p], end, copy, room, depth + 1)
        return out, p
    items = []
    for _ in range(count):
        value, p = _unpack_item(buf, p, end, copy, room, depth + 1)
        items.append(value)
    return (tuple(items) if tag == _T_TUPLE else items), p


def _text(buf, p, n, end):
    if p + n > end:
        raise ProtocolError("truncated compact frame")
    try:
        return buf[p:p + n].decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        raise ProtocolError("malformed text in a compact frame") from None


def _names_at(buf, p, lm, lf, end):
    """(module, fn) at buf[p:]: one decoding for both when they are ASCII."""
    text = _text(buf, p, lm + lf, end)
    if len(text) == lm + lf:
        return text[:lm], text[lm:]
    return _text(buf, p, lm, end), _text(buf, p + lm, lf, end)


def unpack_fast(buf, p, end, copy=True):
    """The message in the compact frame's body buf[p:end]: {"kind": "callback", "module", "fn", "args",
    "kwargs", "errstate" (the byte)} or {"op": "callback_reply", "kind": "ok", "value"} or {...,
    "kind": "error", "error": {"type", "message"}}. Arrays are copied out of `buf` unless `copy` is
    false (a buffer of this frame's own)."""
    try:
        if p >= end:
            raise ProtocolError("truncated compact frame")
        kind = buf[p]
        if kind == FAST_CALLBACK:
            if p + 6 > end:
                raise ProtocolError("truncated compact frame")
            _, errstate, nargs, nkwargs, lm, lf = _CALL_HEAD.unpack_from(buf, p)
            module, fn = _names_at(buf, p + 6, lm, lf, end)
            p += 6 + lm + lf
            args = []
            room = [FAST_MAX_VALUES]
            for _ in range(nargs):
                value, p = _unpack_item(buf, p, end, copy, room)
                args.append(value)
            kwargs = {}
            for _ in range(nkwargs):
                if p >= end:
                    raise ProtocolError("truncated compact frame")
                key = _text(buf, p + 1, buf[p], end)
                kwargs[key], p = _unpack_item(buf, p + 1 + buf[p], end, copy, room)
            message = {"kind": "callback", "module": module, "fn": fn, "args": args, "kwargs": kwargs,
                       "errstate": errstate}
        elif kind == FAST_OK:
            value, p = _unpack_item(buf, p + 1, end, copy)
            message = {"op": "callback_reply", "kind": "ok", "value": value}
        elif kind == FAST_ERROR:
            if p + 4 > end:
                raise ProtocolError("truncated compact frame")
            _, lt, lm = _ERROR_HEAD.unpack_from(buf, p)
            error = {"type": _text(buf, p + 4, lt, end), "message": _text(buf, p + 4 + lt, lm, end)}
            p += 4 + lt + lm
            message = {"op": "callback_reply", "kind": "error", "error": error}
        else:
            raise ProtocolError("unknown compact frame")
    except (struct.error, ValueError, TypeError, IndexError, OverflowError):
        raise ProtocolError("malformed compact frame") from None
    if p != end:
        raise ProtocolError("malformed compact frame (bytes left over)")
    return message


# -- A served call's large arrays, in shared memory -------------------------------------------------
#
# Through a pipe, 2 MB (an MNIST network's parameters, which a served forward receives at every
# minibatch) cost each side 1.6 to 3.5 ms of CPU time here; through shared memory, one copy. The last
# SERVED_AREA_BYTES of the argument arena (the memfd both sides map, grader/sandbox/arena.py) carry a
# served call's large arrays, both ways, in general frames:
#   - the worker places a callback's arrays of SERVED_MIN_BYTES or more there (AreaPlacer), from the
#     area's start, and the frame's "_shared" lists their [offset, dtype, shape];
#   - the judge counts their bytes against its cap on a served call before it reads any (Channel.recv),
#     then copies each one out (AreaReader) before anything uses it: what the worker writes there
#     afterwards, from another thread or process, changes nothing the judge holds;
#   - the judge's reply places its own large arrays there in turn, from the area's start (the
#     callback's arrays were copied out), and the worker copies them out (an ordinary array, never a
#     view of shared memory: nothing tells a served value from any other).
# A callback whose arrays come to less than SERVED_COMPACT_BYTES in all keeps the compact frame.

SERVED_AREA_BYTES = 64 << 20     # at the arena's end: more than the judge's cap on a served call (32 MiB)
SERVED_MIN_BYTES = 64 << 10      # a smaller array stays in the frame
SERVED_COMPACT_BYTES = 1 << 20   # a callback whose arrays are smaller in all keeps the compact frame


def shared_spec(spec):
    """(offset, dtype, shape, nbytes) of a "_shared" entry [offset, dtype, shape]; ProtocolError if it is
    malformed (the sizes are Python integers: no overflow)."""
    try:
        offset, dtype_str, shape = spec
        if type(offset) is not int:
            raise TypeError
        dtype = np.dtype(str(dtype_str)[:16])
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ProtocolError("malformed shared array") from None
    if dtype.kind not in ALLOWED_KINDS or dtype.itemsize > 32 or dtype.fields is not None \
            or len(shape) > FAST_MAX_NDIM or any(s < 0 for s in shape) or offset < 0:
        raise ProtocolError("malformed shared array")
    return offset, dtype, shape, math.prod(shape) * dtype.itemsize


def shared_bytes(shared):
    """The bytes a frame's "_shared" list describes, all together."""
    if shared is None:
        return 0
    if not isinstance(shared, list) or len(shared) > MAX_NODES:
        raise ProtocolError("malformed shared array")
    return sum(shared_spec(spec)[3] for spec in shared)


class AreaPlacer:
    """place_array for a frame whose large arrays go to buffer[start:end]: each array of `min_bytes` or
    more is copied in after the one before (64-byte aligned); one that does not fit, or a smaller one,
    stays in the frame (None). shared() is the frame's "_shared" list."""

    def __init__(self, buffer, start, end, min_bytes=SERVED_MIN_BYTES):
        self.buffer, self.end, self.min_bytes = buffer, end, min_bytes
        self.next = start
        self.placed = []

    def __call__(self, array):
        nbytes = array.nbytes
        offset = (self.next + 63) // 64 * 64
        if nbytes < self.min_bytes or offset + nbytes > self.end or array.dtype.kind not in ALLOWED_KINDS \
                or array.dtype.fields is not None:
            return None
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        np.ndarray(array.shape, dtype=dtype, buffer=self.buffer, offset=offset)[...] = array
        self.placed.append([offset, dtype.str, list(array.shape)])
        self.next = offset + nbytes
        return len(self.placed) - 1

    def shared(self):
        return self.placed


class AreaReader:
    """resolve_shared for a frame whose large arrays are in buffer[start:end]: a copy of each, made once
    however often the frame names it, `budget` bytes at most in all; ProtocolError for an array that is
    malformed, outside the area or over the budget. `plain(i)`: what {"M": i} means in a frame without
    "_shared" (None: it is malformed)."""

    def __init__(self, buffer, start, end, budget, plain=None):
        self.buffer, self.start, self.end, self.budget, self.plain = buffer, start, end, budget, plain
        self.copies = {}
        self.used = 0

    def __call__(self, spec, index=None):
        if index is None:
            if self.plain is None:
                raise ProtocolError("malformed shared array")
            return self.plain(spec)
        out = self.copies.get(index)
        if out is None:
            offset, dtype, shape, nbytes = shared_spec(spec)
            self.used += nbytes
            if offset < self.start or offset + nbytes > self.end or self.used > self.budget:
                raise ProtocolError("shared array outside its area, or too large")
            try:
                out = np.ndarray(shape, dtype=dtype, buffer=self.buffer, offset=offset).copy()
            except (ValueError, TypeError, OverflowError):
                raise ProtocolError("malformed shared array") from None
            self.copies[index] = out
        return out


def large_arrays(values, limit=SERVED_COMPACT_BYTES):
    """Whether the arrays among `values`, and inside the containers a compact frame carries (exact tuples,
    lists and dicts, FAST_MAX_DEPTH deep), hold `limit` bytes or more."""
    total, stack = 0, [(v, 0) for v in values]
    while stack:
        v, depth = stack.pop()
        kind = type(v)
        if kind is np.ndarray:
            total += v.nbytes
        elif (kind is tuple or kind is list or kind is dict) and depth < FAST_MAX_DEPTH:
            stack.extend((x, depth + 1) for x in (dict.values(v) if kind is dict else v))
    return total >= limit


class Channel:
    """Framed messages over a pair of file descriptors, with deadlines.

    Reads go through a buffer allocated once: a frame that fits arrives in one read (whatever is
    there, up to the buffer's size: bytes of a following frame stay for the next recv). With a
    deadline, both ends become non-blocking: a read takes what is there and waits in poll() only if
    nothing is, and a peer that stops reading cannot hold a writer past its deadline."""

    def __init__(self, read_fd, write_fd, max_payload=MAX_PAYLOAD, max_header=MAX_HEADER):
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.max_payload = max_payload
        self.max_header = max_header
        self._buf = bytearray(BUFFER_BYTES)
        self._view = memoryview(self._buf)
        self._whole = [self._view]
        self._pos = self._end = 0        # unread bytes: _buf[_pos:_end]
        self._poll = None
        self._nonblocking = False

    def send(self, message, deadline=None, store_handle=None, place_array=None, shared=None, known=None):
        self._write(memoryview(pack(message, store_handle, place_array, shared, known)), deadline)

    def send_callback(self, module, fn, args, kwargs, deadline=None):
        """Send a callback in a compact frame; False (nothing sent) if it needs the general frame."""
        packed = pack_callback(module, fn, args, kwargs)
        if packed is None:
            return False
        self._writev(packed[0], packed[1], deadline)
        return True

    def send_reply(self, message, deadline=None, place_array=None):
        """Send a callback's reply, in a compact frame if it fits one. With `place_array` (an AreaPlacer),
        a reply whose arrays hold SERVED_COMPACT_BYTES or more goes in a general frame, its large arrays
        in shared memory."""
        large = place_array is not None and large_arrays((message.get("value"),))
        packed = None if large else pack_reply(message)
        if packed is None:
            if place_array is None:
                self.send(message, deadline)
            else:
                self.send(message, deadline, place_array=place_array, shared=place_array.shared)
        else:
            self._writev(packed[0], packed[1], deadline)

    def _writev(self, pieces, total, deadline):
        if deadline is not None and not self._nonblocking:
            self._set_nonblocking()
        try:
            n = os.writev(self.write_fd, pieces)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            raise ProtocolError(f"peer closed the channel ({exc.__class__.__name__})") from None
        if n < total:                 # a full pipe, or a signal: the rest, piece by piece (no copy)
            for piece in pieces:
                view = memoryview(piece).cast("B")
                if n >= len(view):
                    n -= len(view)
                    continue
                self._write(view[n:], deadline)
                n = 0

    def _write(self, data, deadline):
        if deadline is not None and not self._nonblocking:
            self._set_nonblocking()
        while data:
            if deadline is not None:
                self._wait(self.write_fd, "w", deadline)
            elif self._nonblocking:
                select.select([], [self.write_fd], [])
            try:
                n = os.write(self.write_fd, data[:1 << 20])
            except BlockingIOError:
                continue
            except OSError as exc:
                raise ProtocolError(f"peer closed the channel ({exc.__class__.__name__})") from None
            data = data[n:]

    def readable(self, timeout):
        """Is there something to read (waiting at most `timeout` seconds)? Bytes already read into the
        buffer count."""
        if self._end > self._pos:
            return True
        r, _, _ = select.select([self.read_fd], [], [], max(0.0, timeout))
        return bool(r)

    def _set_nonblocking(self):
        try:
            os.set_blocking(self.write_fd, False)
        except OSError as exc:
            raise ProtocolError(f"peer closed the channel ({exc.__class__.__name__})") from None
        self._nonblocking = True

    def recv(self, deadline=None, resolve_handle=None, resolve_shared=None, callback_bytes=None):
        """The next message. `callback_bytes`: a callback whose frame is larger is not read into memory:
        its bytes are read and dropped, and {"kind": "callback", "module", "fn", "oversize": its size}
        comes back instead (the judge refuses it without holding its arrays)."""
        pos = self._pos
        if self._end - pos < 12:
            self._fill(12, deadline)
            pos = self._pos
        elif deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError
        magic, size = _PREFIX.unpack_from(self._buf, pos)
        pos = self._pos = pos + 12
        if magic == FAST_MAGIC:
            if size > self.max_payload + FAST_MAX_HEAD:
                raise ProtocolError("frame too large")
            if callback_bytes is not None and size > callback_bytes:
                need = min(size, 6 + 2 * 255)            # the callback's head and its two names
                if self._end - pos < need:
                    self._fill(need, deadline)
                    pos = self._pos
                if self._buf[pos] == FAST_CALLBACK:
                    try:
                        _, _, _, _, lm, lf = _CALL_HEAD.unpack_from(self._buf, pos)
                        module, fn = _names_at(self._buf, pos + 6, lm, lf, pos + need)
                    except (struct.error, ValueError, IndexError):
                        raise ProtocolError("malformed compact frame") from None
                    self._skip(size, deadline)
                    return {"kind": "callback", "module": module, "fn": fn, "oversize": size}
            if self._end - pos < size:
                if size > len(self._buf):     # a large frame: read into a buffer of its own
                    return unpack_fast(self._read(size, deadline), 0, size, copy=False)
                self._fill(size, deadline)
                pos = self._pos
            self._pos = pos + size
            return unpack_fast(self._buf, pos, pos + size)
        if magic != MAGIC:
            raise ProtocolError("bad frame start")
        if size > self.max_header:
            raise ProtocolError("header too large")
        body, specs = unpack_header(bytes(self._read(size, deadline)), self.max_payload)
        nbytes = sum(s[2] for s in specs)
        if callback_bytes is not None and body.get("kind") == "callback":
            given = nbytes + shared_bytes(body.get("_shared"))      # with its arrays in shared memory
            if given > callback_bytes:
                self._skip(nbytes, deadline)
                return {"kind": "callback", "module": body.get("module"), "fn": body.get("fn"), "oversize": given}
        payload = self._read(nbytes, deadline)
        return finish(body, specs, payload, resolve_handle, resolve_shared)

    def _fill(self, need, deadline):
        """Read until the buffer holds `need` unread bytes (need <= its size)."""
        pos, end = self._pos, self._end
        if pos == end:
            pos = end = self._pos = self._end = 0
        elif len(self._buf) - pos < need:           # move what is there to the front
            self._buf[:end - pos] = bytes(self._view[pos:end])
            pos, end = self._pos, self._end = 0, end - pos
        while end - pos < need:
            end = self._end = end + self._readv(self._whole if end == 0 else [self._view[end:]], deadline)

    def _read(self, n, deadline):
        buf = bytearray(n)
        view = memoryview(buf)
        got = min(n, self._end - self._pos)
        if got:
            view[:got] = self._view[self._pos:self._pos + got]
            self._pos += got
        while got < n:
            got += self._readv([view[got:got + (4 << 20)]], deadline)
        return buf

    def _skip(self, n, deadline):
        """Read `n` bytes and drop them, through the channel's own buffer (no memory of their size)."""
        got = min(n, self._end - self._pos)
        self._pos += got
        if got < n:                      # the buffer is used up: read the rest into it, and drop that
            while got < n:
                got += self._readv([self._view[:min(n - got, len(self._buf))]], deadline)
            self._pos = self._end = 0

    def _readv(self, buffers, deadline):
        """One read of what is there (at least a byte). With a deadline, the read end is non-blocking:
        a peer that has answered already costs one read; otherwise poll() waits, within the deadline."""
        if deadline is not None:
            if self._poll is None:
                try:
                    os.set_blocking(self.read_fd, False)
                except OSError as exc:
                    raise ProtocolError(f"read failed ({exc.__class__.__name__})") from None
                self._poll = select.poll()
                self._poll.register(self.read_fd, select.POLLIN)
            if time.monotonic() >= deadline:
                raise TimeoutError
        while True:
            try:
                k = os.readv(self.read_fd, buffers)
            except BlockingIOError:                 # nothing there yet
                self._wait_readable(deadline)
                continue
            except OSError as exc:
                raise ProtocolError(f"read failed ({exc.__class__.__name__})") from None
            if k == 0:
                raise ProtocolError("peer closed the channel")
            return k

    def _wait_readable(self, deadline):
        while True:
            left = 86400.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if self._poll.poll(int(min(left, 86400.0) * 1000) + 1):
                return

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
