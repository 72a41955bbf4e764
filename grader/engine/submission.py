"""Read a submission: the graded module files of a folder or a .zip, and nothing else.

    sub = read_submission("subs/ada.zip", workdir)      # sub.files: {part: copied file or None}

Only the files of the graded parts (grader/parts.py) are taken, found by name
at any depth; the shallowest copy wins. Hidden folders and __MACOSX are
never looked into, symbolic links never followed, a file over
MAX_FILE_BYTES never read, and a zip that cannot be read costs that
submission only (Submission.problems says why a part has no file). A folder
that holds no module file but a zip (an upload a platform kept as it was) is
read through that zip.
"""
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..parts import GRADED

MAX_FILE_BYTES = 1 << 20
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
# What grade() writes into the output folder: no submission may take these names.
RESERVED_NAMES = {"gradebook.csv", "logs", "report.html", "report", "results.json"}
try:
    import lzma
    _ARCHIVE_ERRORS = (zlib.error, lzma.LZMAError)
except ImportError:                  # a Python built without lzma
    _ARCHIVE_ERRORS = (zlib.error,)


@dataclass
class Submission:
    name: str
    source: str
    files: dict = field(default_factory=dict)      # part -> staged path (str) or None
    problems: dict = field(default_factory=dict)   # part -> why the file was not taken


def _safe_name(text):
    # Letters and digits of any script stay (a class list of 张伟 and 李娜 must stay tellable apart).
    name = re.sub(r"[^\w.-]+", "_", text).strip("._-") or "submission"
    name = name[:80]
    # A name the output folder needs for itself (a folder called gradebook.csv) gets a prefix.
    return f"submission-{name}" if name.lower() in RESERVED_NAMES else name


def _candidates(names):
    """names: iterable of relative posix paths. Returns part -> list of paths, shallowest first."""
    found = {part: [] for part in GRADED}
    for rel in names:
        parts = rel.split("/")
        if any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        for part in GRADED:
            if parts[-1] == f"{part}.py":
                found[part].append(rel)
    for part in found:
        found[part].sort(key=lambda r: (r.count("/"), r))
    return found


def _through_symlink(root, path):
    """Is `path`, or any folder between `root` and it, a symbolic link?"""
    parts = path.relative_to(root).parts
    return any((root.joinpath(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1))


def read_submission(path: str | os.PathLike, workdir: str | os.PathLike, name: str | None = None,
                    slot: str | None = None) -> Submission:
    """Copy the four module files of a folder or zip into workdir/<slot or name>/ (a slot of its own
    per submission: two submissions may clean to the same name). A zip that cannot be read costs
    that submission only."""
    path = Path(path)
    zipped = path.suffix.lower() == ".zip"
    sub = Submission(name=name or _safe_name(path.stem if zipped else path.name), source=str(path))
    dest = Path(workdir) / (slot if slot is not None else sub.name)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _take_files(sub, path, zipped, dest)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError,
            *_ARCHIVE_ERRORS) as exc:                  # a corrupt deflate or LZMA stream, too
        sub.files = {}
        for part in GRADED:
            sub.problems[part] = f"{path.name} could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    for part in GRADED:
        if part not in sub.files and part not in sub.problems:
            sub.problems[part] = f"{part}.py was not found in the submission"
        sub.files.setdefault(part, None)
    return sub


def _take_files(sub, path, zipped, dest):
    def take(part, rel, size, read):
        if size > MAX_FILE_BYTES:
            sub.problems[part] = f"{rel} is {size} bytes; the limit is {MAX_FILE_BYTES}"
            return
        target = dest / f"{part}.py"
        target.write_bytes(read())
        sub.files[part] = str(target)

    if path.is_dir():
        # Never follow a symlink: a link named mlp.py could point at the reference.
        names = [p.relative_to(path).as_posix() for p in path.rglob("*.py")
                 if p.is_file() and not _through_symlink(path, p)]
        found = _candidates(names)
        if not any(found.values()):
            # A folder holding only the zip (an upload a platform kept as it was, a repository
            # with submission.zip committed): the shallowest zip, one level deep, no further.
            inner = _inner_zip(path)
            if inner is not None:
                return _take_files(sub, inner, True, dest)
        for part, rels in found.items():
            if rels:
                f = path / rels[0]
                take(part, rels[0], f.stat().st_size, f.read_bytes)
    elif zipped and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            # Windows tools may write hw\mlp.py; some write ./mlp.py.
            infos = {re.sub(r"^(\./)+", "", i.filename.replace("\\", "/")): i
                     for i in zf.infolist() if not i.is_dir()}
            for part, rels in _candidates(infos).items():
                if rels:
                    info = infos[rels[0]]
                    take(part, rels[0], info.file_size,
                         lambda info=info: zf.open(info).read(MAX_FILE_BYTES + 1))
    else:
        for part in GRADED:
            sub.problems[part] = f"{path.name} is neither a folder nor a zip file"


def _inner_zip(folder):
    """The shallowest .zip in `folder` (not through a symlink, not in a skipped folder), or None."""
    zips = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).as_posix()
        if p.suffix.lower() == ".zip" and p.is_file() and not _through_symlink(folder, p) and \
                not any(d in SKIP_DIRS or d.startswith(".") for d in rel.split("/")[:-1]):
            zips.append(rel)
    zips.sort(key=lambda r: (r.count("/"), r))
    return folder / zips[0] if zips else None
