"""LMS export: `python -m grader export --canvas ROSTER.csv [DIR] [--out FILE]`.

Writes DIR/canvas.csv, a file for Canvas's Gradebook import (Grades > Import), from the totals in
DIR/gradebook.csv (`make grade`, merged across re-gradings).

The layout is that of Canvas's own gradebook export, which its import reads back
(Canvas Instructor Guide, "How do I import grades in the Gradebook?",
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807;
the required columns spelled out at
https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades):

    Student,ID,SIS User ID,SIS Login ID,Section,MLP assignment
    Points Possible,,,,,100
    "Lovelace, Ada",,s1001,ada,,92.5

A student is matched by any one of Student (name), ID (Canvas's user id) or SIS User ID; SIS
Login ID and Section must be present (they may be empty). A column title Canvas does not know
yet creates a new assignment, worth the Points Possible.

The roster maps the names of the graded submissions (the gradebook's `submission` column, i.e.
the folder or zip names) to students. Its columns: `submission` and `student_id` (the SIS User
ID) are required; `name`, `canvas_id`, `login_id` and `section` are used when present.
Nothing is dropped silently: submissions without a roster entry and students without a
submission are listed on the terminal (the command exits 1 when a graded submission is not in the
roster, since its grade would not reach Canvas); a student
without a submission gets no score in the file, so the import leaves their cell as it is.
"""
import csv
import io
import sys
from pathlib import Path

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER_REQUIRED = ("submission", "student_id")


class ExportError(Exception):
    pass


def read_csv(path, what):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:     # -sig: a roster saved by a spreadsheet
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ExportError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ExportError(f"{path} is not a UTF-8 CSV file ({exc})") from None
    return rows


def read_roster(path):
    rows = read_csv(path, "roster")
    columns = {c.strip().lower() for c in (rows[0].keys() if rows else [])}
    missing = [c for c in ROSTER_REQUIRED if c not in columns]
    if not rows or missing:
        raise ExportError(f"{path} needs the columns {', '.join(ROSTER_REQUIRED)} (has: "
                          f"{', '.join(sorted(columns)) or 'none'})")
    roster, duplicates = {}, []
    for row in rows:
        entry = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not entry["submission"] and not entry["student_id"]:
            continue                                   # a blank line
        if entry["submission"] in roster:
            duplicates.append(entry["submission"])
        roster[entry["submission"]] = entry
    if duplicates:
        raise ExportError(f"{path} lists these submissions more than once: {', '.join(sorted(set(duplicates)))}")
    return roster


def read_totals(folder):
    """{submission: (total, status)} from folder/gradebook.csv, and the maximum score."""
    path = Path(folder) / "gradebook.csv"
    if not path.is_file():
        raise ExportError(f"{path} does not exist: grade first (make grade OUT={folder}), or rebuild it "
                          f"(python -m grader gradebook {folder})")
    totals = {row["submission"]: (row["total"], row.get("status", "")) for row in read_csv(path, "gradebook")
              if row.get("submission")}
    max_score = 100
    from ..engine.grade import read_results_file
    for name in totals:
        result = read_results_file(Path(folder) / name / "results.json")
        if result is not None:
            max_score = result["max_score"]
            break
    return totals, max_score


def canvas_csv(totals, roster, column, max_score):
    """(CSV text, submissions not in the roster, roster entries without a submission)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([*CANVAS_COLUMNS, column])
    writer.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
    for name, entry in sorted(roster.items(), key=lambda kv: (kv[1].get("name", ""), kv[1]["student_id"])):
        score = totals[name][0] if name in totals else ""
        writer.writerow([entry.get("name", ""), entry.get("canvas_id", ""), entry["student_id"],
                         entry.get("login_id", ""), entry.get("section", ""), score])
    unmatched = sorted(set(totals) - set(roster))
    absent = sorted(set(roster) - set(totals))
    return buf.getvalue(), unmatched, absent


def export_canvas(folder, roster_path, out=None, column="MLP assignment"):
    totals, max_score = read_totals(folder)
    roster = read_roster(roster_path)
    text, unmatched, absent = canvas_csv(totals, roster, column, max_score)
    out = Path(out) if out else Path(folder) / "canvas.csv"
    out.write_text(text, encoding="utf-8")
    return out, len(roster) - len(absent), unmatched, absent, roster


def configure(parser):
    parser.add_argument("dir", nargs="?", default="grades", help="a graded folder (default: grades/)")
    parser.add_argument("--canvas", required=True, metavar="ROSTER.csv",
                        help="CSV with the columns submission and student_id (Canvas SIS User ID), optionally name")
    parser.add_argument("--column", default="MLP assignment", help="the assignment's column title in Canvas")
    parser.add_argument("--out", help="where to write (default: DIR/canvas.csv)")


def command(args):
    """`python -m grader export --canvas ROSTER.csv [DIR]`."""
    try:
        out, matched, unmatched, absent, roster = export_canvas(args.dir, args.canvas, args.out, args.column)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: {matched} student(s) with a score in the column {args.column!r}")
    if unmatched:
        print(f"{len(unmatched)} graded submission(s) are not in the roster {args.canvas}, so they are NOT in "
              f"{out.name}: add them to the roster and export again:")
        for name in unmatched:
            print(f"  {name}")
    if absent:
        print(f"{len(absent)} student(s) of the roster have no graded submission (left empty, so the import "
              f"keeps their current grade):")
        for name in absent:
            print(f"  {name} (SIS User ID {roster[name]['student_id']})")
    return 1 if unmatched else 0          # a grade that would not reach Canvas fails the command
