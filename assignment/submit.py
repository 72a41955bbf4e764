# Generated from tooling/submit.py by `python -m grader assign`: edit tooling/submit.py, not this copy.
"""Build the file you hand in:  python -m assignment.submit   (or `make submission`)

Writes submission.zip next to your assignment/ folder:

    submission.zip
      submission.py                   a note (otter-grader wants one top-level .py)
      assignment/<part>.py            your graded modules (parts.json lists the parts)

Only the graded module files are graded; the grader ignores everything else,
including submission.py (write nothing in it). Upload submission.zip as it
is. Run `make check` first: it runs the public tests, and the zip is graded by
the hidden ones.
"""
import argparse
import ast
import re
import sys
import zipfile
from pathlib import Path

from . import manifest

HERE = Path(__file__).resolve().parent
PACKAGE = __package__ or "assignment"
TOP_LEVEL = "submission.py"
FOLDER = "assignment"                 # the graded modules' folder inside the zip, wherever this runs
# Fixed zip timestamps: the same files always give the same bytes.
STAMP = (1980, 1, 1, 0, 0, 0)
NOTE = '''"""A submission to the MLP and backpropagation assignment (built by `make submission`).

The graded files are the modules under assignment/. This file is not graded.
"""
'''
# What a graded module can import when it is graded, besides numpy and the standard library: the
# assignment's own modules (the other parts are the reference's) and these helpers.
HELPERS = ("gradient_check", "datasets")
STUB = re.compile(r'raise NotImplementedError\("TODO: \w+\.(\w+)"\)')
# What to use instead of a package the grader does not have, by the import's top-level name.
BY_HAND = "numpy arrays and backward passes of your own (the assignment is backpropagation by hand)"
INSTEAD = {
    "scipy": "numpy (scipy.special's expit, softmax and logsumexp are a line or two each with np.exp, np.log "
             "and np.max)",
    "sklearn": "numpy (a one-hot is np.eye(K)[y], a shuffle rng.permutation(n), an accuracy np.mean(pred == y))",
    "torch": BY_HAND, "tensorflow": BY_HAND, "jax": BY_HAND, "autograd": BY_HAND,
    "pandas": "numpy arrays",
}


def write_zip(modules, dest):
    """Write the submission zip: `modules` maps a part to its source (bytes), in the order
    written. Returns the names written."""
    names = [TOP_LEVEL]
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(TOP_LEVEL, STAMP), NOTE)
        for part, source in modules.items():
            info = zipfile.ZipInfo(f"{FOLDER}/{part}.py", STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, source)
            names.append(info.filename)
    return names


def foreign_imports(tree, modules_here=None):
    """The imports of a module that the grader cannot satisfy, e.g. ['.utils', 'torch'].
    modules_here: the assignment's own modules (default: every part and the helpers)."""
    if modules_here is None:
        modules_here = (*manifest.names(), *HELPERS)
    allowed_top = {"numpy", "__future__", FOLDER, *sys.stdlib_module_names}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] not in allowed_top]
        elif isinstance(node, ast.ImportFrom):
            if node.level:                        # from .utils import x / from . import utils
                targets = [node.module] if node.module else [a.name for a in node.names]
                found += ["." * node.level + t for t in targets
                          if node.level > 1 or t.split(".")[0] not in modules_here]
            elif node.module.split(".")[0] not in allowed_top:
                found.append(node.module)
            elif node.module == FOLDER:           # from assignment import utils
                found += [f"{FOLDER}.{a.name}" for a in node.names if a.name not in modules_here]
            elif node.module.split(".")[0] == FOLDER and node.module.split(".")[1] not in modules_here:
                found.append(node.module)
    return sorted(set(found))


def own_module(name, folder):
    """Is the import `name` (as foreign_imports gives it) a module of the student's own: relative, under
    assignment., or a file or package of that name in `folder`?"""
    top = name.lstrip(".").split(".")[0]
    return name.startswith((".", f"{FOLDER}.")) or (Path(folder) / f"{top}.py").is_file() \
        or (Path(folder) / top).is_dir()


def import_notes(part, foreign, folder):
    """What to tell the student about the imports `foreign` of `part`.py: a module of their own is not
    submitted (move the code in), a package the grader does not have is replaced by numpy (said how)."""
    own = [name for name in foreign if own_module(name, folder)]
    packages = [name for name in foreign if name not in own]
    notes = []
    if own:
        notes.append(f"{part}.py imports {', '.join(own)}, a module of your own, which is not submitted (only "
                     f"the graded files are): move that code into {part}.py, or that part scores 0")
    if packages:
        advice = {}                       # what to use -> the imports it replaces
        for name in packages:
            advice.setdefault(INSTEAD.get(name.split(".")[0], "numpy and the standard library"), []).append(name)
        use = " and ".join(what if len(advice) == 1 else f"{what} for {', '.join(names)}"
                           for what, names in advice.items())
        notes.append(f"{part}.py imports {', '.join(packages)}, which the grader does not have (it has numpy and "
                     f"the standard library only): use {use} instead, or that part scores 0")
    return notes


def survey(folder, todo_count=None):
    """(modules, notes): the graded module files of `folder` and what to tell the student.
    todo_count (a dict), if given, gets part -> how many functions are still TODO."""
    modules, notes = {}, []
    for part in manifest.graded():
        path = Path(folder) / f"{part}.py"
        if not path.is_file():
            notes.append(f"{part}.py is missing: that part scores 0")
            continue
        source = path.read_bytes()
        modules[part] = source
        text = source.decode("utf-8", errors="replace")
        try:
            tree = ast.parse(text, str(path))
        except SyntaxError as exc:
            notes.append(f"{part}.py has a syntax error (line {exc.lineno}): that part scores 0 until it is fixed")
            continue
        notes += import_notes(part, foreign_imports(tree), folder)
        todo = STUB.findall(text)
        if todo_count is not None:
            todo_count[part] = len(todo)
        if todo:
            notes.append(f"{part}.py still has {len(todo)} TODO function(s): {', '.join(todo)}")
    return modules, notes


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.submit", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE.parent / "submission.zip"),
                        help="where to write the zip (default: submission.zip next to assignment/)")
    args = parser.parse_args(argv)
    todo = {}
    modules, notes = survey(HERE, todo)
    names = write_zip(modules, args.out)
    graded = manifest.graded()
    print(f"wrote {args.out} with {len(names) - 1} of the {len(graded)} graded files:")
    for name in names[1:]:
        print(f"  {name}")
    for note in notes:
        print(f"note: {note}")
    total, missing = sum(todo.values()), len(graded) - (len(names) - 1)
    if total or missing:
        left = [f"{total} function(s) still TODO"] if total else []
        left += [f"{missing} graded file(s) missing"] if missing else []
        print(f"Not finished: {' and '.join(left)}, which score 0. Upload this zip once they are done "
              f"(or as it is, to hand in what you have).")
    else:
        print("Every graded function is written. Upload this zip. `make check` runs the public tests; the "
              "grader's hidden tests run on the zip.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
