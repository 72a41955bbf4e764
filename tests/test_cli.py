"""One command line: `python -m grader <command>`, each command with its --help (grader/__main__.py)."""
import subprocess
import sys

import pytest

from grader import ROOT
from grader.__main__ import COMMANDS


def run(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr
    for name, *_ in COMMANDS:
        assert name in proc.stdout, name
    assert {name for name, *_ in COMMANDS} >= {"grade", "assign", "report", "mutants", "release", "otter",
                                               "gradescope"}


@pytest.mark.parametrize("command", [name for name, *_ in COMMANDS])
def test_every_command_has_help(command):
    proc = run(command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m grader " + command), \
        proc.stdout + proc.stderr


def test_an_unknown_command_is_refused():
    proc = run("no-such-command")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def grade_with_sandbox(value, tmp_path, *extra):
    """`python -m grader grade` of one small submission with GRADER_SANDBOX=value."""
    import os
    sub = tmp_path / "ada"
    sub.mkdir()
    (sub / "activations.py").write_text((ROOT / "solutions" / "activations.py").read_text())
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--out", str(out), "--parts", "activations",
                           *extra, "--", str(sub)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GRADER_SANDBOX": value})
    return proc, out


@pytest.mark.parametrize("value", ["landlok", "Landlock", "namespaces,landlock", "off\nnone"])
def test_a_misspelt_grader_sandbox_is_one_error_line_naming_the_values(value, tmp_path):
    proc, out = grade_with_sandbox(value, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: GRADER_SANDBOX={value!r} is not a sandbox backend: set it to namespaces, landlock or none, "
        f"or unset it to use the best sandbox this host offers"]
    assert not list(out.glob("*/results.json"))


def test_grader_sandbox_none_says_it_was_asked_for_and_needs_allow_unsandboxed(tmp_path):
    proc, out = grade_with_sandbox("none", tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: refusing to grade: GRADER_SANDBOX=none asks for no sandbox, and grading without one needs "
        "--allow-unsandboxed (make grade ALLOW_UNSANDBOXED=1)"), proc.stderr
    assert "no sandbox works on this host" not in proc.stderr
    assert not list(out.glob("*/results.json"))


def test_grader_sandbox_none_with_allow_unsandboxed_grades(tmp_path):
    import json
    proc, out = grade_with_sandbox("none", tmp_path, "--allow-unsandboxed")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "ada" / "results.json").read_text())
    assert result["score"] == 20 and result["extra_data"]["sandbox"]["backend"] == "none"


def _pty_with_size(rows, columns):
    """A pseudo-terminal whose reported size is rows x columns (0 x 0: what `script` gives when the
    terminal it runs in reports none); returns (the terminal's stream, the other end's fd)."""
    import fcntl
    import os
    import struct
    import termios
    main, other = os.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return os.fdopen(other, "w"), main


def test_progress_is_plain_lines_where_no_bar_can_be_drawn(monkeypatch, capsys):
    """tqdm draws nothing on a terminal of 0 columns and joins its updates with \\r in a log: there, a
    line per graded submission, with its count and the time left; a bar only on a terminal with a size."""
    import os
    from grader.engine import grade as engine
    pytest.importorskip("tqdm")
    zero, main = _pty_with_size(0, 0)
    sized, main2 = _pty_with_size(24, 80)
    try:
        assert engine.terminal_columns(zero) == 0 and engine.terminal_columns(sized) == 80
        monkeypatch.setattr(sys, "stderr", zero)
        assert isinstance(engine._progress(3, quiet=False), engine._LineProgress)
        monkeypatch.setattr(sys, "stderr", sized)
        assert type(engine._progress(3, quiet=False)).__name__ == "tqdm"
    finally:
        monkeypatch.undo()
        zero.close(), sized.close(), os.close(main), os.close(main2)
    assert isinstance(engine._progress(3, quiet=False), engine._LineProgress)    # pytest's captured stderr
    assert isinstance(engine._progress(3, quiet=True), engine._NoBar)
    ticks = iter([100.0, 110.0, 130.0, 160.0])
    bar = engine._LineProgress(3, clock=lambda: next(ticks))
    for _ in range(3):
        bar.update(1)
    assert capsys.readouterr().err.splitlines() == [
        "graded 1 of 3 submission(s) in 10 s, about 20 s left",
        "graded 2 of 3 submission(s) in 30 s, about 15 s left",
        "graded 3 of 3 submission(s) in 60 s"]


def test_a_ctrl_c_while_a_progress_line_is_written_leaves_the_line_whole():
    """Ctrl-C comes when a results.json has just been written, which is when its progress line is printed:
    the line and its newline are one write, so the summary of the interruption starts a line of its own.
    (print() writes its end separately: a KeyboardInterrupt between the two left the line open, and make
    test saw "... about 36 s left" + "interrupted: ..." on one line, on a loaded machine.)"""
    from grader.engine import grade as engine

    class Interrupt(Exception):
        """KeyboardInterrupt's stand-in (the real one would stop this pytest run, not fail a test)."""

    class InterruptedBetweenWrites:
        def __init__(self):
            self.text = ""

        def write(self, s):
            if self.text and not self.text.endswith("\n") and s == "\n":
                raise Interrupt()                # the signal, between a line and the newline written apart
            self.text += s
            return len(s)

        def flush(self):
            pass

    stream = InterruptedBetweenWrites()
    bar = engine._LineProgress(3, stream=stream, clock=iter([100.0, 110.0]).__next__)
    bar.update(1)
    assert stream.text == "graded 1 of 3 submission(s) in 10 s, about 20 s left\n"
