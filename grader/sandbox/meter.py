"""What a call cost the student: their own time, never the machine's load.

    before = meter.Snapshot.take(pids)          # the worker's processes
    ... the call ...
    after = meter.Snapshot.take(pids)
    seconds, cpu = meter.charged(before, after)

A test's time limit must not depend on how busy the grading machine is, nor
on how long the judge takes to serve the calls it computes itself. So the
time charged to a call is what the student's processes did with it:

    charged = max(cpu, wall − judge − waiting)

- cpu: the CPU time of the worker's whole process tree (every thread, and the
  children it has reaped), from /proc;
- wall: the call's wall-clock time;
- judge: the time the judge's own thread was running or waiting to run
  during the call (packing and reading messages), and the wall-clock time it
  spent computing the reference calls it serves: the worker is blocked on
  the judge then;
- waiting: the time the worker's processes spent runnable but waiting for a
  core (the kernel's run-queue delay of each one's main thread,
  /proc/<pid>/schedstat).

On a single-threaded worker, wall − judge − waiting is its CPU time plus the
time it spent blocked on its own account (time.sleep, a read that never
returns): a sleeping submission is charged like a busy one, while a correct
one on an overloaded machine is charged only its CPU time. isolate (the IOI's
sandbox) and DOMjudge separate CPU time from wall time for the same reason.

Where the kernel does not report run-queue delays (no schedstat), charged is
the CPU time alone, and a sleeping call is caught by the wall-clock backstop.

Standard library only.
"""
import os

TICK = 1.0 / os.sysconf("SC_CLK_TCK")


def _schedstat(path):
    """(cpu ns, run-queue ns) of one task, or None."""
    try:
        with open(path, "rb") as f:
            fields = f.read().split()
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None


SCHEDSTAT = _schedstat("/proc/thread-self/schedstat") is not None


_THREAD = {}


def judge_busy():
    """Seconds the calling thread has run or waited for a core (CPU time if schedstat is missing)."""
    import threading
    tid = threading.get_native_id()
    fd = _THREAD.get(tid)
    if fd is None:
        try:
            fd = _THREAD[tid] = os.open("/proc/thread-self/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return _thread_cpu()
    try:
        cpu, waiting = (int(x) for x in os.pread(fd, 256, 0).split()[:2])
    except (OSError, ValueError):
        return _thread_cpu()
    return (cpu + waiting) / 1e9


def _thread_cpu():
    import time
    return time.thread_time()


class Reader:
    """Reads the cumulative times of processes, keeping each /proc file open between readings (a
    snapshot is taken twice per call: a few preads, not an open, read and close per file).

    Per process: its CPU time from /proc/<pid>/stat (every thread, live or ended, and the children it
    has reaped; in clock ticks) and from /proc/<pid>/schedstat (its main thread, in ns: the larger
    counts), and its main thread's run-queue delay. A file opened while its process lived stays that
    process's: once it is gone, reading fails, even if its pid is given to another process."""

    def __init__(self):
        self._open = {}

    def _read(self, pid, name):
        key = (pid, name)
        fd = self._open.get(key)
        if fd is None:
            try:
                fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            self._open[key] = fd
        try:
            data = os.pread(fd, 4096, 0)
        except OSError:
            data = b""
        if not data:
            os.close(self._open.pop(key))
            return None
        return data

    def process(self, pid):
        """(cpu, waiting) seconds of process `pid`, or None if it is gone."""
        stat = self._read(pid, "stat")
        if stat is None:
            return None
        try:
            fields = stat.rsplit(b")", 1)[1].split()
            utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        except (ValueError, IndexError):
            return None
        main_cpu = waiting = 0
        sched = self._read(pid, "schedstat")
        if sched is not None:
            try:
                main_cpu, waiting = (int(x) for x in sched.split()[:2])
            except ValueError:
                pass
        cpu = max(main_cpu / 1e9, (utime + stime) * TICK) + (cutime + cstime) * TICK
        return cpu, waiting / 1e9

    def forget(self, alive):
        """Close the files of processes not in `alive`."""
        for key in [k for k in self._open if k[0] not in alive]:
            os.close(self._open.pop(key))

    def close(self):
        self.forget(())


_JUDGE = Reader()


class Snapshot:
    """The cumulative times of a set of processes at one moment, with the judge's own."""

    __slots__ = ("wall", "judge", "cpu", "waiting", "per_pid")

    def __init__(self, wall, judge, cpu, waiting, per_pid):
        self.wall, self.judge, self.cpu, self.waiting, self.per_pid = wall, judge, cpu, waiting, per_pid

    @classmethod
    def take(cls, pids, reader=None, wall=None):
        import time
        judge = judge_busy()
        reader = reader or _JUDGE
        per_pid = {}
        for pid in pids:
            got = reader.process(pid)
            if got is not None:
                per_pid[pid] = got
        wall = time.monotonic() if wall is None else wall
        return cls(wall, judge, sum(c for c, _ in per_pid.values()), sum(w for _, w in per_pid.values()),
                   per_pid)


def charged(before, after, serving=0.0):
    """(charged seconds, cpu seconds) between two snapshots of the same tree. `serving`: wall-clock
    seconds the judge spent computing the calls it serves, counted as the judge's whatever its thread
    did meanwhile (a served function that waits is still the judge's time).

    A process present in only one snapshot counts from zero (it started, or it ended and was reaped
    by another member, whose children's times then hold it)."""
    cpu = waiting = 0.0
    for pid, (c1, w1) in after.per_pid.items():
        c0, w0 = before.per_pid.get(pid, (0.0, 0.0))
        cpu += max(0.0, c1 - c0)
        waiting += max(0.0, w1 - w0)
    if not SCHEDSTAT:
        return cpu, cpu
    wall = max(0.0, after.wall - before.wall)
    # The judge's CPU inside `serving` is counted twice: that can only lower what is charged, never
    # below the CPU time.
    judge = max(0.0, after.judge - before.judge) + max(0.0, serving)
    return max(cpu, wall - judge - waiting), cpu
