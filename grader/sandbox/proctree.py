"""The machine's processes as a tree, read from /proc, and killing a whole tree.

    table = proctree.table()                    # {pid: (ppid, uid, resident bytes)}
    pids = proctree.tree(table, root)           # root and every process below it
    pids = proctree.descendants(root)           # the same by the kernel's children lists (None without)
    proctree.kill_tree(root)                    # SIGSTOP the tree until nothing new appears, then SIGKILL

Linux only (/proc). Standard library only: the judge's side of a worker (grader/sandbox/workerproc.py) uses
it, and so does the otter side (grader/platforms/otter/runtime.py and batch.py), which loads this file
by its path from the kit inside the autograder zip, in whatever environment otter grades in.
"""
import os
import signal


def table(min_pid=0):
    """{pid: (ppid, uid, resident bytes)} for the processes with pid >= min_pid (those that vanish
    while it reads are left out)."""
    found = {}
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        if pid < min_pid:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            uid = os.stat(f"/proc/{pid}").st_uid
            found[pid] = (int(fields[1]), uid, int(fields[21]) * page)
        except (OSError, ValueError, IndexError):
            continue
    return found


def tree(processes, root, uid=None):
    """The pids of `root` and its descendants in `processes` (a table()), and, with `uid`, every
    process of that uid and its descendants."""
    members = {root} if root in processes else set()
    changed = True
    while changed:
        changed = False
        for pid, (ppid, puid, _) in processes.items():
            if pid not in members and (ppid in members or (uid is not None and puid == uid)):
                members.add(pid)
                changed = True
    return members


def descendants(root):
    """`root` and its descendants, by the kernel's children lists (/proc/<pid>/task/<tid>/children): a few
    reads for a worker's tree, where table() reads every process of the machine. None where the kernel
    has no children lists."""
    members, stack = set(), [root]
    while stack:
        pid = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        members.add(pid)
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = f.read().split()
            except FileNotFoundError:
                if pid == root and not members - {root}:
                    return None
                continue
            except OSError:
                continue
            for kid in kids:
                kid = int(kid)
                if kid not in members:
                    stack.append(kid)
    return members


def kill_tree(root, below=(), rounds=20):
    """SIGKILL `root` and every process below it, whatever session or group they moved to, and every
    process below each pid of `below` (not those pids themselves: a judge passes its own pid for the
    orphans it adopted). The members are stopped with SIGSTOP first, round after round until a round
    finds none new (at most `rounds`), so that none forks while the tree is collected. This process
    is never signalled."""
    me = os.getpid()
    frozen = set()
    for _ in range(rounds):
        processes = table()
        members = tree(processes, root)
        for pid in below:
            members |= tree(processes, pid) - {pid}
        members -= frozen | {me}
        if not members:
            break
        for pid in members:
            try:
                os.kill(pid, signal.SIGSTOP)
            except (ProcessLookupError, PermissionError):
                pass
        frozen |= members
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
