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
- waiting: the time the worker's threads spent runnable but waiting for a
  core (the kernel's run-queue delay, /proc/<pid>/task/<tid>/schedstat).

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


def judge_busy():
    """Seconds the calling thread has run or waited for a core (CPU time if schedstat is missing)."""
    got = _schedstat("/proc/thread-self/schedstat")
    if got is None:
        return _thread_cpu()
    return (got[0] + got[1]) / 1e9


def _thread_cpu():
    import time
    return time.thread_time()


def process(pid):
    """(cpu, waiting) seconds of process `pid`: every thread, live or ended, and its reaped children;
    None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    except (OSError, ValueError, IndexError):
        return None
    live_cpu = waiting = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tasks = []
    for tid in tasks:
        got = _schedstat(f"/proc/{pid}/task/{tid}/schedstat")
        if got is not None:
            live_cpu += got[0]
            waiting += got[1]
    # /proc/<pid>/stat counts ended threads too, in ticks; schedstat counts live threads, in ns.
    cpu = max(live_cpu / 1e9, (utime + stime) * TICK) + (cutime + cstime) * TICK
    return cpu, waiting / 1e9


class Snapshot:
    """The cumulative times of a set of processes at one moment, with the judge's own."""

    __slots__ = ("wall", "judge", "cpu", "waiting", "per_pid")

    def __init__(self, wall, judge, cpu, waiting, per_pid):
        self.wall, self.judge, self.cpu, self.waiting, self.per_pid = wall, judge, cpu, waiting, per_pid

    @classmethod
    def take(cls, pids, wall=None):
        import time
        judge = judge_busy()
        per_pid = {}
        for pid in pids:
            got = process(pid)
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
