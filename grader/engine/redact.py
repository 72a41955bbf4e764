"""Keep hidden-test and solution code out of the feedback students see.

Student code can read files around it and put their text into an exception
message, a printout, a dict key or a class name. Every such student-made
string is cleaned where it enters a message (grader.sandbox.client, which the judge gives this filter): each line
that shares a run of WINDOW consecutive code tokens with a protected source
(the code inside the solution markers, and the code of the hidden suites and
the grader's oracle outside string literals) is replaced. The judge passes
every finished message through a second filter with a long window
(LAST_RESORT tokens), which the grader's own short call descriptions never
reach, as a safety net.
"""
import io
import re
import tokenize
from functools import lru_cache

from .. import ROOT
from .markers import solution_lines

# Hidden code: the suites, with the oracle and the helpers they use.
HIDDEN = ROOT / "grader" / "suites"
WINDOW = 12
LAST_RESORT = 40
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[^\s\"'`]")
REMOVED = "[line removed: it repeats hidden grader or reference code]"


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def code_tokens(source: str) -> list[str]:
    """Tokens of Python source outside string literals and comments."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT) or tok.type >= 60:
                continue  # f-string pieces too (3.12+ tokenizes them separately)
            out.extend(tokens(tok.string))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return tokens(source)
    return out


NAME = re.compile(r"[A-Za-z_]")


def windows(seq: list[str], n: int = WINDOW) -> set[tuple[str, ...]]:
    """Runs of n tokens with at least 3 names in them: a list of numbers is not code."""
    names = [0]                      # names[i]: how many of seq[:i] are names
    for t in seq:
        names.append(names[-1] + (1 if NAME.match(t) else 0))
    return {tuple(seq[i:i + n]) for i in range(len(seq) - n + 1) if names[i + n] - names[i] >= 3}


@lru_cache(maxsize=1)
def _protected_runs() -> tuple:
    """The token runs of the protected sources, read once for every window (tokenizing the suites is most of
    a filter's cost)."""
    runs = []
    for path in sorted((ROOT / "solutions").glob("*.py")):
        lines = solution_lines(path.read_text(encoding="utf-8"))
        runs.append(tokens("\n".join(lines)))
    for path in sorted(HIDDEN.glob("*.py")):
        runs.append(code_tokens(path.read_text(encoding="utf-8")))
    return tuple(runs)


class Redactor:
    def __init__(self, protected_token_runs, window=WINDOW):
        self.window = window
        self.protected = set()
        for run in protected_token_runs:
            self.protected |= windows(run, window)

    @classmethod
    @lru_cache(maxsize=4)
    def default(cls, window=WINDOW):
        return cls(_protected_runs(), window)

    def leaks(self, text):
        """The protected runs found in `text` (for tests and audits)."""
        return sorted(windows(tokens(text), self.window) & self.protected)

    def clean(self, text):
        """`text` with every line that takes part in a protected run replaced."""
        found = [(m.group(), text.count("\n", 0, m.start())) for m in TOKEN.finditer(text)]
        words = [w for w, _ in found]
        bad = set()
        n = self.window
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) in self.protected:
                bad.update(range(found[i][1], found[i + n - 1][1] + 1))
        if not bad:
            return text
        lines = text.split("\n")
        return "\n".join(REMOVED if k in bad else line for k, line in enumerate(lines))
