"""Similarity report: `make similarity SUBMISSIONS="subs/*"` (python -m grader similarity SUBMISSION...
--out DIR) writes DIR/similarity.html: for each part, the most similar pairs of submissions, with
the regions they share highlighted side by side.

Built on copydetect (https://github.com/blingenf/copydetect, `pip install copydetect`), which
implements winnowing, the fingerprinting algorithm of MOSS (Schleimer, Wilkerson and Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003): each file is tokenized
with Pygments, every variable, function and class name becomes one letter (so renaming
variables changes nothing), and the k-grams of what remains are hashed. Two files are similar by
the share of their fingerprinted code they have in common. The kit adds:

- the files compared are those `make grade` grades (grader.engine.submission.read_submission: the four
  modules, found at any depth of a folder or zip), part by part, each part against the same
  part only;
- the starter code of the part (assignment/<part>.py: signatures, docstrings, the TODO stubs)
  is boilerplate: its fingerprints are removed first, so that untouched stubs do not make every
  pair alike;
- pairs are ranked by the mean of the two shares (a pair where both files are mostly shared
  code comes first), ties by name, so the same batch gives the same page.

With copydetect's default thresholds (noise and guarantee 25 characters of filtered code, so a
window of 1) every k-gram is a fingerprint, and the result does not depend on the hash seed.
A high score is a reason to read the two files, not a verdict: the reference and the small
parts (activations) leave little room for variation.
"""
import html
import io
import tempfile
from itertools import combinations
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.defaults import GUARANTEE_THRESHOLD, NOISE_THRESHOLD
from copydetect.utils import highlight_overlap

from .. import ROOT
from ..parts import GRADED

STARTER = ROOT / "assignment"
WINDOW = GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1      # copydetect's own rule for the window size


def _fingerprint(text, name, boilerplate=None, window=WINDOW):
    return CodeFingerprint(f"{name}.py", NOISE_THRESHOLD, window, boilerplate=boilerplate, language="python",
                           fp=io.StringIO(text))


def boilerplate(part):
    """The fingerprints of the part's starter code (all k-grams: window 1, as copydetect does)."""
    path = STARTER / f"{part}.py"
    if not path.is_file():
        return np.array([], dtype=np.int64)
    return np.unique(np.array(sorted(_fingerprint(path.read_text(encoding="utf-8"), part, window=1).hashes)))


def collect(paths, names=None):
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


def compare(sources, parts=GRADED):
    """{part: [pair, ...]} with every pair of submissions that have the part, most similar first.
    A pair: {"a", "b", "score", "share_a", "share_b", "tokens", "slices_a", "slices_b"}."""
    found = {}
    for part in parts:
        names = sorted(n for n in sources if part in sources[n])
        bp = boilerplate(part)
        prints = {n: _fingerprint(sources[n][part], f"{n}-{part}", bp) for n in names}
        pairs = []
        for a, b in combinations(names, 2):
            tokens, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            pairs.append({"a": a, "b": b, "share_a": float(share_a), "share_b": float(share_b),
                          "score": round((float(share_a) + float(share_b)) / 2, 6), "tokens": int(tokens),
                          "slices_a": slices_a, "slices_b": slices_b})
        pairs.sort(key=lambda p: (-p["score"], p["a"], p["b"]))
        found[part] = pairs
    return found


def _highlighted(text, slices):
    if len(slices) == 0 or np.size(slices) == 0:
        return html.escape(text)
    doc, _ = highlight_overlap(text, np.asarray(slices, dtype=np.int64), "<mark>", "</mark>", escape_html=True)
    return doc


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; margin-bottom: 2em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 12px; max-height: 40em; }
mark { background: #ffd27a; }
"""


def render(found, sources, top=10, title="Similarity report"):
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
           f"<p>{len(sources)} submissions, compared part by part with copydetect (winnowing, as MOSS does; "
           f"names do not matter), the starter code removed first. Score: the mean share of each file's "
           f"fingerprinted code that the other file has too. A high score is a reason to read the two files, "
           f"not a verdict.</p>"]
    for part, pairs in found.items():
        out.append(f"<h2 id='{part}'>{part}</h2>")
        if not pairs:
            out.append("<p>Fewer than two submissions have this part.</p>")
            continue
        out.append("<table><tr><th>#</th><th>score</th><th>submission</th><th>share</th><th>submission</th>"
                   "<th>share</th><th>shared tokens</th></tr>")
        for i, p in enumerate(pairs[:top], 1):
            out.append(f"<tr><td><a href='#{part}-{i}'>{i}</a></td><td class='num'>{p['score']:.0%}</td>"
                       f"<td>{html.escape(p['a'])}</td><td class='num'>{p['share_a']:.0%}</td>"
                       f"<td>{html.escape(p['b'])}</td><td class='num'>{p['share_b']:.0%}</td>"
                       f"<td class='num'>{p['tokens']}</td></tr>")
        out.append("</table>")
        for i, p in enumerate(pairs[:top], 1):
            out.append(f"<h3 id='{part}-{i}'>{part} #{i}: {html.escape(p['a'])} and {html.escape(p['b'])} "
                       f"({p['score']:.0%})</h3><div class='pair'>")
            for who, slices in ((p["a"], p["slices_a"]), (p["b"], p["slices_b"])):
                out.append(f"<div><b>{html.escape(who)}</b> ({part}.py)<pre>"
                           f"{_highlighted(sources[who][part], slices)}</pre></div>")
            out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def report(paths, out_dir, top=10, names=None):
    """Write out_dir/similarity.html; returns (path, {part: pairs})."""
    sources = collect(paths, names)
    found = compare(sources)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "similarity.html"
    path.write_text(render(found, sources, top), encoding="utf-8")
    return path, found


def configure(parser):
    parser.add_argument("submissions", nargs="+", help="folders or .zip files, one per student (as for grade)")
    parser.add_argument("--out", default="grades", help="folder of similarity.html (default: grades/)")
    parser.add_argument("--top", type=int, default=10, help="pairs shown per part (default 10)")


def command(args):
    """`python -m grader similarity SUBMISSION...`."""
    path, found = report(args.submissions, args.out, args.top)
    print(f"wrote {path}")
    for part, pairs in found.items():
        if pairs:
            best = pairs[0]
            print(f"  {part}: most similar {best['a']} and {best['b']} ({best['score']:.0%}), "
                  f"{len(pairs)} pairs compared")
        else:
            print(f"  {part}: fewer than two submissions have it")
    return 0
