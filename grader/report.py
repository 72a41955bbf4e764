"""The instructor's report on a graded batch: `python -m grader.report [DIR]` (or `make report`).

Reads what `make grade` wrote (DIR/gradebook.csv and DIR/<name>/results.json)
and writes DIR/report.html: one self-contained HTML file (the PNG plots are
embedded as data URIs, so it can be mailed or opened from anywhere, no server).
It shows

- the distribution of total scores and the mean score of each part;
- every test's failure rate, the test most submissions fail on top;
- the most common failure messages (numbers blanked out, so that "relative
  error 0.69" and "relative error 0.71" count as one message);
- the submissions whose parts timed out, crashed, could not be imported, were
  missing, or hit a grader error.

Everything is sorted deterministically, so the same grades give the same file.
"""
import argparse
import base64
import csv
import html
import io
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox.stage import PARTS

TOP_TESTS_PLOTTED = 15
TOP_MESSAGES = 15
MESSAGE_CHARS = 300
LABEL_CHARS = 70
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
PROBLEM_ORDER = ("timeout", "crashed", "import error", "grader error", "missing")


@dataclass
class Batch:
    """One graded batch, as read from disk."""
    folder: Path
    names: list                                  # submissions, in gradebook order
    results: dict                                # name -> results.json contents
    parts: list = field(default_factory=list)    # parts present, in PARTS order


class ReportError(Exception):
    pass


def load_batch(folder):
    folder = Path(folder)
    gradebook = folder / "gradebook.csv"
    if not gradebook.is_file():
        raise ReportError(f"{gradebook} does not exist: grade first (make grade OUT={folder})")
    with open(gradebook, newline="", encoding="utf-8-sig") as f:      # -sig: re-saved by a spreadsheet
        rows = list(csv.DictReader(f))
    if rows and "submission" not in rows[0]:
        raise ReportError(f"{gradebook} has no 'submission' column: is it a gradebook of make grade?")
    names = [row["submission"] for row in rows]
    if not names:
        raise ReportError(f"{gradebook} lists no submissions")
    results = {}
    for name in names:
        path = folder / name / "results.json"
        if not path.is_file():
            raise ReportError(f"{path} is missing, but {gradebook} lists {name}: grade the batch again "
                              f"(make report reads the output of make grade, not of make otter-grade)")
        results[name] = json.loads(path.read_text(encoding="utf-8"))
        if "score" not in results[name] or "parts" not in results[name].get("extra_data", {}):
            raise ReportError(f"{path} was not written by make grade (no score per part; otter's results "
                              f"have none): make report reads the output of make grade")
    present = {p for r in results.values() for p in r.get("extra_data", {}).get("parts", {})}
    return Batch(folder, names, results, [p for p in PARTS if p in present])


# -- statistics ------------------------------------------------------------------
def part_scores(batch):
    """part -> (max_score, [score of each submission that has the part])."""
    out = {}
    for part in batch.parts:
        infos = [r["extra_data"]["parts"][part] for r in batch.results.values() if part in r["extra_data"]["parts"]]
        out[part] = (max(i["max_score"] for i in infos), [i["score"] for i in infos])
    return out


def failures_per_test(batch):
    """[(test name, failed, graded)] for every test, most failed first (then by name)."""
    failed, graded = Counter(), Counter()
    for result in batch.results.values():
        for t in result["tests"]:
            graded[t["name"]] += 1
            failed[t["name"]] += t["status"] != "passed"
    rows = [(name, failed[name], graded[name]) for name in graded]
    return sorted(rows, key=lambda r: (-r[1] / r[2], -r[1], r[0]))


def message_pattern(text):
    """A failure message with its numbers replaced by '#', whitespace collapsed."""
    flat = " ".join((text or "").split())
    flat = NUMBER.sub("#", flat)
    return flat if len(flat) <= MESSAGE_CHARS else flat[:MESSAGE_CHARS] + " …"


def common_messages(batch, top=TOP_MESSAGES):
    """[(pattern, failures, submissions, tests)] of the most frequent failure messages."""
    failures, subs, tests = Counter(), defaultdict(set), defaultdict(set)
    for name in batch.names:
        for t in batch.results[name]["tests"]:
            if t["status"] != "passed" and (t.get("output") or "").strip():
                key = message_pattern(t["output"])
                failures[key] += 1
                subs[key].add(name)
                tests[key].add(t["name"])
    ranked = sorted(failures, key=lambda k: (-len(subs[k]), -failures[k], k))[:top]
    return [(k, failures[k], len(subs[k]), sorted(tests[k])) for k in ranked]


def troubled_parts(batch):
    """[(submission, part, status, seconds, first failing output)] for parts whose status is not ok."""
    rows = []
    for name in batch.names:
        result = batch.results[name]
        for part, info in result["extra_data"]["parts"].items():
            if info["status"] == "ok":
                continue
            first = next((t.get("output") or "" for t in result["tests"]
                          if t["name"].startswith(f"{part}:") and t["status"] != "passed"), "")
            rows.append((name, part, info["status"], info.get("seconds", 0.0), " ".join(first.split())))
    rank = {s: i for i, s in enumerate(PROBLEM_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r[2], -1), PARTS.index(r[1]) if r[1] in PARTS else 99, r[0]))


# -- plots -----------------------------------------------------------------------
def _figure(width, height):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100)


def png(fig):
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def score_histogram(totals, max_total):
    fig = _figure(9.5, 2.7)
    ax = fig.subplots()
    width = max(max_total / 20, 1)
    edges = [i * width for i in range(21)]
    ax.hist(totals, bins=edges, color="#3b75af", edgecolor="white")
    mean = statistics.fmean(totals)
    ax.axvline(mean, color="#c0392b", linestyle="--", label=f"mean {mean:.1f}")
    ax.axvline(statistics.median(totals), color="#555555", linestyle=":",
               label=f"median {statistics.median(totals):.1f}")
    ax.set(xlim=(0, max_total), xlabel=f"total score (of {max_total:g})", ylabel="submissions",
           title=f"Score distribution ({len(totals)} submissions)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left")
    return png(fig)


def part_means(scores):
    fig = _figure(9.5, 2.5)
    ax = fig.subplots()
    parts = list(scores)
    pct = [100 * statistics.fmean(s) / m if s and m else 0.0 for m, s in scores.values()]
    bars = ax.barh(parts[::-1], pct[::-1], color="#3b75af")
    for bar, (m, s) in zip(bars, list(scores.values())[::-1]):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                f"{statistics.fmean(s):.1f} / {m:g}", va="center", fontsize=9)
    ax.set(xlim=(0, 115), xlabel="mean score (% of the part's points)", title="Mean score per part")
    return png(fig)


def failure_rates(rows):
    shown = [r for r in rows if r[1]][:TOP_TESTS_PLOTTED]
    fig = _figure(9.5, 0.9 + 0.26 * max(len(shown), 1))
    ax = fig.subplots()
    if not shown:
        ax.text(0.5, 0.5, "no test failed", ha="center", va="center")
        ax.set_axis_off()
        return png(fig)
    labels = [_short(name) for name, _, _ in shown][::-1]
    rates = [100 * f / n for _, f, n in shown][::-1]
    ax.barh(range(len(shown)), rates, color="#c0392b")
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.set(xlim=(0, 100), xlabel="submissions failing the test (%)",
           title=f"The {len(shown)} most failed tests")
    return png(fig)


def _short(name):
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


# -- HTML ------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em auto; padding: 0 1.5em; max-width: 1000px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; } code { font-size: 0.95em; }
.bad { color: #a93226; font-weight: 600; } img { max-width: 100%; } .muted { color: #777; }
summary { cursor: pointer; color: #555; margin: 0.5em 0; }
"""


def _img(data, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(header, rows, numeric=()):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _summary(batch, totals, max_total, trouble):
    e = html.escape
    counts = Counter(status for _, _, status, _, _ in trouble)
    problems_text = (f'<span class="bad">{len(trouble)} part(s) did not run normally: '
                     + ", ".join(f"{n} {e(s)}" for s, n in sorted(counts.items())) + "</span>"
                     if trouble else "Every part of every submission ran normally.")
    return (f"<h1>Grading report: {e(batch.folder.name)}</h1>"
            f"<p>{len(totals)} submissions; total score mean {statistics.fmean(totals):.1f}, median "
            f"{statistics.median(totals):g}, min {min(totals):g}, max {max(totals):g} (of {max_total:g}). "
            f"{problems_text}</p>"
            f"<p>Sandbox: {e(', '.join(sorted({(r.get('extra_data', {}).get('sandbox') or {}).get('backend', 'unknown') for r in batch.results.values()})))}.</p>")


def _parts_section(scores):
    rows = [(html.escape(p), f"{statistics.fmean(s):.2f}", f"{statistics.median(s):g}",
             f"{sum(v >= m for v in s)} / {len(s)}", f"{m:g}") for p, (m, s) in scores.items()]
    return ("<h2>Mean score per part</h2>" + _img(part_means(scores), "mean score per part")
            + _table(["part", "mean", "median", "full marks", "points"], rows, numeric=(1, 2, 3, 4)))


def _trouble_section(trouble):
    e = html.escape
    rows = [(e(n), e(p), f'<span class="bad">{e(s)}</span>', f"{sec:g}", e(first[:MESSAGE_CHARS]))
            for n, p, s, sec, first in trouble]
    return ("<h2>Timed out, crashed or not graded</h2>"
            + (_table(["submission", "part", "status", "seconds", "first failure"], rows, numeric=(3,))
               if trouble else "<p>None: every part of every submission ran to the end.</p>"))


def _failures_section(failures):
    failing = [r for r in failures if r[1]]
    rows = [(i + 1, html.escape(name), f"{f} / {n}", f"{f / n:.0%}") for i, (name, f, n) in enumerate(failing)]
    return ("<h2>Tests most submissions fail</h2>" + _img(failure_rates(failures), "failure rates")
            + f"<details><summary>All {len(failing)} tests that failed for at least one submission, most "
              f"failed first ({len(failures) - len(failing)} of {len(failures)} passed for every "
              f"submission)</summary>"
            + _table(["#", "test", "failed", "rate"], rows, numeric=(0, 2, 3)) + "</details>")


def _messages_section(messages):
    e = html.escape

    def tests_cell(tests):
        return "<br>".join(e(t) for t in tests[:2]) + (f"<br>… and {len(tests) - 2} more" if len(tests) > 2 else "")

    rows = [(subs, count, f"<code>{e(msg)}</code>", tests_cell(tests)) for msg, count, subs, tests in messages]
    return ("<h2>Most common failure messages</h2>"
            '<p class="muted">Numbers are replaced by #, so messages that differ only in their values '
            "count together.</p>"
            + (_table(["submissions", "failures", "message", "tests"], rows, numeric=(0, 1))
               if messages else "<p>No test failed.</p>"))


def render(batch):
    """The report as an HTML string."""
    totals = [batch.results[n]["score"] for n in batch.names]
    max_total = max(batch.results[n]["max_score"] for n in batch.names)
    trouble = troubled_parts(batch)
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Grading report: '
            f"{html.escape(batch.folder.name)}</title><style>{STYLE}</style></head><body>")
    return "\n".join([
        head,
        _summary(batch, totals, max_total, trouble),
        "<h2>Score distribution</h2>" + _img(score_histogram(totals, max_total), "score distribution"),
        _parts_section(part_scores(batch)),
        _trouble_section(trouble),
        _failures_section(failures_per_test(batch)),
        _messages_section(common_messages(batch)),
        "</body></html>\n",
    ])


def write_report(folder):
    """Write folder/report.html from the grades in folder; return its path."""
    batch = load_batch(folder)
    path = Path(folder) / "report.html"
    path.write_text(render(batch), encoding="utf-8")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.report", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="grades", help="what `make grade` wrote (default: grades/)")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.folder)
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
