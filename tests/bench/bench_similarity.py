"""Benchmark (not a test): `python tests/bench/bench_similarity.py [--sizes 56 300] [--runs 5]`.

Generates synthetic classes (`synthetic_class`): each student's four files are the reference
(solutions/) with every variable renamed, the functions in another order, and a few helper
functions of the student's own (random code); some students copy the reference whole (renamed);
a few clusters of students share their helpers (copied with renamed variables). Then prints,
for each class size, the median time of `python -m grader similarity`'s work (grader.instructor.
similarity.report: reading the files, fingerprints, candidate pairs, the HTML and the CSV) over
several runs (and its CPU time: the machine may be shared), the pairs scored against all n(n-1)/2, and whether the planted clusters and
reference copies were found.

tests/test_export_similarity.py uses `synthetic_class` with a small class.
"""
import argparse
import ast
import builtins
import keyword
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.parts import GRADED  # noqa: E402

_KEEP = set(dir(builtins)) | set(keyword.kwlist) | {"np", "numpy", "self"}
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "da", "fo"]


def _name(rng):
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) + str(rng.randint(0, 99))


def rename(tree, rng):
    """Every variable and argument of `tree` renamed at random (function names and attributes kept)."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    mapping = {n: _name(rng) for n in sorted(names - _KEEP)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
        elif isinstance(node, ast.arg) and node.arg in mapping:
            node.arg = mapping[node.arg]
    return tree


def _expr(rng, names, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.3:
        return rng.choice(names) if rng.random() < 0.6 else repr(round(rng.uniform(-9, 9), rng.randint(0, 3)))
    if r < 0.5:
        fn = rng.choice(["np.sum", "np.mean", "np.abs", "np.sqrt", "np.tanh", "np.exp", "abs", "float", "max", "min"])
        args = ", ".join(_expr(rng, names, depth + 1) for _ in range(1 if fn[0:3] == "np." or fn in ("abs", "float")
                                                                  else 2))
        return f"{fn}({args})"
    op = rng.choice(["+", "-", "*", "/", "**", "//", "%"])
    return f"({_expr(rng, names, depth + 1)} {op} {_expr(rng, names, depth + 1)})"


def helper(rng):
    """A random function of a few statements: one student's own code."""
    args = [_name(rng) for _ in range(rng.randint(1, 3))]
    names, lines = list(args), []
    for _ in range(rng.randint(3, 6)):
        target = _name(rng)
        if rng.random() < 0.25:
            lines.append(f"    for {target} in range({rng.randint(2, 9)}):")
            lines.append(f"        {args[0]} = {_expr(rng, names + [target])}")
        elif rng.random() < 0.25:
            lines.append(f"    if {_expr(rng, names)} > {_expr(rng, names)}:")
            lines.append(f"        {target} = {_expr(rng, names)}")
            lines.append("    else:")
            lines.append(f"        {target} = {_expr(rng, names)}")
            names.append(target)
        else:
            lines.append(f"    {target} = {_expr(rng, names)}")
            names.append(target)
    lines.append(f"    return {_expr(rng, names)}")
    return f"def {_name(rng)}({', '.join(args)}):\n" + "\n".join(lines) + "\n"


def variant(source, rng, helpers=()):
    """`source` with its variables renamed, its top-level functions and classes in another order,
    and `helpers` (source text) inserted among them."""
    tree = rename(ast.parse(source), rng)
    head = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    body = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    for text in helpers:
        body.append(rename(ast.parse(text), rng).body[0])
    rng.shuffle(body)
    tree.body = head + body
    return ast.unparse(tree) + "\n"


def synthetic_class(out, n, seed=0, clusters=(4, 3, 3, 2), reference_copies=3):
    """Write n submission folders under `out` (s000, s001, ...). Returns (paths, planted clusters
    [[names]], reference copies [names]). The first students form the clusters (they share
    their helpers in every part), the next `reference_copies` copy the reference whole."""
    rng = random.Random(seed)
    out = Path(out)
    names = [f"s{i:03d}" for i in range(n)]
    planted, at = [], 0
    for size in clusters:
        if at + size <= n:
            planted.append(names[at:at + size])
            at += size
    copies = names[at:at + reference_copies]
    leader = {m: group[0] for group in planted for m in group}
    # Own code in proportion to the part: 2-4 helpers, and one more per 2500 characters of the reference.
    sizes = {part: len((ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")) for part in GRADED}
    own = {name: {part: [helper(rng) for _ in range(rng.randint(2, 4) + sizes[part] // 2500)] for part in GRADED}
           for name in names}
    paths = []
    for name in names:
        folder = out / name
        folder.mkdir(parents=True)
        for part in GRADED:
            source = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
            if name in copies:
                helpers = ()
            elif name in leader:
                helpers = own[leader[name]][part] + own[name][part][:1]   # the leader's, and one of their own
            else:
                helpers = own[name][part]
            (folder / f"{part}.py").write_text(variant(source, rng, helpers), encoding="utf-8")
        paths.append(str(folder))
    return paths, planted, copies


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[56, 300])
    ap.add_argument("--runs", type=int, default=5, help="runs per size (the median is printed)")
    args = ap.parse_args()
    from grader.instructor import similarity
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
            paths, planted, copies = synthetic_class(Path(tmp) / "subs", n)
            times, cpu = [], []
            for _ in range(args.runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                _, found = similarity.report(paths, Path(tmp) / "out")
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            scored = sum(r.candidates for r in found.values())
            everything = sum(r.compared for r in found.values())
            clusters_ok = all(sorted(sorted(c) for c in r.clusters) == sorted(planted) for r in found.values())
            flagged = {p: sorted(nm for nm, fp in r.prints.items() if fp.where and
                                 fp.reference_share >= similarity.REFERENCE_THRESHOLD) for p, r in found.items()}
            copies_ok = all(set(copies) <= set(v) for v in flagged.values())
            others = sum(len(set(v) - set(copies)) for v in flagged.values())
            size = (Path(tmp) / "out" / "similarity.html").stat().st_size
            print(f"{n} submissions: median {statistics.median(times):.2f} s over {args.runs} runs "
                  f"(min {min(times):.2f}, max {max(times):.2f}; CPU time median {statistics.median(cpu):.2f} s); "
                  f"{scored} pairs scored of {everything} (4 parts); planted clusters found exactly: "
                  f"{clusters_ok}; every reference copy flagged: {copies_ok} ({others} other file(s) flagged); "
                  f"similarity.html {size / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    main()
