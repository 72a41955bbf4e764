"""The shared memory that carries the arguments of every call to the worker, seen from the judge.

    arena = ArgumentArena()                # a sealed memfd, mapped here; the worker maps it too (--arena-fd)
    index = arena.place(array)             # copied in, after the arrays of earlier calls of the test
    arena.changed(start)                   # the arrays a call changed in place, read here

    arena.served_reader(budget)            # resolve_shared for what the worker sends: a callback's
    arena.served_placer()                  #   large arrays, and the reply's, in the last 64 MiB

Each worker process (workerproc.Worker) owns one arena for its life, reset between tests. The
student-module proxy (client.StudentModule) places a call's arrays in it through _Placer, resolves
the worker's references to them with _shared_index, and reads back what the call did to them. The
arena's last protocol.SERVED_AREA_BYTES carry the large arrays of the calls the judge serves (see
protocol.py, "A served call's large arrays"). The other side is grader/sandbox/worker.py, which maps
the same memory.
"""
import mmap
import os

import numpy as np

from . import protocol

ARENA_BYTES = 256 << 20       # shared memory for the arguments of every call (sparse: only what is used)


class ArgumentArena:
    """Shared memory for the arguments of every call: the judge reads what a call did to them,
    without asking the worker (whose report student code could forge).

    A sealed memfd (it cannot shrink, so the judge's mapping can never fault), mapped by both sides.
    Every call's arrays are placed here, one after the other, for the whole test: what a call
    receives stays valid while the student's code may still hold it (a cache passed on to
    backward), and every call sees its arguments the same way, so that nothing tells a check from
    an ordinary call. reset() (between tests) starts again from the beginning and gives the memory
    back. An array that does not fit travels over the pipe, as a copy."""

    def __init__(self, size=ARENA_BYTES):
        self.fd = os.memfd_create("grader-args", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self.fd, size)
        import fcntl
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        self.map = mmap.mmap(self.fd, size)
        self.size = size
        self.served = size - protocol.SERVED_AREA_BYTES    # where served calls' arrays start
        self.placed = []             # [(offset, the judge's array as placed)]
        self.next = 0
        self.high = 0                # bytes used since the memory was last given back

    def reset(self):
        self.placed, self.next = [], 0
        if hasattr(mmap, "MADV_REMOVE"):
            try:
                if self.high > (8 << 20):
                    self.map.madvise(mmap.MADV_REMOVE, 0, (self.high + mmap.PAGESIZE - 1) // mmap.PAGESIZE
                                     * mmap.PAGESIZE)
                self.map.madvise(mmap.MADV_REMOVE, self.served, self.size - self.served)
            except (OSError, ValueError):
                pass
        self.high = 0

    def place(self, array):
        """Copy `array` into the arena; its index, or None if it does not fit."""
        nbytes = array.nbytes
        offset = (self.next + 63) // 64 * 64
        if offset + nbytes > self.served or array.dtype.hasobject:
            return None
        arr = np.ascontiguousarray(array)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        view = np.ndarray(arr.shape, dtype=arr.dtype, buffer=self.map, offset=offset)
        view[...] = arr
        self.placed.append((offset, arr))
        self.next = offset + nbytes
        self.high = max(self.high, self.next)
        return len(self.placed) - 1

    def specs(self, start=0):
        return [[offset, a.dtype.str, list(a.shape)] for offset, a in self.placed[start:]]

    def now(self, index):
        """A copy of what placed array `index` holds now."""
        offset, original = self.placed[index]
        return np.ndarray(original.shape, dtype=original.dtype, buffer=self.map, offset=offset).copy()

    def changed(self, start=0):
        """The indices (from `start` on) whose memory no longer holds what was placed."""
        out = []
        for i in range(start, len(self.placed)):
            offset, original = self.placed[i]
            view = np.ndarray(original.shape, dtype=original.dtype, buffer=self.map, offset=offset)
            if not np.array_equal(view, original, equal_nan=original.dtype.kind in "fc"):
                out.append(i)
        return out

    def served_reader(self, budget):
        """resolve_shared for a message from the worker: {"M": i} alone is argument i of the call
        (_shared_index); with "_shared", a copy of a served call's array, `budget` bytes in all."""
        return protocol.AreaReader(self.map, self.served, self.size, budget, plain=_shared_index)

    def served_placer(self):
        """place_array for the reply to a served call: its large arrays go to the served area."""
        return protocol.AreaPlacer(self.map, self.served, self.size)

    def close(self):
        if self.fd is None:
            return
        try:
            self.map.close()
        except (BufferError, ValueError):
            pass
        os.close(self.fd)
        self.fd = None


class _Placer:
    """place_array for a call's message: its arrays go to the arena after those of earlier calls of the
    test; the message indexes them from `start`."""

    def __init__(self, arena, start):
        self.arena, self.start = arena, start

    def __call__(self, array):
        index = self.arena.place(array)
        return None if index is None else index - self.start


def _shared_index(index):
    """A reply's {"M": i}: the worker hands back argument i of the call's shared memory (read from the
    arena by the caller when it needs it, never from the reply)."""
    return protocol.SharedRef(index)
