"""LMS export: `python -m grader export --canvas ROSTER.csv [DIR] [--out FILE] [--zeros]`.

Writes DIR/canvas.csv, a file for Canvas's Gradebook import (Grades > Import), from the totals in
DIR/gradebook.csv (`make grade`, merged across re-gradings), and DIR/canvas-matches.csv: how each
submission was matched to a student, how it was graded, and what was written for it.

ROSTER is any of (recognized by its header):

1. Canvas's own gradebook export (Grades > Export > Export Entire Gradebook), as it is. Its layout,
   from Canvas's exporter (instructure/canvas-lms, lib/gradebook_exporter.rb,
   https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_exporter.rb): a header
   `Student, ID, SIS User ID, SIS Login ID, [Integration ID], [Root Account], Section`, then custom
   columns and one column per assignment ("Title (assignment id)") and the totals; `Student` may
   be split into `LastName, FirstName`; SIS User ID appears only when the user may see SIS ids. An
   optional row of "Manual Posting" / "Muted" under the header, then a row whose first cell is
   "    Points Possible"; then one row per student, the name as Canvas sorts it ("Lovelace, Ada").
   Comma- or semicolon-separated (a user setting), maybe with a byte order mark. Submissions are
   matched to its students by SIS Login ID (whole, or the part before "@"), SIS User ID, Canvas ID,
   or name (the same words in any order, case and accents aside: "ada_lovelace", "Ada Lovelace",
   "lovelace-ada", "adalovelace").
2. A GitHub Classroom roster (the download link on the classroom's Students tab): the columns
   `identifier, github_username, github_id, name` (https://abc-classroom.readthedocs.io/en/latest/
   get-started/classroom-roster.html). A submission is matched by GitHub username: the name is the
   username, or ends with "-<username>" as Classroom names the students' repositories
   ("<assignment prefix>-<username>", https://github.com/github/gh-classroom/issues/29); else by
   identifier or name. canvas.csv then carries the identifier as SIS User ID (as SIS Login ID when
   it holds an "@") and the name as Student: Canvas's importer tries the ID, then the SIS User ID,
   then the SIS Login ID, then the name (lib/gradebook_importer.rb, process_student).
3. The kit's own roster: columns `submission` (the names in gradebook.csv) and `student_id` (the SIS
   User ID), optionally `name`, `canvas_id`, `login_id`, `section`; matched by `submission` alone.

canvas.csv has Canvas's own columns (`Student, ID, SIS User ID, SIS Login ID, Section`), the
assignment's column (`--column`; a title Canvas does not know creates a new assignment) and the
"Points Possible" row (Canvas Instructor Guide, "How do I import grades in the Gradebook?",
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807),
one row per student of the roster.

Nothing is dropped silently. A submission that was not graded normally is listed and LEFT OUT
(its cell empty, so the import keeps what Canvas has) unless `--zeros`, which writes 0: an upload
that could not be read (a corrupt zip), one in which none of the graded files was found, and one
the machine could not grade ("not graded", "grader error", "sandbox error": grade it again). A
part that timed out, crashed, did not import or was missing while others were graded is a normal
grade, written, and its status is in canvas-matches.csv. Submissions that match no student, or
several, are listed and not written; students without a submission are listed and left empty
(`--zeros`: 0). The command exits 1 when a grade does not reach canvas.csv for a reason the
instructor must fix (an unmatched or ambiguous submission, a grading the machine could not do),
and 2 with an `error:` line on bad input.
"""
import csv
import io
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..parts import GRADED

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER_REQUIRED = ("submission", "student_id")
CLASSROOM_COLUMNS = ("identifier", "github_username", "github_id", "name")
MATCHES_NAME = "canvas-matches.csv"
MATCHES_COLUMNS = ["submission", "student", "canvas_id", "sis_user_id", "login_id", "github_username",
                   "matched_by", "grading", "parts", "written"]
HOST_FAILURES = ("not graded", "grader error", "sandbox error")   # the machine, not the student
UNREADABLE = ("could not be read", "is neither a folder nor a zip file", "entries; at most")


class ExportError(Exception):
    pass


@dataclass
class Student:
    """One student of the roster, with what canvas.csv needs to find them in Canvas."""
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    login_id: str = ""
    section: str = ""
    github: str = ""
    identifier: str = ""
    submission: str = ""           # the kit's roster only
    line: int = 0                  # the line of the roster file

    def label(self) -> str:
        ids = [f"{what} {v}" for what, v in (("SIS User ID", self.sis_user_id), ("login", self.login_id),
                                             ("GitHub", self.github), ("Canvas ID", self.canvas_id)) if v]
        return f"{self.name or '(no name)'}" + (f" ({', '.join(ids)})" if ids else "")


@dataclass
class Roster:
    """`kind`: "canvas" (Canvas's gradebook export), "classroom" (GitHub Classroom) or "kit"."""
    kind: str
    students: list[Student]
    path: Path
    columns: list[str] = field(default_factory=list)

    def assignment_column(self, title: str) -> str:
        """The export's own column for an assignment titled `title` ("MLP (1002)": Canvas adds the
        assignment's id, and its importer finds the assignment by it), or `title` as given."""
        found = [c for c in self.columns if c == title or re.fullmatch(re.escape(title) + r" \(\d+\)", c)]
        return found[0] if len(found) == 1 else title


@dataclass
class Grading:
    """How a submission of gradebook.csv was graded. `verdict`: "graded" (a normal grade: its total
    is written), "unreadable upload", "nothing submitted" or "not graded" (left out unless
    --zeros); `parts`: the parts whose status is not ok ("mlp: timeout; ..."); `detail`: why."""
    submission: str
    total: str
    verdict: str
    parts: str = ""
    detail: str = ""

    @property
    def normal(self) -> bool:
        return self.verdict == "graded"


@dataclass
class Match:
    """A submission and the student it was matched to (`student` None: no match; `others`: the
    students it matched equally well, when ambiguous). `how`: the rule that matched."""
    submission: str
    student: Student | None
    how: str = ""
    others: list[Student] = field(default_factory=list)


@dataclass
class Export:
    """What export_canvas wrote and what it could not place."""
    out: Path
    matches_path: Path
    written: list[tuple[Student, str]]           # (student, score written)
    matches: list[Match]
    gradings: dict[str, Grading]
    left_out: list[Grading]                       # not graded normally, not written (no --zeros)
    zeroed: list[Grading]                         # not graded normally, written as 0 (--zeros)
    unmatched: list[str]
    ambiguous: list[Match]
    conflicts: dict[str, list[str]]               # student label -> submissions matched to them
    absent: list[Student]                         # roster students without a submission
    roster: Roster
    column: str                                   # the assignment's column title written


# -- reading ---------------------------------------------------------------------------------
def _read_rows(path, what):
    """The rows of a CSV file (comma or semicolon separated, as Canvas's importer accepts)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")          # -sig: a file saved by a spreadsheet
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path} is not a UTF-8 CSV file ({exc})") from None
    if "\0" in text:
        raise ExportError(f"{path} is not a CSV file (it holds NUL bytes)")
    first = text.splitlines()[0] if text.strip() else ""
    try:
        counts = {sep: len(next(csv.reader([first], delimiter=sep), [])) for sep in (",", ";")}
        sep = ";" if counts[";"] > counts[","] else ","
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        raise ExportError(f"{path} is not a CSV file ({exc})") from None


def _fold(s: str) -> str:
    """Case, accents and surrounding space aside."""
    s = unicodedata.normalize("NFKD", s.strip())
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


def _words(s: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", _fold(s)) if w]


def _unquote(cell: str) -> str:
    """A name Canvas wrote as ="..." (so that a spreadsheet does not run it as a formula)."""
    cell = cell.strip()
    m = re.fullmatch(r'="(.*)"', cell)
    return m.group(1) if m else cell


def read_roster(path) -> Roster:
    """The roster at `path`: Canvas's gradebook export, a GitHub Classroom roster or the kit's."""
    rows = [r for r in _read_rows(path, "roster") if any(c.strip() for c in r)]
    if not rows:
        raise ExportError(f"{path} is empty: pass Canvas's gradebook export, a GitHub Classroom roster or "
                          f"a CSV with the columns submission, student_id")
    header = [c.strip() for c in rows[0]]
    lower = [c.lower() for c in header]
    if header and header[0] in ("Student", "LastName") and "ID" in header:
        return _canvas_roster(path, header, rows)
    if "github_username" in lower:
        return _classroom_roster(path, lower, rows)
    if "submission" in lower or "student_id" in lower:
        missing = [c for c in ROSTER_REQUIRED if c not in lower]
        if missing:
            raise ExportError(f"{path} needs the columns {', '.join(ROSTER_REQUIRED)} (has: {', '.join(header)})")
        return _kit_roster(path, lower, rows)
    raise ExportError(
        f"{path} is not a roster this command knows. Pass Canvas's own gradebook export (Grades > Export: the "
        f"columns Student, ID, SIS User ID, SIS Login ID, Section), a GitHub Classroom roster (identifier, "
        f"github_username, github_id, name) or a CSV with the columns {', '.join(ROSTER_REQUIRED)}. "
        f"Its columns: {', '.join(header) or 'none'}")


def _cell(row, i):
    return row[i].strip() if i is not None and i < len(row) else ""


def _canvas_roster(path, header, rows):
    col = {name: (header.index(name) if name in header else None)
           for name in ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section")}
    students = []
    for line, row in enumerate(rows[1:], 2):
        first = row[0].strip() if row else ""
        if "Points Possible" in first:
            continue                           # the assignments' points, no student
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c or "", re.I) for c in row):
            continue                           # the row of assignments posted by hand (the importer skips it too)
        if col["Student"] is not None:
            name = _unquote(_cell(row, col["Student"]))
        else:
            last, given = _unquote(_cell(row, col["LastName"])), _unquote(_cell(row, col["FirstName"]))
            name = f"{last}, {given}" if last and given else last or given
        students.append(Student(name=name, canvas_id=_cell(row, col["ID"]),
                                sis_user_id=_cell(row, col["SIS User ID"]), login_id=_cell(row, col["SIS Login ID"]),
                                section=_cell(row, col["Section"]), line=line))
    if not students:
        raise ExportError(f"{path} (Canvas's gradebook export) has no students")
    return Roster("canvas", students, Path(path), header)


def _classroom_roster(path, lower, rows):
    missing = [c for c in ("identifier", "github_username") if c not in lower]
    if missing:
        raise ExportError(f"{path} looks like a GitHub Classroom roster but has no column {', '.join(missing)} "
                          f"(Classroom's roster has {', '.join(CLASSROOM_COLUMNS)})")
    col = {c: lower.index(c) if c in lower else None for c in CLASSROOM_COLUMNS}
    students = []
    for line, row in enumerate(rows[1:], 2):
        identifier, github, name = (_cell(row, col[c]) for c in ("identifier", "github_username", "name"))
        at = "@" in identifier
        students.append(Student(name=name or identifier, identifier=identifier, github=github, line=line,
                                sis_user_id="" if at else identifier, login_id=identifier if at else ""))
    if not students:
        raise ExportError(f"{path} (a GitHub Classroom roster) has no students")
    return Roster("classroom", students, Path(path))


def _kit_roster(path, lower, rows):
    students, seen, duplicates = [], set(), []
    for line, row in enumerate(rows[1:], 2):
        entry = {lower[i]: c.strip() for i, c in enumerate(row) if i < len(lower)}
        if not entry.get("submission") and not entry.get("student_id"):
            continue
        if entry.get("submission") in seen:
            duplicates.append(entry["submission"])
        seen.add(entry.get("submission"))
        students.append(Student(name=entry.get("name", ""), canvas_id=entry.get("canvas_id", ""),
                                sis_user_id=entry.get("student_id", ""), login_id=entry.get("login_id", ""),
                                section=entry.get("section", ""), submission=entry.get("submission", ""), line=line))
    if duplicates:
        raise ExportError(f"{path} lists these submissions more than once: {', '.join(sorted(set(duplicates)))}")
    if not students:
        raise ExportError(f"{path} has no students")
    return Roster("kit", students, Path(path))


def read_gradings(folder) -> tuple[dict[str, Grading], float]:
    """{submission: Grading} from folder/gradebook.csv and each submission's results.json, and the
    maximum score (Points Possible)."""
    from ..engine.grade import read_results_file
    from ..engine.results import SubmissionResult
    path = Path(folder) / "gradebook.csv"
    if not path.is_file():
        raise ExportError(f"{path} does not exist: grade first (make grade OUT={folder}), or rebuild it "
                          f"(python -m grader gradebook {folder})")
    rows = _read_rows(path, "gradebook")
    if not rows or "submission" not in rows[0] or "total" not in rows[0]:
        raise ExportError(f"{path} is not a gradebook written by make grade (no submission and total columns)")
    header = rows[0]
    gradings, max_score = {}, None
    for row in rows[1:]:
        entry = dict(zip(header, row))
        name = entry.get("submission", "").strip()
        if not name:
            continue
        raw = read_results_file(Path(folder) / name / "results.json")     # None unless of the schema
        result = None if raw is None else SubmissionResult.from_json(raw)
        if result is not None and max_score is None:
            max_score = result.max_score
        gradings[name] = _grading(name, entry, result)
    return gradings, 100 if max_score is None else max_score


def _grading(name, entry, result) -> Grading:
    total = entry.get("total", "").strip()
    if result is not None:
        statuses = {p: info.status for p, info in result.parts.items()}
    else:                                          # gradebook.csv alone: "mlp: timeout; activations: missing"
        status = entry.get("status", "").strip()
        statuses = {} if status in ("", "ok") else dict(
            (s.split(":", 1)[0].strip(), s.split(":", 1)[1].strip()) for s in status.split(";") if ":" in s)
    bad = {p: s for p, s in statuses.items() if s != "ok"}
    parts = "; ".join(f"{p}: {s}" for p, s in bad.items())
    host = [p for p, s in bad.items() if s in HOST_FAILURES]
    if host:
        return Grading(name, total, "not graded", parts,
                       f"the machine could not grade {', '.join(host)}: grade it again (make grade, same OUT)")
    graded_parts = [p for p in GRADED if p in statuses] or list(statuses)
    if graded_parts and all(statuses[p] == "missing" for p in graded_parts):
        messages = [t.output for t in result.tests] if result is not None else []
        unreadable = next((m for m in messages if any(u in m for u in UNREADABLE)), None)
        if unreadable:
            return Grading(name, total, "unreadable upload", parts, unreadable.splitlines()[0][:300])
        first = next((m.splitlines()[0][:300] for m in messages if m.strip()), "")
        return Grading(name, total, "nothing submitted", parts,
                       "none of the graded files was found in it" + (f" ({first})" if first else ""))
    return Grading(name, total, "graded", parts)


# -- matching --------------------------------------------------------------------------------
def _name_keys(name: str) -> set[str]:
    """The forms of a student's name a submission may have: its words in any order, joined or not."""
    words = _words(name)
    if not words:
        return set()
    return {" ".join(sorted(words)), "".join(words), "".join(reversed(words))}


def _rules(kind):
    """[(how, test(submission name, student) -> bool)] in order: the first rule that matches one
    student decides; one that matches several makes the submission ambiguous."""
    def login(s, st):
        f = _fold(st.login_id)
        return bool(f) and (s == f or ("@" in f and s == f.split("@", 1)[0]))

    def by_name(s, st):
        keys = _name_keys(st.name)
        words = _words(s)
        return bool(keys) and bool(words) and (" ".join(sorted(words)) in keys or "".join(words) in keys)

    if kind == "kit":
        return [("the roster's submission column", lambda s, st: s == _fold(st.submission))]
    if kind == "classroom":
        return [("GitHub username", lambda s, st: bool(st.github) and s == _fold(st.github)),
                ("GitHub username (repository name <assignment>-<username>)",
                 lambda s, st: bool(st.github) and s.endswith("-" + _fold(st.github))),
                ("Classroom identifier", lambda s, st: bool(st.identifier) and s == _fold(st.identifier)),
                ("name", by_name)]
    return [("SIS Login ID", login),
            ("SIS User ID", lambda s, st: bool(st.sis_user_id) and s == _fold(st.sis_user_id)),
            ("Canvas ID", lambda s, st: bool(st.canvas_id) and s == _fold(st.canvas_id)),
            ("name", by_name)]


def match(submissions, roster: Roster) -> list[Match]:
    """Each submission name matched to at most one student of the roster."""
    found = []
    for sub in submissions:
        s = _fold(sub)
        result = Match(sub, None)
        if roster.kind == "kit":                   # exact first: the roster names the submission
            exact = [st for st in roster.students if st.submission == sub]
            if len(exact) == 1:
                found.append(Match(sub, exact[0], "the roster's submission column"))
                continue
        for how, test in _rules(roster.kind):
            hits = [st for st in roster.students if test(s, st)]
            if len(hits) == 1:
                result = Match(sub, hits[0], how)
                break
            if len(hits) > 1:
                result = Match(sub, None, how, hits)
                break
        found.append(result)
    return found


# -- writing ---------------------------------------------------------------------------------
def canvas_csv(rows, column, max_score) -> str:
    """The text of canvas.csv: [(Student, score)] under Canvas's columns and the Points Possible row."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([*CANVAS_COLUMNS, column])
    writer.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
    for st, score in rows:
        writer.writerow([st.name, st.canvas_id, st.sis_user_id, st.login_id, st.section, score])
    return buf.getvalue()


def export_canvas(folder, roster_path, out=None, column="MLP assignment", zeros=False) -> Export:
    """Write canvas.csv (default folder/canvas.csv) and canvas-matches.csv next to it."""
    if not column.strip():
        raise ExportError("--column is empty: give the assignment's title in Canvas")
    gradings, max_score = read_gradings(folder)
    roster = read_roster(roster_path)
    out = Path(out) if out else Path(folder) / "canvas.csv"
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist")
    column = roster.assignment_column(column)
    matches = match(sorted(gradings), roster)
    by_student: dict[int, list[Match]] = {}
    for m in matches:
        if m.student is not None:
            by_student.setdefault(id(m.student), []).append(m)
    conflicts = {ms[0].student.label(): [m.submission for m in ms] for ms in by_student.values() if len(ms) > 1}
    placed = {id(ms[0].student): ms[0] for ms in by_student.values() if len(ms) == 1}

    written, left_out, zeroed, absent = [], [], [], []
    for st in sorted(roster.students, key=lambda st: (_fold(st.name), st.sis_user_id, st.line)):
        m = placed.get(id(st))
        if m is None:
            if id(st) not in by_student:
                absent.append(st)
            written.append((st, "0" if zeros and id(st) not in by_student else ""))
            continue
        g = gradings[m.submission]
        if g.normal:
            written.append((st, g.total))
        elif zeros:
            zeroed.append(g)
            written.append((st, "0"))
        else:
            left_out.append(g)
            written.append((st, ""))
    unmatched = [m.submission for m in matches if m.student is None and not m.others]
    ambiguous = [m for m in matches if m.others]
    result = Export(out, out.with_name(MATCHES_NAME), written, matches, gradings, left_out, zeroed, unmatched,
                    ambiguous, conflicts, absent, roster, column)
    try:
        out.write_text(canvas_csv(written, column, max_score), encoding="utf-8")
        result.matches_path.write_text(matches_csv(result, zeros), encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return result


def matches_csv(e: Export, zeros: bool) -> str:
    """canvas-matches.csv: one row per submission (how it was matched and graded, what was written),
    then one per student of the roster without a submission."""
    score = {id(st): s for st, s in e.written}
    conflicted = {s for subs in e.conflicts.values() for s in subs}
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(MATCHES_COLUMNS)
    for m in e.matches:
        g = e.gradings[m.submission]
        st = m.student
        if st is None:
            how = (f"AMBIGUOUS: {m.how} matches " + "; ".join(o.label() for o in m.others)) if m.others \
                else "NO MATCH in the roster"
            written = "not written"
        elif m.submission in conflicted:
            how, written = f"{m.how}; CONFLICT: another submission matches the same student", "not written"
        else:
            how = m.how
            written = score.get(id(st), "") or ("empty (left out)" if not g.normal else "")
        grading = g.verdict + (f": {g.detail}" if g.detail else "")
        writer.writerow([m.submission, st.name if st else "", st.canvas_id if st else "", st.sis_user_id if st else "",
                         st.login_id if st else "", st.github if st else "", how, grading, g.parts, written])
    for st in e.absent:
        writer.writerow(["", st.name, st.canvas_id, st.sis_user_id, st.login_id, st.github, "",
                         "no submission", "", score.get(id(st)) or "empty"])
    return buf.getvalue()


# -- command ---------------------------------------------------------------------------------
def configure(parser):
    parser.add_argument("dir", nargs="?", default="grades", help="a graded folder (default: grades/)")
    parser.add_argument("--canvas", required=True, metavar="ROSTER.csv",
                        help="Canvas's own gradebook export, a GitHub Classroom roster, or a CSV with the "
                             "columns submission and student_id (SIS User ID)")
    parser.add_argument("--column", default="MLP assignment",
                        help="the assignment's title in Canvas (with a Canvas export as the roster, its column "
                             "'TITLE (id)' is used when there is one)")
    parser.add_argument("--out", help="where to write (default: DIR/canvas.csv; canvas-matches.csv goes next to it)")
    parser.add_argument("--zeros", action="store_true",
                        help="write 0 for submissions not graded normally (unreadable, nothing submitted, not "
                             "graded) and for students without a submission, instead of leaving them out")


def command(args):
    """`python -m grader export --canvas ROSTER.csv [DIR]`."""
    try:
        e = export_canvas(args.dir, args.canvas, args.out, args.column, args.zeros)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kinds = {"canvas": "Canvas's gradebook export", "classroom": "a GitHub Classroom roster", "kit": "the kit's roster"}
    scored = sum(1 for _, s in e.written if s != "")
    print(f"wrote {e.out}: {scored} of {len(e.roster.students)} student(s) with a score in the column "
          f"{e.column!r} (roster: {kinds[e.roster.kind]}); how each was matched: {e.matches_path}")
    hows = {}
    for m in e.matches:
        if m.student is not None:
            hows[m.how] = hows.get(m.how, 0) + 1
    if hows:
        print("matched: " + ", ".join(f"{n} by {how}" for how, n in sorted(hows.items(), key=lambda kv: -kv[1])))
    if e.left_out:
        print(f"{len(e.left_out)} submission(s) not graded normally are LEFT OUT of {e.out.name} (their cells empty; "
              f"--zeros writes 0):")
        for g in e.left_out:
            print(f"  {g.submission}: {g.verdict} ({g.detail})")
    if e.zeroed:
        print(f"{len(e.zeroed)} submission(s) not graded normally are written as 0 (--zeros):")
        for g in e.zeroed:
            print(f"  {g.submission}: {g.verdict} ({g.detail})")
    partial = [g for g in e.gradings.values() if g.normal and g.parts]
    if partial:
        print(f"{len(partial)} graded submission(s) have parts that are not ok (written as graded; see "
              f"{e.matches_path.name}):")
        for g in partial:
            print(f"  {g.submission}: {g.parts}")
    if e.unmatched:
        print(f"{len(e.unmatched)} graded submission(s) match no student of {args.canvas}, so they are NOT in "
              f"{e.out.name}: rename them or add them to the roster, and export again:")
        for name in e.unmatched:
            print(f"  {name}")
    if e.ambiguous:
        print(f"{len(e.ambiguous)} submission(s) match several students, so they are NOT in {e.out.name}:")
        for m in e.ambiguous:
            print(f"  {m.submission}: {m.how} of " + "; ".join(o.label() for o in m.others))
    if e.conflicts:
        print(f"{len(e.conflicts)} student(s) match several submissions, so none of them is in {e.out.name}:")
        for label, subs in e.conflicts.items():
            print(f"  {label}: {', '.join(subs)}")
    if e.absent:
        what = "written as 0 (--zeros)" if args.zeros else "left empty, so the import keeps their current grade"
        print(f"{len(e.absent)} student(s) of the roster have no graded submission ({what}):")
        for st in e.absent:
            print(f"  {st.label()}")
    host = [g for g in e.left_out if g.verdict == "not graded"]
    return 1 if (e.unmatched or e.ambiguous or e.conflicts or host) else 0
