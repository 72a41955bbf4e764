"""grader/sandbox/scratch.py: a worker's scratch folder is removed whatever the student did to its
modes (issue 17), without following a symbolic link out of it, and its size can be measured.

The case that left 8 MiB in /tmp: a grader that is not root (Landlock, the worker of the same uid)
and a folder set to mode 000 inside the scratch space, which shutil.rmtree(ignore_errors=True)
leaves behind. The tests that need another uid run a child as uid 64999 (needs root).

Also what verify() (grader/sandbox/choice.py) leaves in the folder it runs from: its canary file is
removed when it returns, even when the worker cannot be built, and one left by a killed process is
removed by the next verify() there (a `.sandbox-canary-8487` had been committed to this repository).
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader.sandbox import scratch
from grader.sandbox.scratch import remove_tree, tree_bytes

OTHER_UID = 64999
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to create files of another uid)")


def build(top, owner=None):
    """A scratch tree as a student leaves it: files, folders of mode 000 nested in each other, a
    folder of mode 0o100 (search only), another of 0o200 (write only). Returns its number of bytes."""
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "a" / "b" / "c" / "deep.bin").write_bytes(b"x" * 3000)
    (top / "a" / "file.bin").write_bytes(b"y" * 2000)
    (top / "w").mkdir()
    (top / "w" / "f").write_bytes(b"z" * 500)
    (top / "loose").write_bytes(b"l" * 10)
    (top / "a" / "file.bin").chmod(0)
    if owner is not None:
        for p in [top, *top.rglob("*")]:
            os.chown(p, owner, owner, follow_symlinks=False)
    for folder, mode in ((top / "a" / "b" / "c", 0), (top / "a" / "b", 0), (top / "a", 0),
                         (top / "w", 0o200)):
        folder.chmod(mode)
    return 3000 + 2000 + 500 + 10


def outside_target(root):
    """A folder outside the tree, of mode 0o500 with a file in it, and a file of mode 0o400."""
    out = root / "outside"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    (out / "sub").mkdir()
    (out / "sub").chmod(0)
    out.chmod(0o500)
    (root / "outside.txt").write_text("keep me")
    (root / "outside.txt").chmod(0o400)
    return out, root / "outside.txt"


def modes(*paths):
    return [stat.S_IMODE(os.lstat(p).st_mode) for p in paths]


def test_folders_of_mode_000_nested_are_removed(tmp_path):
    top = tmp_path / "scratch"
    top.mkdir()
    build(top)
    top.chmod(0)                       # the student can chmod its scratch folder itself
    assert remove_tree(top) == []
    assert not top.exists() and not top.is_symlink()


def test_what_is_not_there_is_nothing_to_report(tmp_path):
    assert remove_tree(tmp_path / "never-made") == []
    assert remove_tree(tmp_path / "no" / "such" / "folder") == []
    assert tree_bytes(tmp_path / "never-made") == 0


def test_a_file_or_a_link_given_as_the_tree_is_removed_alone(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "data").write_text("data")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert remove_tree(link) == []
    assert not link.is_symlink() and (target / "data").read_text() == "data"
    f = tmp_path / "file"
    f.write_text("x")
    assert remove_tree(f) == [] and not f.exists()


def test_links_pointing_outside_are_neither_followed_nor_chmodded(tmp_path):
    outside, outside_file = outside_target(tmp_path)
    before = modes(outside, outside / "sub", outside_file)
    top = tmp_path / "scratch"
    top.mkdir()
    build(top)
    (top / "w").chmod(0o700)
    for name, target in (("to-folder", outside), ("to-sub", outside / "sub"), ("to-file", outside_file),
                         ("to-root", Path("/")), ("dangling", tmp_path / "nothing")):
        (top / "w" / name).symlink_to(target)
    (top / "w").chmod(0)
    (top / "top-link").symlink_to(outside)
    assert remove_tree(top) == []
    assert not top.exists()
    assert modes(outside, outside / "sub", outside_file) == before
    outside.chmod(0o700)
    assert (outside / "keep.txt").read_text() == "keep" and outside_file.read_text() == "keep me"
    assert (outside / "sub").is_dir()


def test_a_tree_deeper_than_the_recursion_limit_and_path_max(tmp_path):
    """3000 levels: past Python's recursion limit and, with its names, past PATH_MAX (4096)."""
    top = tmp_path / "deep"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    depth = 3000
    try:
        for _ in range(depth):
            os.mkdir("dd", dir_fd=fd)
            child = os.open("dd", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        with open(os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "wb") as f:
            f.write(b"b" * 77)
        os.chmod(fd, 0)
    finally:
        os.close(fd)
    assert tree_bytes(top, max_entries=depth + 1) == 77
    assert tree_bytes(top, max_entries=depth) is None
    assert remove_tree(top) == []
    assert not top.exists()


@as_root
def test_files_and_folders_of_another_uid_are_removed_as_root(tmp_path):
    top = tmp_path / "scratch"
    top.mkdir()
    size = build(top, owner=OTHER_UID)
    (top / "w").chmod(0o700)
    os.link(top / "w" / "f", top / "w" / "hard-link")       # counted once
    (top / "w" / "big-elsewhere").symlink_to(sys.executable)
    (top / "w").chmod(0o1000)                                   # sticky, and nothing else
    assert os.stat(top).st_uid == OTHER_UID
    assert tree_bytes(top) == size                             # root reads folders of mode 000
    assert remove_tree(top) == []
    assert not top.exists()


def test_tree_bytes_counts_regular_files_only_and_stops_at_its_bound(tmp_path):
    top = tmp_path / "t"
    (top / "x" / "y").mkdir(parents=True)
    for i in range(20):
        (top / "x" / "y" / f"f{i}").write_bytes(b"." * i)
    (top / "x" / "exe").symlink_to(sys.executable)
    (top / "x" / "up").symlink_to(tmp_path)
    os.mkfifo(top / "x" / "fifo")
    assert tree_bytes(top) == sum(range(20))
    assert tree_bytes(top, max_entries=25) == sum(range(20))   # x, y, 20 files, exe, up, fifo: 25
    assert tree_bytes(top, max_entries=24) is None
    assert tree_bytes(top / "x" / "y" / "f7") == 7
    assert tree_bytes(top / "x" / "exe") == 0
    assert scratch.MAX_ENTRIES >= 10_000


def python_for_others():
    """A Python that other users may run (this one may live under root's 0700 home)."""
    from grader.sandbox.backends import others_can_read
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(python) and others_can_read([python, os.path.dirname(os.path.realpath(python))]):
            return python
    pytest.skip("no Python here that another user may run")


def run_as_other_uid(code, folder):
    """Run `code` as uid OTHER_UID with a copy of scratch.py (standard library only) importable."""
    shutil.copyfile(scratch.__file__, folder / "scratch.py")
    proc = subprocess.run([python_for_others(), "-S", "-c", textwrap.dedent(code)], cwd=folder, user=OTHER_UID,
                          group=OTHER_UID, extra_groups=[], capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(folder), "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def other_uid_folder():
    """A folder under /tmp that OTHER_UID may write (tmp_path is under root's 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="test-scratch-"))
    os.chmod(folder, 0o755)
    os.chown(folder, OTHER_UID, OTHER_UID)
    yield folder
    assert remove_tree(folder) == []


@as_root
def test_as_a_user_not_root_what_rmtree_leaves_behind_is_removed(other_uid_folder):
    """The bug itself: a grader that is not root, a scratch folder of its own uid with folders of
    mode 000. shutil.rmtree(ignore_errors=True) leaves the tree; remove_tree removes it."""
    out = run_as_other_uid("""
        import os, shutil
        from pathlib import Path
        from scratch import remove_tree, tree_bytes
        for name in ("old", "new"):
            top = Path(name)
            (top / "a" / "b").mkdir(parents=True)
            (top / "a" / "b" / "blob").write_bytes(b"x" * 8192)
            (top / "a" / "b").chmod(0)
            (top / "a").chmod(0)
        print("bytes", tree_bytes("new"))                 # it changes no mode: a 000 folder is unmeasured
        shutil.rmtree("old", ignore_errors=True)
        print("rmtree left", Path("old").exists())
        print("left", remove_tree("new"), Path("new").exists())
        print("then", remove_tree("old"), Path("old").exists())
        """, other_uid_folder)
    assert out.splitlines() == ["bytes None", "rmtree left True", "left [] False", "then [] False"]


@as_root
def test_as_a_user_not_root_what_cannot_be_removed_is_reported_never_raised(other_uid_folder):
    top = other_uid_folder / "scratch"
    top.mkdir()
    (top / "mine").mkdir()
    (top / "mine" / "f").write_text("f")
    (top / "roots").mkdir()
    (top / "roots" / "f").write_text("f")
    (top / "roots").chmod(0)                        # root's, mode 000: the other uid can do nothing
    for p in (top, top / "mine", top / "mine" / "f"):
        os.chown(p, OTHER_UID, OTHER_UID)
    (top / "mine").chmod(0)
    out = run_as_other_uid("""
        from scratch import remove_tree
        for line in remove_tree("scratch"):
            print(line)
        """, other_uid_folder)
    assert out.splitlines() == [f"{top}/roots: Operation not permitted"]      # its chmod
    assert not (top / "mine").exists() and (top / "roots" / "f").exists()
    os.chmod(top / "roots", 0o700)


def test_a_folder_swapped_for_a_link_while_removing_is_not_followed(tmp_path, monkeypatch):
    """The worker is dead before its scratch is removed; still, a folder replaced by a link between
    its listing and its chmod is refused (device and inode checked through O_NOFOLLOW descriptors)."""
    outside, _ = outside_target(tmp_path)
    before = modes(outside, outside / "sub")
    top = tmp_path / "scratch"
    (top / "victim").mkdir(parents=True)
    (top / "victim").chmod(0)
    original = scratch._open_dir

    def swap_then_open(parent_fd, name, st):
        if name == "victim":
            os.rename(top / "victim", tmp_path / "moved")
            os.symlink(outside / "sub", top / "victim")
        return original(parent_fd, name, st)

    monkeypatch.setattr(scratch, "_open_dir", swap_then_open)
    left = remove_tree(top)
    assert left == [f"{top}/victim: it changed while it was being removed"]
    assert modes(outside, outside / "sub") == before
    assert (top / "victim").is_symlink()


def test_verify_leaves_no_canary_when_the_worker_cannot_be_built(tmp_path, monkeypatch):
    from grader.sandbox import choice
    from grader.sandbox.errors import SandboxFailure

    def refuse(*args, **kwargs):
        raise SandboxFailure("no worker here")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(choice, "StudentModule", refuse)
    assert choice.verify("none") == "no worker here"
    assert list(tmp_path.iterdir()) == []


def test_a_canary_whose_process_has_ended_is_removed_and_only_such(tmp_path):
    from grader.sandbox.choice import CANARY_TEXT, CWD_CANARY, remove_stale_canaries
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True).stdout.strip()
    stale = tmp_path / f"{CWD_CANARY}{ended}"
    live = tmp_path / f"{CWD_CANARY}{os.getpid()}"                 # a verify() running now
    other = tmp_path / f"{CWD_CANARY}{ended}0"                     # not ours: another text
    named = tmp_path / f"{CWD_CANARY}notes"
    for path in (stale, live, named):
        path.write_text(CANARY_TEXT)
    other.write_text("a student's notes")
    if Path(f"/proc/{ended}0").exists():
        pytest.skip("the made-up pid exists here")
    remove_stale_canaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, other, named))
