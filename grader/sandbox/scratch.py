"""A worker's scratch space, seen from the judge: removing it whatever the student did to it, and
measuring it.

    left = scratch.remove_tree(path)      # [] when all of it is gone; else "path: why" per thing left
    size = scratch.tree_bytes(path)       # bytes of the regular files under path, or None

The student owns what its worker wrote in a scratch folder (under Landlock, or without a sandbox,
the worker may even be the grader's own uid): it can set a folder to mode 000, which makes
shutil.rmtree fail for a grader that is not root and leave the tree behind. remove_tree first gives
every folder u+rwx, walking top-down, and never through a symbolic link: a folder is opened
O_NOFOLLOW relative to its parent's descriptor and checked against what was listed (device and
inode), and its mode is changed through that descriptor, so nothing outside the tree is changed or
removed even if a folder were swapped for a link. It holds one folder's descriptor at a time
(it goes back up by "..", checked against the folder it came from), so a tree of any depth is
removed. Standard library only.
"""
import errno
import os
import stat

# tree_bytes visits at most this many entries: a watchdog calls it while the worker runs, and a
# scratch folder of more entries than this is not an assignment's (it counts as over any cap).
MAX_ENTRIES = 100_000

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _Changed(OSError):
    """A folder is no longer the one that was listed (swapped while the walk ran)."""

    def __init__(self):
        super().__init__(errno.ESTALE, "it changed while it was being removed")


def _same(a, b):
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _chmod_dir(parent_fd, name, st, mode):
    """chmod the folder `name` of parent_fd, known as `st`, never through a symbolic link: through
    an O_PATH descriptor opened without following links (glibc's own lchmod does the same)."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        now = os.fstat(fd)
        if not stat.S_ISDIR(now.st_mode) or not _same(now, st):
            raise _Changed()
        try:
            os.chmod(f"/proc/self/fd/{fd}", mode)
        except FileNotFoundError:          # no /proc: fchmodat without following the last component
            os.chmod(name, mode, dir_fd=parent_fd, follow_symlinks=False)
    finally:
        os.close(fd)


def _open_dir(parent_fd, name, st):
    """A read descriptor of the folder `name` of parent_fd (as listed: `st`), made u+rwx first."""
    if stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
        _chmod_dir(parent_fd, name, st, stat.S_IMODE(st.st_mode) | 0o700)
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    if not _same(os.fstat(fd), st):
        os.close(fd)
        raise _Changed()
    return fd


def _up(fd, expected):
    """The descriptor of the folder above `fd`, which must be `expected` (else _Changed)."""
    up = os.open("..", _DIR_FLAGS, dir_fd=fd)
    if not _same(os.fstat(up), expected):
        os.close(up)
        raise _Changed()
    return up


def _why(exc):
    return exc.strerror or type(exc).__name__


def remove_tree(path) -> list:
    """Remove `path` (a folder and everything in it, or a file, or a link: never what it points to),
    whatever the modes inside. Never raises an exception; returns what it could not remove, one
    "path: reason" string each (the innermost; [] when everything is gone or was never there)."""
    left = []
    try:
        _remove(os.path.abspath(os.fspath(path)), left)
    except _Changed as exc:
        left.append(f"{path}: {exc.strerror}")
    except OSError as exc:
        left.append(f"{path}: {_why(exc)}")
    except Exception as exc:            # the caller is cleaning up: it must go on
        left.append(f"{path}: {type(exc).__name__}: {exc}")
    return left


def _remove(path, left):
    parent, name = os.path.split(path)
    if not name or name in (".", ".."):
        left.append(f"{path}: not a removable path")
        return
    try:
        top_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    # frames: the folders from `path` down to the one being emptied, each
    # [stat, display path, name in its parent, names left to remove, failures recorded before it].
    frames = []
    fd = top_fd
    try:
        try:
            st = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            _unlink(top_fd, name, path, left)
            return
        fd = _open_dir(top_fd, name, st)
        frames.append([st, path, name, os.listdir(fd), len(left)])
        while frames:
            frame = frames[-1]
            if frame[3]:
                child = frame[3].pop()
                shown = f"{frame[1]}/{child}"
                try:
                    cst = os.stat(child, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    left.append(f"{shown}: {_why(exc)}")
                    continue
                if not stat.S_ISDIR(cst.st_mode):
                    _unlink(fd, child, shown, left)
                    continue
                try:
                    cfd = _open_dir(fd, child, cst)
                except OSError as exc:
                    left.append(f"{shown}: {_why(exc)}")
                    continue
                try:
                    names = os.listdir(cfd)
                except OSError as exc:
                    os.close(cfd)
                    left.append(f"{shown}: {_why(exc)}")
                    continue
                os.close(fd)
                fd = cfd
                frames.append([cst, shown, child, names, len(left)])
                continue
            # Empty now (or holding only what could not be removed): go up and remove it.
            frames.pop()
            up = _up(fd, frames[-1][0]) if frames else top_fd
            os.close(fd)
            fd = up
            try:
                os.rmdir(frame[2], dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno != errno.ENOTEMPTY or len(left) == frame[4]:
                    left.append(f"{frame[1]}: {_why(exc)}")
    finally:
        if fd != top_fd:
            os.close(fd)
        os.close(top_fd)


def _unlink(dir_fd, name, shown, left):
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        left.append(f"{shown}: {_why(exc)}")


def tree_bytes(path, max_entries: int = MAX_ENTRIES):
    """The total size (st_size) of the regular files under `path`, each file (inode) counted once,
    symbolic links never followed; 0 if `path` does not exist. None when the whole tree could not be
    measured: more than `max_entries` entries, a folder it may not read (it changes no mode), or a
    folder that changed while it was walked. Reads a folder's names, one descriptor at a time."""
    try:
        return _tree_bytes(os.path.abspath(os.fspath(path)), max_entries)
    except FileNotFoundError:
        return 0
    except OSError:
        return None


def _tree_bytes(path, max_entries):
    st = os.stat(path, follow_symlinks=False)
    if stat.S_ISREG(st.st_mode):
        return st.st_size
    if not stat.S_ISDIR(st.st_mode):
        return 0
    fd = os.open(path, _DIR_FLAGS)
    try:
        if not _same(os.fstat(fd), st):
            return None
        total, entries, seen = 0, 0, set()
        frames = [(st, os.listdir(fd))]
        while frames:
            st, names = frames[-1]
            if not names:
                frames.pop()
                if frames:
                    up = _up(fd, frames[-1][0])
                    os.close(fd)
                    fd = up
                continue
            entries += 1
            if entries > max_entries:
                return None
            child = names.pop()
            try:
                cst = os.stat(child, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(cst.st_mode):
                if (cst.st_dev, cst.st_ino) not in seen:
                    seen.add((cst.st_dev, cst.st_ino))
                    total += cst.st_size
            elif stat.S_ISDIR(cst.st_mode):
                try:
                    cfd = os.open(child, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    continue
                try:
                    if not _same(os.fstat(cfd), cst):
                        raise _Changed()
                    names = os.listdir(cfd)
                except OSError:
                    os.close(cfd)
                    raise
                os.close(fd)
                fd = cfd
                frames.append((cst, names))
        return total
    finally:
        os.close(fd)
