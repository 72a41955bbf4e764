"""Similarity report: `make similarity SUBMISSIONS="subs/*"` (python -m grader similarity SUBMISSION...
--out DIR) writes DIR/similarity.html (and DIR/similarity.csv, DIR/similarity-submissions.csv):
for each part, the pairs of submissions above a threshold, grouped into clusters, with the
regions they share highlighted side by side; and each submission's share of the reference
(solutions/) and of the starter (assignment/), reported apart.

How (the kit's own code; the method is winnowing, the fingerprinting of MOSS: Schleimer, Wilkerson
and Aiken, "Winnowing: local algorithms for document fingerprinting", SIGMOD 2003):

- the files compared are those `make grade` grades (grader.engine.submission.read_submission), part
  by part, each part against the same part only;
- each file is read ONCE into tokens (one regular expression): every name that is not a keyword,
  a builtin or an attribute (`x.shape`) becomes `V`, docstrings and comments are dropped, and no
  k-gram spans two functions, so that renaming variables and functions, reformatting and
  reordering functions change nothing;
- the k-grams of tokens (K tokens) are hashed (a stable hash: the same files give the same page on
  any machine), and winnowing keeps the smallest hash of every window of W consecutive k-grams:
  any passage of at least K + W - 1 tokens within a function that two files share gives them a
  common fingerprint;
- the starter's k-grams (assignment/<part>.py: signatures, docstrings, stubs) are removed from
  every file first; what is left is compared with ALL the k-grams of the reference
  (solutions/<part>.py): that share is the file's similarity to the instructor's solution, shown on
  its own and never counted between students: two students are compared on their fingerprints
  that are neither the starter's nor the reference's (a student's "own" code);
- candidate pairs come from an inverted index (fingerprint -> the submissions that have it), so
  only pairs that share something are scored, never all n(n-1)/2; a fingerprint that many
  submissions have (more than 20, a tenth of a class over 200, half of one under 40: --common)
  is common code, not evidence, and is left out of the scores (counted on the page);
- a pair's score is the mean of its two shares (shared own fingerprints / each file's own
  fingerprints); pairs at or above the threshold (--threshold) with at least MIN_SHARED shared
  fingerprints are reported, and grouped into clusters (connected components).

A high score is a reason to read the two files, not a verdict: the small parts (activations) leave
little room for variation.
"""
import csv
import hashlib
import io
import keyword
import re
import sys
import tempfile
import builtins
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import ROOT
from ..parts import GRADED

STARTER = ROOT / "assignment"
REFERENCE = ROOT / "solutions"
TEMPLATES = ROOT / "grader" / "templates" / "reports"
# K and W: a passage of K + W - 1 = 15 normalized tokens (about two statements) shared by two files
# always gives them a common fingerprint. Calibrated with tests/test_export_similarity.py's batch (the
# reference and the catalog's 10 distinct correct alternatives as submissions, plus two of them
# copied with every variable renamed): with K = 12, W = 4 the most similar pair of DISTINCT
# solutions scores 0.13 (activations: logaddexp and tanh_form, which share their stable sigmoid),
# the next 0.04; the renamed copies score 1.00. K = 8, 16 and 20 give 0.08, 0.14 and 0.16 for the
# most similar distinct pair and 1.00 for the copies: the result does not hang on K.
K = 12
W = 4
# Pairs: 0.5 is far from both sides of that gap (0.13 .. 1.00).
THRESHOLD = 0.5
# Reference: a distinct correct alternative shares at most 0.41 of its fingerprints with the
# reference (two_layer_net__namedtuples; the nine others 0.01 .. 0.21), a renamed copy of the
# reference 1.00: 0.8 is between them, nearer the copies (a student who rewrote a fifth of it is
# still flagged).
REFERENCE_THRESHOLD = 0.8
# A pair needs at least MIN_SHARED shared fingerprints, whatever its score: a file whose own code is
# tiny (the reference with one line changed) is not "100% like" a file that happens to have that line.
# (The catalog's distinct solutions share up to 8, at scores of 0.13 or less; copies 130 or more.)
MIN_SHARED = 3
# A fingerprint that more than max(COMMON_MIN, COMMON_SHARE x the class) submissions have, or more than
# half of a small class (never fewer than COMMON_FLOOR), is common code (an idiom, a line every
# solution writes), not evidence: it is left out of the scores (the page counts them). This also
# bounds the work: a fingerprint adds at most limit^2 / 2 pair counts. --common sets the limit (a
# copy ring bigger than that would be missed: the page says how many fingerprints were left out).
COMMON_SHARE = 0.1
COMMON_MIN = 20
COMMON_FLOOR = 3
VIEWS = 40               # side-by-side views per part (the table lists every pair)
_KEEP = frozenset(dir(builtins)) | frozenset(keyword.kwlist)     # not the soft keywords: `_` is a name


# -- fingerprints ------------------------------------------------------------------------------
@dataclass
class Tokens:
    """A file's normalized tokens. `text`: the source; `kinds`: one string per token; `spans`:
    (n, 2) character offsets [start, end) of each token in `text`; `segment`: (n,) int64, the
    block each token belongs to (a new block starts at every def, class or decorator and every
    unindented line), so that no k-gram spans two functions and reordering them changes nothing."""
    text: str
    kinds: list[str]
    spans: np.ndarray
    segment: np.ndarray


_TOKEN = re.compile("|".join([
    r"(?P<comment>#[^\r\n]*)",
    r"(?P<string>[rRbBuUfF]{0,2}(?:'{3}[\s\S]*?(?:'{3}|\Z)|\"{3}[\s\S]*?(?:\"{3}|\Z)"
    r"|'(?:\\.|[^'\\\n])*'?|\"(?:\\.|[^\"\\\n])*\"?))",
    r"(?P<name>[^\W\d]\w*)",
    r"(?P<number>0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)",
    r"(?P<newline>\r?\n|\r)",
    r"(?P<space>[ \t\f]+|\\\r?\n)",
    r"(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@<>=!]=|\S)",
]))
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")


def tokens(text: str) -> Tokens:
    """The normalized tokens of Python source `text`, read in one pass of a regular expression
    (Python's own tokenizer is ten times slower, and refuses a file with a syntax error): every
    name that is not a keyword, a builtin or an attribute (after a dot) becomes "V", every string
    "S"; comments, docstrings (a string alone on its logical line) and blank lines are dropped; the
    end of each logical line is ";"."""
    kinds, spans, starts = [], [], []
    depth, line_start, doc, line_at = 0, True, None, 0    # doc: the index of a string that began its line
    for m in _TOKEN.finditer(text):
        group = m.lastgroup
        if group in ("space", "comment"):
            continue
        if group == "newline":
            if depth == 0:
                if doc is not None and doc == len(kinds) - 1:
                    kinds.pop()
                    spans.pop()
                elif kinds and kinds[-1] != ";":
                    kinds.append(";")
                    spans.append(m.span())
                line_start, doc = True, None
            line_at = m.end()
            continue
        s = m.group()
        if line_start and depth == 0 and (m.start() == line_at or s in ("def", "class", "async", "@")):
            starts.append(len(kinds))
        if group == "name":
            kind = s if (s in _KEEP or (kinds and kinds[-1] == ".")) else "V"
        elif group == "string":
            kind = "S"
        else:
            kind = s
            if s in _OPEN:
                depth += 1
            elif s in _CLOSE and depth:
                depth -= 1
        doc = len(kinds) if (group == "string" and line_start and depth == 0) else None
        line_start = False
        kinds.append(kind)
        spans.append(m.span())
    if doc is not None and doc == len(kinds) - 1:
        kinds.pop()
        spans.pop()
    flags = np.zeros(len(kinds), dtype=np.int64)
    flags[[i for i in starts if i < len(kinds)]] = 1
    return Tokens(text, kinds, np.array(spans, dtype=np.int64).reshape(-1, 2), np.cumsum(flags))


_TOKEN_HASH: dict[str, int] = {}


def _token_hash(kind: str) -> int:
    h = _TOKEN_HASH.get(kind)
    if h is None:
        h = _TOKEN_HASH[kind] = int.from_bytes(hashlib.blake2b(kind.encode(), digest_size=8).digest(), "little")
    return h


def kgram_hashes(toks: Tokens, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k-grams of tokens (k: K) that lie within one block: ((m,) int64 the index of each one's
    first token, (m,) uint64 its hash, a polynomial hash, stable across runs)."""
    k = K if k is None else k
    kinds = toks.kinds
    n = len(kinds)
    if n < k:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    cache = _TOKEN_HASH
    ids = np.array([cache[t] if t in cache else _token_hash(t) for t in kinds], dtype=np.uint64)
    h = np.zeros(n - k + 1, dtype=np.uint64)
    base = np.uint64(1099511628211)               # the FNV prime; arithmetic wraps modulo 2**64
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * base + ids[j:n - k + 1 + j]
    at = np.nonzero(toks.segment[:n - k + 1] == toks.segment[k - 1:])[0]
    return at, h[at]


def winnow(h: np.ndarray, w: int | None = None) -> np.ndarray:
    """The positions winnowing selects in (m,) hashes `h`: the rightmost minimum of each window of
    w (default W), each position once, in order. Returns (p,) int64."""
    w = W if w is None else w
    if len(h) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(h) <= w:
        return np.array([len(h) - 1 - int(np.argmin(h[::-1]))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(h, w)
    picks = np.arange(len(windows)) + (w - 1 - np.argmin(windows[:, ::-1], axis=1))
    return np.unique(picks)


@dataclass
class Fingerprint:
    """One file of one submission. `toks`: its tokens; `where`: {hash: [token index of each k-gram
    with it]} of the selected fingerprints, the starter's removed; `raw`: how many fingerprints
    winnowing selected before the starter's were removed; `starter`: of those, how many are the
    starter's; `reference`: of `where`, the hashes the reference has; `own`: the others."""
    toks: Tokens
    where: dict[int, list[int]]
    raw: int
    starter: int
    reference: frozenset
    own: frozenset

    @property
    def starter_share(self) -> float:
        return self.starter / self.raw if self.raw else 0.0

    @property
    def reference_share(self) -> float:
        return len(self.reference) / len(self.where) if self.where else 0.0


def all_kgrams(path: Path) -> frozenset:
    """Every k-gram hash of a file of the kit (the starter or the reference), or nothing."""
    if not path.is_file():
        return frozenset()
    return frozenset(kgram_hashes(tokens(path.read_text(encoding="utf-8")))[1].tolist())


def fingerprint(text: str, starter: frozenset, reference: frozenset) -> Fingerprint:
    toks = tokens(text)
    at, h = kgram_hashes(toks)
    picks = winnow(h)
    where: dict[int, list[int]] = {}
    raw = starter_hits = 0
    seen = set()
    for i in picks.tolist():
        v = int(h[i])
        if v not in seen:
            seen.add(v)
            raw += 1
            if v in starter:
                starter_hits += 1
        if v in starter:
            continue
        where.setdefault(v, []).append(int(at[i]))
    # Every occurrence of a selected hash is marked, not just the one winnowing picked.
    if where:
        chosen = set(picks.tolist())
        keys = np.fromiter(where, dtype=np.uint64, count=len(where))
        for i in np.nonzero(np.isin(h, keys))[0].tolist():
            if i not in chosen:
                where[int(h[i])].append(int(at[i]))
    ref = frozenset(v for v in where if v in reference)
    return Fingerprint(toks, where, raw, starter_hits, ref, frozenset(where) - ref)


# -- comparison --------------------------------------------------------------------------------
@dataclass
class Pair:
    """Two submissions' shared own code in one part. `share_a`, `share_b`: the share of each one's
    own fingerprints the other has; `score`: their mean; `shared`: how many fingerprints."""
    a: str
    b: str
    shared: int
    share_a: float
    share_b: float

    @property
    def score(self) -> float:
        return round((self.share_a + self.share_b) / 2, 6)


@dataclass
class PartResult:
    """One part of the report. `pairs`: the pairs at or above the threshold, most similar first;
    `clusters`: lists of names (connected components of those pairs), biggest first;
    `prints`: {name: Fingerprint}; `common`: fingerprints left out as common code (more than
    `common_limit` submissions have them); `candidates`: pairs that shared anything (the pairs
    scored); `compared`: all pairs, n(n-1)/2."""
    part: str
    pairs: list[Pair]
    clusters: list[list[str]]
    prints: dict[str, Fingerprint]
    common: int = 0
    candidates: int = 0
    compared: int = 0
    common_limit: int = 0


def collect(paths, names=None) -> dict[str, dict[str, str]]:
    """{name: {part: source text}} of the files `make grade` would grade, with its names."""
    from ..engine.submission import read_submission
    sources, taken = {}, set()
    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        for i, path in enumerate(paths):
            sub = read_submission(path, Path(tmp) / "staged", name=names[i] if names else None, slot=str(i))
            base, k = sub.name, 2
            while sub.name in taken:
                sub.name = f"{base}-{k}"
                k += 1
            taken.add(sub.name)
            sources[sub.name] = {part: Path(f).read_text(encoding="utf-8", errors="replace")
                                 for part, f in sub.files.items() if f}
    return sources


def _clusters(names, pairs):
    parent = {n: n for n in names}

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = root(p.a), root(p.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for n in sorted({x for p in pairs for x in (p.a, p.b)}):
        groups.setdefault(root(n), []).append(n)
    return sorted(groups.values(), key=lambda g: (-len(g), g))


def common_limit(n: int) -> int:
    """How many of n submissions may hold a fingerprint before it is common code: 20 up to a class
    of 200, a tenth of bigger ones, at most half of a small one (n < 40), at least COMMON_FLOOR."""
    return max(COMMON_FLOOR, min(max(COMMON_MIN, int(COMMON_SHARE * n)), n // 2))


def compare_part(sources, part, threshold=THRESHOLD, common=None, starter_dir=STARTER,
                 reference_dir=REFERENCE) -> PartResult:
    """The pairs of one part at or above `threshold`, their clusters and every file's fingerprint.
    `common`: the most submissions a fingerprint may have and still count (default common_limit)."""
    starter = all_kgrams(Path(starter_dir) / f"{part}.py")
    reference = all_kgrams(Path(reference_dir) / f"{part}.py") - starter
    names = sorted(n for n in sources if part in sources[n])
    prints = {n: fingerprint(sources[n][part], starter, reference) for n in names}
    index: dict[int, list[str]] = {}
    for n in names:
        for v in prints[n].own:
            index.setdefault(v, []).append(n)
    limit = common_limit(len(names)) if common is None else common
    counts: dict[tuple[str, str], int] = {}
    left_out = set()
    for v, holders in index.items():
        if len(holders) > limit:
            left_out.add(v)
            continue
        for i in range(len(holders)):
            for j in range(i + 1, len(holders)):
                key = (holders[i], holders[j])      # names are in sorted order in every list
                counts[key] = counts.get(key, 0) + 1
    own = {n: len(prints[n].own - left_out) for n in names}
    pairs = []
    for (a, b), shared in counts.items():
        pair = Pair(a, b, shared, shared / own[a], shared / own[b])
        if shared >= MIN_SHARED and pair.score >= threshold:
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return PartResult(part, pairs, _clusters(names, pairs), prints, len(left_out), len(counts),
                      len(names) * (len(names) - 1) // 2, limit)


def compare(sources, parts=GRADED, threshold=THRESHOLD, common=None, **dirs) -> dict[str, PartResult]:
    """{part: PartResult} of {name: {part: source}}."""
    return {part: compare_part(sources, part, threshold, common, **dirs) for part in parts}


# -- rendering ---------------------------------------------------------------------------------
def segments(fp: Fingerprint, hashes) -> list[tuple[str, bool]]:
    """The file's text cut into [(text, marked)]: marked where a k-gram with a hash of `hashes`
    lies."""
    n = len(fp.toks.kinds)
    text = fp.toks.text
    ranges = []
    for v in hashes:
        for i in fp.where.get(v, ()):
            last = min(i + K - 1, n - 1)
            ranges.append((int(fp.toks.spans[i, 0]), int(fp.toks.spans[last, 1])))
    ranges.sort()
    merged = []
    for s, e in ranges:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, at = [], 0
    for s, e in merged:
        if s > at:
            out.append((text[at:s], False))
        out.append((text[s:e], True))
        at = e
    if at < len(text):
        out.append((text[at:], False))
    return out


def jinja_environment():
    """The instructor pages' templates (grader/templates/reports/), autoescaped; jinja2 is imported only here,
    since the grading engine does not depend on it."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = lambda x: f"{x:.0%}"
    return env


def render(found: dict[str, PartResult], sources, threshold=THRESHOLD, reference_threshold=REFERENCE_THRESHOLD,
           views=VIEWS, title="Similarity report") -> str:
    parts = []
    for part, res in found.items():
        cluster_of = {n: i for i, group in enumerate(res.clusters, 1) for n in group}
        shown = []
        for i, p in enumerate(res.pairs[:views], 1):
            shared = res.prints[p.a].own & res.prints[p.b].own
            shown.append({"i": i, "pair": p, "cluster": cluster_of.get(p.a),
                          "a": segments(res.prints[p.a], shared), "b": segments(res.prints[p.b], shared)})
        flagged = sorted((n for n, fp in res.prints.items() if fp.where and fp.reference_share >= reference_threshold),
                         key=lambda n: (-res.prints[n].reference_share, n))
        starter_only = sorted(n for n, fp in res.prints.items() if fp.raw and not fp.where)
        parts.append({"part": part, "res": res, "cluster_of": cluster_of, "shown": shown, "flagged": flagged,
                      "starter_only": starter_only,
                      "reference_views": [{"name": n, "segments": segments(res.prints[n], res.prints[n].reference)}
                                          for n in flagged[:views]]})
    clusters = {part: {n: i for i, group in enumerate(res.clusters, 1) for n in group} for part, res in found.items()}
    rows = []
    for name in sorted(sources):
        rows.append({"name": name, "cells": [(found[p].prints.get(name), clusters[p].get(name)) for p in found],
                     "clustered": sum(1 for p in found if name in clusters[p])})
    return jinja_environment().get_template("similarity.html.j2").render(
        title=title, parts=parts, rows=rows, part_names=list(found), n=len(sources), threshold=threshold,
        reference_threshold=reference_threshold, views=views, K=K, W=W, min_shared=MIN_SHARED)


def write_csv(found: dict[str, PartResult]) -> str:
    """similarity.csv: one row per pair above the threshold (part, cluster, a, b, score, shares)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["part", "cluster", "a", "b", "score", "share_a", "share_b", "shared_fingerprints"])
    for part, res in found.items():
        cluster_of = {n: i for i, group in enumerate(res.clusters, 1) for n in group}
        for p in res.pairs:
            writer.writerow([part, cluster_of[p.a], p.a, p.b, f"{p.score:.3f}", f"{p.share_a:.3f}",
                             f"{p.share_b:.3f}", p.shared])
    return buf.getvalue()


def submissions_csv(found: dict[str, PartResult], reference_threshold=REFERENCE_THRESHOLD) -> str:
    """similarity-submissions.csv: one row per submission and part: its share of the reference and of
    the starter, whether it matches the reference (at or above reference_threshold), its cluster."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["submission", "part", "reference_share", "starter_share", "matches_reference", "cluster"])
    for part, res in found.items():
        cluster_of = {n: i for i, group in enumerate(res.clusters, 1) for n in group}
        for name, fp in sorted(res.prints.items()):
            matches = bool(fp.where) and fp.reference_share >= reference_threshold
            writer.writerow([name, part, f"{fp.reference_share:.3f}", f"{fp.starter_share:.3f}",
                             "yes" if matches else "no", cluster_of.get(name, "")])
    return buf.getvalue()


def report(paths, out_dir, threshold=THRESHOLD, reference_threshold=REFERENCE_THRESHOLD, views=VIEWS, names=None,
           parts=GRADED, common=None):
    """Write out_dir/similarity.html, similarity.csv (the pairs) and similarity-submissions.csv (each
    submission's shares of the reference and the starter); returns (html path, {part: PartResult})."""
    sources = collect(paths, names)
    found = compare(sources, parts, threshold, common)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "similarity.html"
    path.write_text(render(found, sources, threshold, reference_threshold, views), encoding="utf-8")
    (out_dir / "similarity.csv").write_text(write_csv(found), encoding="utf-8")
    (out_dir / "similarity-submissions.csv").write_text(submissions_csv(found, reference_threshold), encoding="utf-8")
    return path, found


def _fraction(text):
    import argparse
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1") from None
    if not 0 < x <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 (excluded) and 1")
    return x


def configure(parser):
    parser.add_argument("submissions", nargs="+", help="folders or .zip files, one per student (as for grade)")
    parser.add_argument("--out", default="grades", help="folder of similarity.html and .csv (default: grades/)")
    parser.add_argument("--threshold", type=_fraction, default=THRESHOLD,
                        help=f"report pairs whose score is at least this (0-1, default {THRESHOLD})")
    parser.add_argument("--reference-threshold", type=_fraction, default=REFERENCE_THRESHOLD,
                        help="flag submissions that share at least this much of their code with the reference "
                             f"(default {REFERENCE_THRESHOLD})")
    parser.add_argument("--common", type=int, default=None, metavar="N",
                        help=f"a fingerprint more than N submissions have is common code, left out (default: "
                             f"{COMMON_MIN}, a tenth of a class over 200, half of one under 40)")
    parser.add_argument("--views", type=int, default=VIEWS,
                        help=f"side-by-side views per part (default {VIEWS}; the tables list everything)")


def command(args):
    """`python -m grader similarity SUBMISSION...`."""
    missing = [p for p in args.submissions if not Path(p).exists()]
    if missing:
        print(f"error: no such submission: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.common is not None and args.common < 2:
        print("error: --common must be at least 2", file=sys.stderr)
        return 2
    if args.views < 0:
        print("error: --views must be 0 or more", file=sys.stderr)
        return 2
    try:
        path, found = report(args.submissions, args.out, args.threshold, args.reference_threshold, args.views,
                             common=args.common)
    except OSError as exc:
        print(f"error: cannot write the report into {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}, similarity.csv (the pairs) and similarity-submissions.csv (the shares of the reference "
          f"and the starter) in {path.parent} (threshold {args.threshold:g})")
    for part, res in found.items():
        flagged = sum(1 for fp in res.prints.values() if fp.where and fp.reference_share >= args.reference_threshold)
        line = (f"  {part}: {len(res.prints)} files, {len(res.pairs)} pair(s) at or above the threshold in "
                f"{len(res.clusters)} cluster(s); {flagged} match the reference")
        if res.pairs:
            best = res.pairs[0]
            line += f"; most similar {best.a} and {best.b} ({best.score:.0%})"
        print(line)
    return 0
