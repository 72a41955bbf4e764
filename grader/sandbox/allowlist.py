"""What a worker may read: an allowlist computed from the interpreter that is running it.

    rules = allowlist.runtime(packages=("numpy",))
    rules.read     # directories and files readable (with everything beneath a directory)
    rules.listable # directories whose entries may be listed, not read (Landlock only)

Computed inside the worker, after it has imported its packages and before
it runs any untrusted code, from what that interpreter actually uses,
wherever it is installed (a venv under /tmp, pyenv under /root, /usr/local):

- the standard library (sysconfig's stdlib and platstdlib, lib-dynload),
  without any site-packages or dist-packages folder beneath it;
- each allowed package's own folder (numpy/) and its vendored libraries
  (numpy.libs/), and nothing else of site-packages;
- every file mapped into the process (the interpreter, libpython, the
  shared libraries numpy loaded, the locale archive), from /proc/self/maps;
- the dynamic loader's system library folders those files live in
  (/usr/lib/x86_64-linux-gnu, /lib64, ...), and its cache /etc/ld.so.cache;
- /dev/null, /dev/zero, /dev/random, /dev/urandom.

The caller adds the module under test (read-only) and a private scratch
folder (read-write). Everything else (the current folder, home folders,
/tmp, the kit, other submissions, output folders) is outside the list.

Standard library only: the worker imports this by path inside the sandbox.
"""
import os
import sys
import sysconfig
from dataclasses import dataclass, field

DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
LOADER_FILES = ("/etc/ld.so.cache",)


@dataclass
class Rules:
    read: list = field(default_factory=list)          # readable paths (folders: with all beneath)
    listable: list = field(default_factory=list)      # folders whose names may be listed (Landlock)
    devices: list = field(default_factory=list)       # device files, read-write
    excluded: list = field(default_factory=list)      # site folders cut out of the runtime's folders

    def as_data(self):
        return {"read": list(self.read), "listable": list(self.listable), "devices": list(self.devices),
                "excluded": list(self.excluded)}


def _real(path):
    return os.path.realpath(path)


def _beneath(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def site_folders():
    """Every folder of third-party packages on this interpreter's path."""
    found = set()
    try:
        import site
        found.update(site.getsitepackages())
        found.add(site.getusersitepackages())
    except (ImportError, AttributeError):
        pass
    for key in ("purelib", "platlib"):
        found.add(sysconfig.get_paths().get(key, ""))
    for entry in sys.path:
        if os.path.basename(entry.rstrip("/")) in ("site-packages", "dist-packages"):
            found.add(entry)
    return sorted({_real(p) for p in found if p and os.path.isdir(p)})


def expand(folder, excluded):
    """`folder`, or, when an excluded folder lies beneath it, its entries without the excluded ones
    (recursively). Returns (paths allowed, folders expanded)."""
    if not any(_beneath(e, folder) for e in excluded):
        return [folder], []
    if folder in excluded:
        return [], []
    allowed, expanded = [], [folder]
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return [], []
    for name in entries:
        a, x = expand(os.path.join(folder, name), excluded)
        allowed += a
        expanded += x
    return allowed, expanded


def mapped_files():
    """Regular files mapped into this process (the interpreter, shared libraries, locale data)."""
    files = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    path = parts[5].rstrip("\n")
                    if not path.endswith(" (deleted)") and os.path.isfile(path):
                        files.add(_real(path))
    except OSError:
        pass
    files.add(_real(sys.executable))
    files.add(os.path.abspath(sys.executable))      # the name it runs by (a venv's or pyenv's symlink)
    return sorted(files)


def loader_folders():
    """The dynamic loader's trusted system folders: {name: real path} (on a merged-/usr system,
    /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu, and ld.so.cache names the former)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    folders = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
    if multiarch:
        folders += [f"/lib/{multiarch}", f"/usr/lib/{multiarch}"]
    return {f: _real(f) for f in folders if os.path.isdir(f)}


def elf_interpreter(path):
    """The program interpreter (PT_INTERP) named in a 64-bit little-endian ELF executable, or None:
    the dynamic loader that exec needs, by the name the executable gives it (/lib64/ld-linux-...)."""
    import struct
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return None
            phoff, = struct.unpack_from("<Q", head, 32)
            phentsize, phnum = struct.unpack_from("<HH", head, 54)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
                if p_type == 3:
                    f.seek(p_offset)
                    return f.read(p_filesz).rstrip(b"\0").decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


def runtime(packages=("numpy",)):
    rules = Rules()
    excluded = site_folders()
    rules.excluded = excluded
    roots = set()
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path and os.path.isdir(path):
            roots.add(_real(path))
    for entry in sys.path:           # lib-dynload, and a stdlib zip if the build has one
        if entry and os.path.exists(entry) and not any(_beneath(_real(entry), e) for e in excluded) \
                and os.path.basename(entry) in ("lib-dynload",) + tuple(
                    os.path.basename(r) + ".zip" for r in roots):
            roots.add(_real(entry))
    for name in packages:
        module = sys.modules.get(name)
        for path in getattr(module, "__path__", []) or []:
            path = _real(path)
            roots.add(path)
            for libs in (path + ".libs", os.path.join(path, ".libs")):
                if os.path.isdir(libs):
                    roots.add(_real(libs))
    system = loader_folders()
    files = mapped_files() + [_real(f) for f in LOADER_FILES if os.path.exists(f)]
    for path in files:
        folder = os.path.dirname(path)
        for name, real in system.items():
            if real == folder:
                roots.add(real)
                roots.add(name)          # by the names the loader's cache and executables use too
    interpreter = elf_interpreter(_real(sys.executable))
    if interpreter and os.path.exists(interpreter):
        files.append(interpreter)
    read, listable = [], []
    for root in sorted(roots):
        allowed, expanded = expand(root, excluded)
        read += allowed
        listable += expanded
    # Files not beneath an allowed folder (the interpreter, libpython, the locale archive).
    for path in files:
        if not any(_beneath(path, r) for r in read) and not any(_beneath(path, e) for e in excluded):
            read.append(path)
    read += [r for r in roots if r not in read and any(r == n for n in system)]
    rules.read = _outermost(read)
    rules.listable = sorted(set(listable))
    rules.devices = [d for d in DEVICES if os.path.exists(d)]
    return rules


def _outermost(paths):
    """Drop paths that lie beneath another path of the list (as _beneath says: "/a/b" and "/a/" lie beneath
    "/a", and everything beneath "/"). A path's ancestors are looked up by its prefixes that end before a
    "/": each worker computes its rules, and comparing every pair of its 215 paths took 27 ms of its start."""
    unique = sorted(set(paths))
    holders = {}                          # q.rstrip("/") -> the paths q of the list that name that folder
    for q in unique:
        holders.setdefault(q.rstrip("/"), set()).add(q)

    def beneath_another(p):
        return any(p[i] == "/" and holders.get(p[:i], {p}) - {p} for i in range(len(p)))
    return [p for p in unique if not beneath_another(p)]
