"""The solution markers of solutions/*.py: the single source of the reference and the starter.

Inside a function, the lines between

    # BEGIN SOLUTION
    # TODO: what to compute (kept, with any ``#   `` continuation lines)
    ...reference code...
    # END SOLUTION

are the reference's code; the starter keeps the TODO comment followed by
``raise NotImplementedError(...)``. The engine's redaction and the release
check protect solution_lines(); `python -m grader assign` writes stub().
"""
import re
from collections.abc import Iterable, Iterator

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION\s*$")
DEF = re.compile(r"^[ \t]*def (?P<name>\w+)\(")


class MarkerError(ValueError):
    """The solution markers in a source file are malformed."""


def solution_blocks(text: str) -> Iterator[tuple[int, int, str, str]]:
    """Yield (begin, end, indent, function) for every marked block.

    `begin` and `end` are 0-based line indices of the two marker lines.
    """
    lines = text.splitlines()
    function = None
    begin = None
    for i, line in enumerate(lines):
        m = DEF.match(line)
        if m and begin is None:
            function = m.group("name")
        if BEGIN.match(line):
            if begin is not None:
                raise MarkerError(f"line {i + 1}: BEGIN SOLUTION inside another block")
            begin, indent = i, BEGIN.match(line).group("indent")
            if not indent:
                raise MarkerError(f"line {i + 1}: solution blocks must be inside a function")
        elif END.match(line):
            if begin is None:
                raise MarkerError(f"line {i + 1}: END SOLUTION without BEGIN")
            if END.match(line).group("indent") != indent:
                raise MarkerError(f"line {i + 1}: END SOLUTION indented differently from its BEGIN")
            yield begin, i, indent, function
            begin = None
    if begin is not None:
        raise MarkerError(f"line {begin + 1}: BEGIN SOLUTION is never closed")


def stub(text: str, module: str, only: Iterable[str] | None = None) -> str:
    """The starter version of a solution file's text: each marked block becomes its TODO comment and
    `raise NotImplementedError`. only: the functions to stub (default: all); the other blocks keep
    their code, without the markers and the TODO comment (a function already written)."""
    lines = text.splitlines()
    out = []
    last = 0
    for begin, end, indent, function in solution_blocks(text):
        out.extend(lines[last:begin])
        todo = []
        for line in lines[begin + 1:end]:
            stripped = line.strip()
            if stripped.startswith("# TODO") or (todo and stripped.startswith("#  ")):
                todo.append(line)
            else:
                break
        if not todo:
            raise MarkerError(f"{module}.{function}: the block needs a '# TODO: ...' line first")
        if only is None or function in only:
            out.extend(todo)
            out.append(f'{indent}raise NotImplementedError("TODO: {module}.{function}")')
        else:
            out.extend(lines[begin + 1 + len(todo):end])
        last = end + 1
    out.extend(lines[last:])
    return "\n".join(out) + "\n"


def unmark(text: str) -> str:
    """The reference's text as a student would write it: no markers, no TODO comments."""
    return stub(text, "", only=())


def solution_lines(text: str) -> list[str]:
    """The code lines inside solution blocks (TODO comments excluded)."""
    lines = text.splitlines()
    code = []
    for begin, end, _, _ in solution_blocks(text):
        for line in lines[begin + 1:end]:
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                code.append(stripped)
    return code
