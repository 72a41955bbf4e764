"""GitHub Classroom: fetch the students' repositories onto a host the instructor controls, to grade
them there (`make grade`). No workflow in a student's repository can keep a secret from that student,
who controls the workflow file: the hidden tests and the reference never go there
(grader/templates/ci/autograde.yml runs the public checks only).

    python -m grader classroom fetch REPOS --out subs [--deadline 2026-12-01T23:59:00+01:00]
    make grade SUBMISSIONS='subs/*'

REPOS is one of:
- the CSV of an assignment's grades as GitHub Classroom gives it (its REST API's fields:
  assignment_name, github_username, roster_identifier, student_repository_name,
  student_repository_url, ...; https://docs.github.com/en/rest/classroom/classroom): the
  `student_repository_url` column is cloned;
- a classroom roster as GitHub Classroom exports it (columns identifier, github_username,
  github_id, name; https://abc-classroom.readthedocs.io/en/latest/get-started/classroom-roster.html),
  which holds no repository: --url-template names each student's repository, e.g.
  'https://github.com/ORG/mlp-{github_username}' (the assignment's repositories as they are named
  in the organization);
- a text file of repository URLs, one a line (blank lines and lines starting with # are skipped).

Each repository is cloned (or, when fetched before, updated) with the host's git and its
credentials into OUT/.classroom/repos/NAME, and the tree of the commit to grade is written to
OUT/NAME/ (regular files only; no .git, no symbolic links): the last commit of the default branch,
or with --deadline the last commit whose committer date is not after it (`git rev-list -1
--before=DEADLINE`). OUT/NAME/.classroom-commit names the commit. A repository that cannot be
fetched, or has no commit before the deadline, is listed (and its OUT/NAME/ of an earlier fetch
removed, so that it is not graded stale); the others are laid out, and the status is 1.
OUT/.classroom/fetch.csv records every repository: name, URL, status, commit and its date.

A commit's date is what the student's git wrote: a student can backdate a commit made after the
deadline. GitHub records when each push arrived (the repository's activity); compare those where
it matters.
"""
import csv
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..engine.submission import RESERVED_NAMES

STATE = ".classroom"              # OUT/.classroom/: the clones and fetch.csv (hidden: `subs/*` skips it)
MARKER = ".classroom-commit"      # OUT/NAME/.classroom-commit: the commit laid out there
MAX_BLOB_BYTES = 16 << 20         # a file larger than this is not written out (the engine reads at most 1 MiB)
GIT_TIMEOUT = 600                 # seconds for one clone or fetch
JOBS = 4                          # repositories fetched at once (network-bound)


@dataclass(frozen=True)
class Repo:
    """One student's repository: `name` (the submission's folder name) and the URL to clone."""
    name: str
    url: str
    identifier: str = ""          # the roster's identifier (else the GitHub username), when the list has one


@dataclass(frozen=True)
class Fetched:
    """What fetching one repository gave. status: "ok", "failed" or "no commit before the deadline"."""
    repo: Repo
    status: str
    commit: str = ""
    commit_date: str = ""         # the committer date, ISO 8601
    later_commits: int = 0        # commits of the branch after the deadline (not graded)
    skipped: tuple = ()           # files not written out (over MAX_BLOB_BYTES)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ListError(ValueError):
    """REPOS cannot be read as any of the three forms; str() says why."""


# -- the list of repositories ---------------------------------------------------------------------
def safe_name(text: str) -> str:
    """A folder name for a submission: letters, digits, '.', '_' and '-' (as the engine names them)."""
    name = re.sub(r"[^\w.-]+", "_", text).strip("._-")[:80] or "submission"
    return f"submission-{name}" if name.lower() in RESERVED_NAMES else name


def repo_name(url: str) -> str:
    """The repository's name in its URL: https://github.com/org/mlp-ada.git -> mlp-ada."""
    tail = re.split(r"[/:]", url.rstrip("/"))[-1]
    return tail[:-4] if tail.endswith(".git") else tail


def read_list(path: str | os.PathLike, url_template: str | None = None) -> tuple[list[Repo], list[Fetched]]:
    """The repositories that `path` lists, and the rows that name none (as failed Fetched results).

    Args:
        path: a GitHub Classroom grades CSV, a classroom roster CSV, or a file of URLs (module docstring).
        url_template: for a roster, the URL of a student's repository with {github_username} and/or
            {identifier} in it.
    Returns:
        (repos, unlisted): repos in file order, named uniquely; unlisted: rows without a repository.
    Raises:
        ListError: the file cannot be read, or a roster comes without url_template.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"cannot read {path}: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ListError(f"{path} lists no repository")
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    repos, unlisted = [], []
    if "student_repository_url" in header or "github_username" in header:
        rows = list(csv.DictReader(lines))
        rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in rows]
        grades = "student_repository_url" in header
        if not grades and not url_template:
            raise ListError(f"{path} is a classroom roster ({', '.join(header)}): it names no repository. "
                            f"Give --url-template with the URL of a student's repository, e.g. "
                            f"'https://github.com/ORG/ASSIGNMENT-{{github_username}}', or the assignment's "
                            f"grades CSV (with student_repository_url)")
        for row in rows:
            user = row.get("github_username", "")
            ident = row.get("roster_identifier") or row.get("identifier") or ""
            who = ident or user or "?"          # the roster's identifier first: what an LMS knows the student by
            if grades:
                url = row.get("student_repository_url", "")
            elif user or "{github_username}" not in url_template:
                try:
                    url = url_template.format(github_username=user, identifier=ident)
                except (KeyError, IndexError, ValueError) as exc:
                    raise ListError(f"--url-template {url_template!r}: {exc!r} (use {{github_username}} "
                                    f"or {{identifier}})") from None
            else:
                url = ""
            name = safe_name(user or ident or repo_name(url))
            if not url:
                why = ("no repository (the student has not accepted the assignment?)" if grades
                       else "no GitHub username (the student has not joined the classroom?)")
                unlisted.append(Fetched(Repo(name, "", who), "failed", message=why))
                continue
            repos.append(Repo(name, url, who))
    else:
        for line in lines:
            url = line.strip()
            if url.startswith("#"):
                continue
            repos.append(Repo(safe_name(repo_name(url)), url))
    return unique(repos), unlisted


def unique(repos: list[Repo]) -> list[Repo]:
    """The same repositories, a name that comes twice numbered (ada, ada-2)."""
    seen, out = set(), []
    for r in repos:
        name, k = r.name, 2
        while name.lower() in seen:
            name, k = f"{r.name}-{k}", k + 1
        seen.add(name.lower())
        out.append(Repo(name, r.url, r.identifier) if name != r.name else r)
    return out


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 time with its zone (2026-12-01T23:59:00+01:00, or Z for UTC).

    Raises:
        ValueError: not such a time (the message says what is expected).
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"--deadline {text!r} is not an ISO 8601 time such as 2026-12-01T23:59:00+01:00") from None
    if when.tzinfo is None:
        raise ValueError(f"--deadline {text!r} has no time zone: add it (2026-12-01T23:59:00+01:00, or Z for UTC)")
    return when


# -- git ------------------------------------------------------------------------------------------------
def git_env() -> dict:
    """git's environment: never ask for a password (a repository it cannot read fails, not hangs)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", SSH_ASKPASS="true", LC_ALL="C")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def git(*args, cwd=None, timeout=GIT_TIMEOUT, binary=False):
    """git's output as text (bytes with binary=True: file names are any bytes but '/' and NUL)."""
    if binary:
        return subprocess.run(["git", *args], cwd=cwd, env=git_env(), capture_output=True, timeout=timeout)
    return subprocess.run(["git", *args], cwd=cwd, env=git_env(), capture_output=True, timeout=timeout,
                          text=True, errors="replace")


def _last_line(proc) -> str:
    """git's own message: its first `fatal:` or `error:` line, else its last line."""
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith(("fatal:", "error:"))), None)
    return (first or (lines[-1] if lines else f"git exited with status {proc.returncode}"))[:300]


def update_clone(repo: Repo, clone: Path) -> str | None:
    """Clone `repo` into `clone`, or fetch into the clone already there. Returns None, or why it failed."""
    if (clone / "HEAD").exists() or (clone / ".git").exists():
        known = git("config", "--get", "remote.origin.url", cwd=clone)
        if known.returncode == 0 and known.stdout.strip() == repo.url:
            proc = git("fetch", "--quiet", "--prune", "--force", "origin", cwd=clone)
            if proc.returncode != 0:
                return f"git fetch failed: {_last_line(proc)}"
            git("remote", "set-head", "origin", "--auto", cwd=clone)     # the default branch, if it changed
            return None
        shutil.rmtree(clone)                 # another URL under the same name: start again
    elif clone.exists():
        shutil.rmtree(clone)                 # not a clone (an interrupted one): start again
    clone.parent.mkdir(parents=True, exist_ok=True)
    proc = git("clone", "--quiet", "--no-checkout", "--", repo.url, str(clone))
    if proc.returncode != 0:
        shutil.rmtree(clone, ignore_errors=True)
        return f"git clone failed: {_last_line(proc)}"
    return None


def pick_commit(clone: Path, deadline: datetime | None) -> tuple[str, str, int] | None:
    """(commit, its committer date, commits after the deadline) of the default branch, or None when
    no commit is old enough. Raises RuntimeError when the branch cannot be read."""
    head = git("rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD^{commit}", cwd=clone)
    if head.returncode != 0:
        raise RuntimeError("the repository has no commit on its default branch (empty repository?)")
    tip = head.stdout.strip()
    args = ["rev-list", "-1"] + ([f"--before={deadline.isoformat()}"] if deadline else []) + [tip]
    proc = git(*args, cwd=clone)
    if proc.returncode != 0:
        raise RuntimeError(f"git rev-list failed: {_last_line(proc)}")
    commit = proc.stdout.strip()
    if not commit:
        return None
    info = git("show", "-s", "--format=%ct %cI", commit, cwd=clone)
    stamp, date = info.stdout.split()
    if deadline is not None and int(stamp) > deadline.timestamp():      # git's date parsing, checked
        raise RuntimeError(f"git chose {commit[:12]} of {date}, after the deadline")
    later = 0
    if deadline is not None:
        count = git("rev-list", "--count", f"{commit}..{tip}", cwd=clone)
        later = int(count.stdout.strip() or 0)
    return commit, date, later


def write_tree(clone: Path, commit: str, dest: Path) -> tuple:
    """Write the files of `commit` into `dest` (replaced): regular files only, exactly as committed
    (no .gitattributes conversion, no symbolic links, no submodules). Returns the paths skipped as
    larger than MAX_BLOB_BYTES."""
    listing = git("ls-tree", "-r", "-z", "--long", "--full-tree", commit, cwd=clone, binary=True)
    if listing.returncode != 0:
        raise RuntimeError(f"git ls-tree failed: {_last_line(listing)}")
    blobs, skipped = [], []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, raw = entry.split(b"\t", 1)
        mode, kind, sha, size = meta.decode("ascii").split()
        path = os.fsdecode(raw)                           # any bytes, as the file system takes them
        if kind != "blob" or mode not in ("100644", "100755"):
            continue                                      # symbolic links (120000), submodules
        parts = path.split("/")
        if any(p in ("", ".", "..") or p.lower() == ".git" for p in parts):
            continue
        if int(size) > MAX_BLOB_BYTES:
            skipped.append(path)
            continue
        blobs.append((path, sha))
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if blobs:
        data = _cat_blobs(clone, [sha for _, sha in blobs])
        for (path, _), content in zip(blobs, data):
            target = tmp.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    (tmp / MARKER).write_text(commit + "\n", encoding="utf-8")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return tuple(skipped)


def _cat_blobs(clone: Path, shas: list[str]) -> list[bytes]:
    """The contents of the blobs `shas`, in order (one `git cat-file --batch`)."""
    proc = subprocess.run(["git", "cat-file", "--batch"], cwd=clone, env=git_env(), capture_output=True,
                          input="".join(f"{sha}\n" for sha in shas).encode(), timeout=GIT_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"git cat-file failed: {_last_line(proc)}")
    out, at, contents = proc.stdout, 0, []
    for sha in shas:
        eol = out.index(b"\n", at)
        header = out[at:eol].split()
        if len(header) != 3 or header[1] != b"blob":
            raise RuntimeError(f"git cat-file: no blob {sha}")
        size = int(header[2])
        contents.append(out[eol + 1:eol + 1 + size])
        at = eol + 1 + size + 1
    return contents


# -- fetch ----------------------------------------------------------------------------------------------
def remove_stale(dest: Path) -> bool:
    """Remove OUT/NAME/ of an earlier fetch (it holds MARKER), so that it is not graded. Returns
    whether there was one."""
    if (dest / MARKER).is_file():
        shutil.rmtree(dest)
        return True
    return False


def fetch_one(repo: Repo, out: Path, deadline: datetime | None) -> Fetched:
    """Clone or update one repository and lay out the commit to grade as out/NAME/."""
    dest = out / repo.name
    clone = out / STATE / "repos" / repo.name
    try:
        why = update_clone(repo, clone)
        if why is None:
            picked = pick_commit(clone, deadline)
            if picked is None:
                removed = remove_stale(dest)
                return Fetched(repo, "no commit before the deadline",
                               message="no commit before the deadline" + (
                                   f" ({dest} of an earlier fetch removed)" if removed else ""))
            commit, date, later = picked
            skipped = write_tree(clone, commit, dest)
            return Fetched(repo, "ok", commit, date, later, skipped)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        why = f"{type(exc).__name__}: {exc}"[:300]
    removed = remove_stale(dest)
    return Fetched(repo, "failed", message=why + (f" ({dest} of an earlier fetch removed)" if removed else ""))


def fetch(repos: list[Repo], out: str | os.PathLike, deadline: datetime | None = None,
          jobs: int = JOBS) -> list[Fetched]:
    """Fetch every repository (`jobs` at a time) into out/; a failure costs that repository only.

    Returns:
        one Fetched per repository, in the order of `repos`.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda r: fetch_one(r, out, deadline), repos))


def write_manifest(results: list[Fetched], out: Path, deadline: datetime | None) -> Path:
    """OUT/.classroom/fetch.csv: one row per repository, what was fetched and why not."""
    path = out / STATE / "fetch.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "identifier", "url", "status", "commit", "commit_date", "deadline",
                    "commits_after_deadline", "files_not_written", "message"])
        for r in results:
            w.writerow([r.repo.name, r.repo.identifier, r.repo.url, r.status, r.commit, r.commit_date,
                        deadline.isoformat() if deadline else "", r.later_commits, " ".join(r.skipped),
                        r.message])
    return path


# -- the command line -----------------------------------------------------------------------------------
def configure(parser):
    sub = parser.add_subparsers(dest="classroom", required=True)
    f = sub.add_parser("fetch", help="clone or update the students' repositories into a folder of submissions",
                       description=__doc__.split("\n\n")[0])
    f.add_argument("repos", help="a GitHub Classroom grades CSV, a classroom roster CSV (with --url-template) "
                                 "or a file of repository URLs, one a line")
    f.add_argument("--out", default="subs", help="the folder of submissions (default: subs/)")
    f.add_argument("--deadline", help="grade the last commit not after this time, e.g. 2026-12-01T23:59:00+01:00")
    f.add_argument("--url-template", help="for a roster: a student's repository, e.g. "
                                          "'https://github.com/ORG/mlp-{github_username}'")
    f.add_argument("-j", "--jobs", type=int, default=JOBS, help=f"repositories fetched at once (default: {JOBS})")


def command(args) -> int:
    """`python -m grader classroom fetch`: 0 when every repository was laid out, 1 when some were not,
    2 on bad input."""
    if shutil.which("git") is None:
        print("error: git is not installed on this host (apt-get install git)", file=sys.stderr)
        return 2
    try:
        deadline = parse_deadline(args.deadline) if args.deadline else None
        repos, unlisted = read_list(args.repos, args.url_template)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    when = f", at the last commit not after {deadline.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if deadline else ""
    print(f"fetching {len(repos)} repositories into {out}/{when}", flush=True)
    results = unlisted + fetch(repos, out, deadline, args.jobs)
    manifest = write_manifest(results, out, deadline)
    done = [r for r in results if r.ok]
    for r in done:
        if r.later_commits:
            print(f"  {r.repo.name}: {r.later_commits} commit(s) after the deadline not graded "
                  f"(graded: {r.commit[:12]} of {r.commit_date})")
        if r.skipped:
            print(f"  {r.repo.name}: files over {MAX_BLOB_BYTES >> 20} MiB not written: {', '.join(r.skipped[:5])}")
    print(f"laid out {len(done)} of {len(results)} submissions in {out}/ (every repository: {manifest})")
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"error: {len(failed)} repositories were not laid out (not graded):", file=sys.stderr)
        for r in failed:
            print(f"  {r.repo.name} ({r.repo.url or r.repo.identifier}): {r.message}", file=sys.stderr)
    if done:
        print(f"grade them with: make grade SUBMISSIONS='{out}/*'")
    if deadline:
        print("note: a commit's date is set by the student's own git and can be backdated; GitHub's record "
              "of each push is the one to compare where it matters")
    return 1 if failed else 0
