"""Read a submission: the graded module files of a folder or a .zip, and nothing else.

    sub = read_submission("subs/ada.zip", workdir)      # sub.files: {part: copied file or None}

Only the files of the graded parts (grader/parts.py) are taken, found by name
at any depth; the shallowest copy wins. Names are case-sensitive: `MLP.py` is
not `mlp.py` (the part's problem then names the file to rename). Hidden
folders and __MACOSX are never looked into, symbolic links never followed, a
file over MAX_FILE_BYTES never read, a zip of more than MAX_ZIP_ENTRIES
entries never listed, and a zip that cannot be read costs that submission only
(Submission.problems says why a part has no file). A folder that holds no
module file but a zip (an upload a platform kept as it was) is read through
that zip.
"""
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..parts import GRADED

MAX_FILE_BYTES = 1 << 20
# A zip's entries are counted (its central directory's headers, C-speed) before zipfile lists them:
# listing costs the orchestrator about 7 us and 0.6 KiB per entry here (300,000 entries: 2.1 s and
# 190 MiB). A real submission is a handful of files; a student's whole project folder zipped with
# its virtual environment (.venv/ with the handout's packages, JupyterLab included) is about 19,000.
# 50,000 is far above both and bounds a zip's listing to about 0.3 s and 35 MiB.
MAX_ZIP_ENTRIES = 50_000
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
# What grade() writes into the output folder: no submission may take these names.
RESERVED_NAMES = {"gradebook.csv", "logs", "report.html", "report", "results.json", "calibration.json"}
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


def _candidates(names, misnamed=None):
    """names: iterable of relative posix paths. Returns part -> list of paths, shallowest first.
    `misnamed` (a dict), if given, gets part -> the shallowest path whose name is the part's file
    name in other letter case (MLP.py, Activations.PY): never graded, only named in the message."""
    found = {part: [] for part in GRADED}
    near = {part: [] for part in GRADED}
    expected = {f"{part}.py": part for part in GRADED}
    folded = {name.lower(): part for name, part in expected.items()}
    for rel in names:
        parts = rel.split("/")
        if any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        if parts[-1] in expected:
            found[expected[parts[-1]]].append(rel)
        elif parts[-1].lower() in folded:
            near[folded[parts[-1].lower()]].append(rel)
    for part in found:
        found[part].sort(key=lambda r: (r.count("/"), r))
        if misnamed is not None and near[part]:
            misnamed[part] = min(near[part], key=lambda r: (r.count("/"), r))
    return found


def not_found(part: str, misnamed: str | None = None) -> str:
    """The problem of a part whose file is not in the submission; `misnamed`: a file of the same name
    in other letter case, which is not graded (a grader on Linux would not import it either)."""
    message = f"{part}.py was not found in the submission"
    if misnamed:
        message += f" (there is {misnamed}: rename it {part}.py; names are case-sensitive)"
    return message


def zip_entries(path) -> int | None:
    """How many entries zipfile would list in the zip at `path`: the central file headers counted in
    its central directory, which is read in chunks and never parsed (an upper bound: a name holding
    the 4 bytes of a header's signature counts twice). None where no end record is found (zipfile
    then says why). Finds the central directory as zipfile does (the end record, zip64 too)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        back = min(size, 22 + 0xFFFF)
        f.seek(size - back)
        tail = f.read(back)
        at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0" else \
            tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        cd_size = struct.unpack("<L", tail[at + 12:at + 16])[0]
        end = size - back + at                       # where the end record starts
        if end >= 20:
            f.seek(end - 20)
            locator = f.read(20)
            if locator[:4] == b"PK\x06\x07" and end >= 76:
                f.seek(end - 76)
                record = f.read(56)
                if record[:4] == b"PK\x06\x06":
                    cd_size = struct.unpack("<Q", record[40:48])[0]
                    end -= 76
        start = end - cd_size
        if start < 0:
            return None
        f.seek(start)
        count, left, carry = 0, cd_size, b""
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
            data = carry + chunk
            count += data.count(b"PK\x01\x02")
            carry = data[-3:]                        # a signature cut in two is counted once, whole
        return count


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
            sub.problems[part] = not_found(part)
        sub.files.setdefault(part, None)
    return sub


def _take_files(sub, path, zipped, dest):
    def candidates(names):
        """The part files among `names`; a part found only in other letter case gets its problem."""
        misnamed = {}
        found = _candidates(names, misnamed)
        for part, rel in misnamed.items():
            if not found[part]:
                sub.problems[part] = not_found(part, rel)
        return found

    def take(part, rel, size, read):
        if size > MAX_FILE_BYTES:
            sub.problems[part] = f"{rel} is {size} bytes; the limit is {MAX_FILE_BYTES}"
            return
        target = dest / f"{part}.py"
        target.write_bytes(read())
        sub.files[part] = str(target)

    if path.is_dir():
        # Never follow a symlink: a link named mlp.py could point at the reference. Any letter case
        # of .py, so that a misnamed MLP.PY is named in the message (it is never graded).
        names = [p.relative_to(path).as_posix() for p in path.rglob("*")
                 if p.suffix.lower() == ".py" and p.is_file() and not _through_symlink(path, p)]
        found = _candidates(names)
        if not any(found.values()):
            # A folder holding only the zip (an upload a platform kept as it was, a repository
            # with submission.zip committed): the shallowest zip, one level deep, no further.
            inner = _inner_zip(path)
            if inner is not None:
                return _take_files(sub, inner, True, dest)
        for part, rels in candidates(names).items():
            if rels:
                f = path / rels[0]
                take(part, rels[0], f.stat().st_size, f.read_bytes)
    elif zipped and zipfile.is_zipfile(path):
        entries = zip_entries(path)
        if entries is not None and entries > MAX_ZIP_ENTRIES:
            for part in GRADED:
                sub.problems[part] = (f"{path.name} has {entries} entries; at most {MAX_ZIP_ENTRIES} are read: "
                                      f"upload a zip of the graded files only (make submission writes one)")
            return
        with zipfile.ZipFile(path) as zf:
            # Windows tools may write hw\mlp.py; some write ./mlp.py.
            infos = {re.sub(r"^(\./)+", "", i.filename.replace("\\", "/")): i
                     for i in zf.infolist() if not i.is_dir()}
            for part, rels in candidates(infos).items():
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
