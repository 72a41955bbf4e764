"""The grading engine: staging submissions, the sandbox and its wire format,
and the promise that a broken part costs that part only."""
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.engine.grade import grade
from grader.engine.submission import MAX_FILE_BYTES, read_submission as stage_submission
from grader.sandbox import meter, protocol
from grader.sandbox.client import (
    HostOverloaded, ImportFailed, Limits, MissingFunction, NotImplementedYet, StudentCrashed, StudentModule,
    StudentRaised, StudentTimeout)
from grader.engine.staging import reference_functions
from grader import ROOT
from grader.engine.staging import stage_package

REFERENCE = ROOT / "solutions"


# -- staging ---------------------------------------------------------------
def test_folder_submission_takes_only_the_module_files(tmp_path):
    sub = tmp_path / "alice" / "assignment"
    sub.mkdir(parents=True)
    (sub / "mlp.py").write_text("x = 1\n")
    (sub / "conftest.py").write_text("raise SystemExit\n")
    (tmp_path / "alice" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "alice" / "deep" / "er" / "mlp.py").write_text("x = 2\n")
    (tmp_path / "alice" / "__MACOSX").mkdir()
    (tmp_path / "alice" / "__MACOSX" / "activations.py").write_text("junk\n")
    staged = stage_submission(tmp_path / "alice", tmp_path / "work")
    assert staged.name == "alice"
    assert open(staged.files["mlp"]).read() == "x = 1\n"          # the shallowest copy wins
    assert staged.files["activations"] is None                      # __MACOSX is ignored
    assert "activations.py was not found" in staged.problems["activations"]
    assert sorted(p.name for p in (tmp_path / "work" / "alice").iterdir()) == ["mlp.py"]


def test_zip_submission(tmp_path):
    path = tmp_path / "bob.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bob/two_layer_net.py", "y = 3\n")
        zf.writestr("bob/mlp.py", "#" * (MAX_FILE_BYTES + 1))
        zf.writestr("../../evil/activations.py", "z = 4\n")
    staged = stage_submission(path, tmp_path / "work")
    assert staged.name == "bob"
    assert open(staged.files["two_layer_net"]).read() == "y = 3\n"
    assert staged.files["mlp"] is None and "limit" in staged.problems["mlp"]
    assert staged.files["activations"] is None                      # `..` paths are never taken
    assert not (tmp_path / "evil").exists()


def test_not_a_submission(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    staged = stage_submission(path, tmp_path / "work")
    assert all(v is None for v in staged.files.values())
    assert "neither a folder nor a zip" in staged.problems["mlp"]


# -- the wire format -----------------------------------------------------------
def roundtrip(value):
    r, w = __import__("os").pipe()
    ch = protocol.Channel(r, w)
    ch.send({"kind": "ok", "value": value})
    return ch.recv()["value"]


def test_protocol_roundtrip():
    value = {"W1": np.arange(6.0).reshape(2, 3), "n": 3, "f": float("nan"), "s": "x",
             "t": (np.float64(2.5), np.int32(7), [True, None]), "e": np.zeros((0, 4))}
    got = roundtrip(value)
    assert np.array_equal(got["W1"], value["W1"]) and got["W1"].dtype == np.float64
    assert got["W1"].flags.writeable
    assert got["n"] == 3 and np.isnan(got["f"]) and got["s"] == "x"
    assert got["t"][0] == 2.5 and isinstance(got["t"][0], np.float64)
    assert got["t"][1] == 7 and got["t"][1].dtype == np.int32
    assert got["t"][2] == [True, None] and got["e"].shape == (0, 4)


def test_protocol_keeps_unknown_objects_as_handles():
    tree, arrays = protocol.encode({"cache": object()}, store_handle=lambda obj: 41)
    value = protocol.decode(tree, arrays)
    assert isinstance(value["cache"], protocol.Handle) and value["cache"].id == 41


def frame(header, tail=b""):
    return protocol.MAGIC + len(header).to_bytes(8, "big") + header + tail


@pytest.mark.parametrize("frame, problem", [
    (b"XXXX" + (2).to_bytes(8, "big") + b"{}", "bad frame start"),
    (protocol.MAGIC + (1 << 40).to_bytes(8, "big"), "header too large"),
    (frame(b'{"_arrays": 1}'), "malformed header"),
    (frame(b'[1, 2'), "malformed header"),
    (frame(b'{"_arrays": [["|O8", [1]]], "value": {"A": 0}}', b"\0" * 8), "refused array dtype"),
    (frame(b'{"_arrays": [["<f8", [99999999999]]]}'), "too large"),
    (frame(b'{"_arrays": [["<f8", [-1]]]}'), "refused array shape"),
    (frame(b'{"_arrays": [], "value": {"Z": 1}}'), "unknown"),
    (frame(b'{"_arrays": [], "value": {"A": 3}}'), "unknown or malformed"),
    (frame(b'{"_arrays": [], "value": ' + b'{"L": [' * 100 + b']}' * 100 + b'}'), "nested too deeply"),
    (frame(b'{"_arrays": [["<f8", [4]]], "value": {"A": 0}}', b"\0" * 8), "closed"),
])
def test_protocol_rejects_hostile_frames(frame, problem):
    import os
    r, w = os.pipe()
    os.write(w, frame)
    os.close(w)
    with pytest.raises(protocol.ProtocolError, match=problem):
        protocol.Channel(r, None).recv(deadline=__import__("time").monotonic() + 5)


# -- the sandboxed worker ------------------------------------------------------
def module(tmp_path, part, source, **limits):
    path = tmp_path / f"{part}.py"
    path.write_text(source)
    root = stage_package(part, path, tmp_path / "pkg")
    return StudentModule(part, root, Limits(**{"test_seconds": 5, "start_seconds": 20, **limits}),
                         remote=reference_functions(part))


@pytest.mark.parametrize("source, kind, message", [
    ("def relu(x)\n    return x\n", ImportFailed, "SyntaxError"),
    ("import torch\n", ImportFailed, "ModuleNotFoundError"),
    ("raise RuntimeError('boom')\n", ImportFailed, "RuntimeError while being imported: boom at activations.py, line 1"),
    ("import sys\nsys.exit(0)\n", ImportFailed, "sys.exit()"),
    ("import os\nos._exit(3)\n", ImportFailed, "status 3"),
    ("while True:\n    pass\n", ImportFailed, "did not finish"),
])
def test_import_problems_have_clear_messages(tmp_path, source, kind, message):
    m = module(tmp_path, "activations", source, start_seconds=3)
    try:
        with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")):
            m.relu(np.ones(2))
        with pytest.raises(kind):           # the verdict is cached, not re-tried
            m.sigmoid(np.ones(2))
        assert m.status() == "import error"
    finally:
        m.close()


def test_call_failures_have_clear_messages(tmp_path):
    source = '''
import os, sys
import numpy as np
from .activations import sigmoid
def loops():
    while True:
        pass
def dies():
    os._exit(0)
def exits():
    sys.exit(1)
def todo():
    raise NotImplementedError
def wrong(x, y):
    return x[y]
def big():
    return np.ones(3 * 10**9)
def weird():
    return {1: 2}
def uses_reference(x):
    return sigmoid(x)
'''
    m = module(tmp_path, "mlp", source, test_seconds=2)
    try:
        with pytest.raises(NotImplementedYet, match="mlp.todo is not implemented yet"):
            m.todo()
        with pytest.raises(MissingFunction, match="has no function softmax"):
            m.softmax(np.ones(2))
        with pytest.raises(StudentRaised, match=r"IndexError.*mlp.py, line 15, in wrong: return x\[y\]"):
            m.wrong(np.ones(2), 5)
        with pytest.raises(StudentRaised, match=r"TypeError.*Your signature is wrong\(x, y\)"):
            m.wrong(np.ones(2))
        with pytest.raises(StudentRaised, match="sys.exit"):
            m.exits()
        with pytest.raises(StudentRaised, match="ran out of memory"):
            m.big()
        assert isinstance(m.weird(), protocol.Handle)
        np.testing.assert_allclose(m.uses_reference(np.zeros(3)), 0.5)   # dependencies resolve to the reference
        with pytest.raises(StudentCrashed, match="exited with status 0"):
            m.dies()
        assert m.uses_reference(np.zeros(1)).shape == (1,)               # a fresh worker takes over
        with pytest.raises(StudentTimeout, match="mlp.loops went past this test's time limit .*each test may use 2 s"
                                                 r".*An endless loop"):
            m.loops()
        with pytest.raises(StudentTimeout):                             # the rest of this test fails fast
            m.uses_reference(np.zeros(1))
        m.begin_test()
        assert m.uses_reference(np.zeros(1)).shape == (1,)               # the next test starts afresh
        assert m.status() == "timeout" and m.timeouts == 1 and m.crashes == 1
    finally:
        m.close()


def test_a_sleeping_call_is_charged_like_a_busy_one(tmp_path):
    # Waiting on its own account (sleep, a read that never returns) is the student's time: the call is
    # stopped at its limit, not at the wall-clock backstop, and the message says it was waiting.
    m = module(tmp_path, "mlp", "import time\ndef naps():\n    time.sleep(600)\n", test_seconds=1)
    try:
        m.begin_test()
        with pytest.raises(StudentTimeout, match="went past this test's time limit.*most of that time waiting"):
            m.naps()
        assert 1.0 <= m.test_charged and m.test_cpu < 0.5 and m.overloaded == 0
    finally:
        m.close()


def test_time_the_judge_spends_serving_calls_is_not_the_students(tmp_path):
    # Each of the 3 calls to the served dependency takes 1 s in the judge; the test's limit is 1 s.
    def slow_relu(x):
        time.sleep(1.0)
        return np.maximum(x, 0.0)
    path = tmp_path / "mlp.py"
    path.write_text("from .activations import relu\ndef f(x):\n    return relu(relu(relu(x)))\n")
    m = StudentModule("mlp", stage_package("mlp", path, tmp_path / "pkg"), Limits(test_seconds=1),
                      remote={"activations": {"relu": slow_relu}})
    try:
        m.begin_test()
        np.testing.assert_array_equal(m.f(np.array([-1.0, 2.0])), [0.0, 2.0])
        assert m.remote_calls["activations.relu"] == 3
        assert m.last_seconds < 0.5 < 3.0 <= m.test_wall
    finally:
        m.close()


def test_a_test_that_reaches_the_backstop_within_its_limit_is_not_graded(tmp_path):
    # An overloaded machine, simulated: the wall-clock backstop (0.5 s) comes long before the test's limit
    # (100 s) while the call computes. Not graded (HostOverloaded, the grader's problem), never a failure.
    source = "def busy():\n    x = 0\n    for i in range(10**9):\n        x += i\n    return x\n"
    m = module(tmp_path, "mlp", source, test_seconds=100, backstop_multiple=0, backstop_seconds=0.5)
    try:
        m.begin_test("test_busy")
        with pytest.raises(HostOverloaded, match="not graded: the grading machine was too busy"):
            m.busy()
        assert m.status() == "not graded" and m.timeouts == 0 and m.overloaded == 1
        with pytest.raises(HostOverloaded):                 # the rest of the test is not graded either
            m.busy()
    finally:
        m.close()


def test_the_charged_time_leaves_out_waiting_for_a_core_and_for_the_judge():
    before = meter.Snapshot(wall=100.0, judge=10.0, cpu=1.0, waiting=2.0, per_pid={7: (1.0, 2.0)})
    # 10 s of wall: 2 s in the judge, 5 s waiting for a core, 1.5 s of CPU: 1.5 s ran, 1.5 s it slept.
    after = meter.Snapshot(wall=110.0, judge=12.0, cpu=2.5, waiting=7.0, per_pid={7: (2.5, 7.0)})
    charged, cpu = meter.charged(before, after)
    assert cpu == pytest.approx(1.5)
    assert charged == pytest.approx(3.0 if meter.SCHEDSTAT else 1.5)
    # Two threads: more CPU than wall time is charged as CPU.
    after = meter.Snapshot(wall=101.0, judge=10.0, cpu=3.0, waiting=2.0, per_pid={7: (3.0, 2.0)})
    assert meter.charged(before, after) == pytest.approx((2.0, 2.0))


def test_student_code_cannot_write_the_kit_or_see_the_grader(tmp_path):
    target = ROOT / "tests" / "written-by-student"     # outside /tmp, which the sandbox replaces
    source = f'''
import os, signal
def attempt():
    out = {{}}
    try:
        open({str(target)!r}, "w").write("x")
        out["write"] = "ok"
    except OSError as e:
        out["write"] = type(e).__name__
    out["parent"] = os.getppid()
    try:
        os.kill(-1, signal.SIGKILL)
        out["kill"] = "sent"
    except OSError as e:
        out["kill"] = type(e).__name__
    return out
'''
    m = module(tmp_path, "mlp", source)
    try:
        got = m.attempt()
        assert m.sandboxed, "this machine supports the namespace sandbox; it must be used"
        # read-only file system (or, for a kit under /tmp, hidden behind the private tmpfs)
        assert got["write"] in ("OSError", "FileNotFoundError") and not target.exists()
        assert got["parent"] == 0                  # the judge is outside its PID namespace
        assert got["kill"] == "ProcessLookupError"  # and nothing outside it can be signalled
    finally:
        m.close()
        target.unlink(missing_ok=True)


def test_a_killed_judge_leaves_no_worker_behind(tmp_path):
    """The worker dies with the process that started it, even mid-loop, signals ignored."""
    import signal
    import subprocess
    import sys
    import time
    source = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "def spin():\n    while True:\n        pass\n")
    path = tmp_path / "mlp.py"
    path.write_text(source)
    root = stage_package("mlp", path, tmp_path / "pkg")
    judge = subprocess.Popen([sys.executable, "-c", (
        "import sys; sys.path.insert(0, %r)\n"
        "from grader.sandbox.client import StudentModule, Limits\n"
        "m = StudentModule('mlp', %r, Limits(test_seconds=600))\n"
        "print('started', flush=True); m.spin()\n") % (str(ROOT), str(root))], stdout=subprocess.PIPE, text=True)
    assert judge.stdout.readline().strip() == "started"

    def workers():
        found = []
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and str(root).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
        return found
    deadline = time.monotonic() + 600            # the worker starts, however busy the machine is
    while not workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers(), "the worker should be running its endless loop"
    judge.send_signal(signal.SIGKILL)
    judge.wait()
    deadline = time.monotonic() + 10
    while workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers() == []


# -- a broken part costs that part only ----------------------------------------
def test_broken_parts_cost_only_themselves(tmp_path):
    sub = tmp_path / "carol"
    sub.mkdir()
    (sub / "activations.py").write_text((REFERENCE / "activations.py").read_text())
    (sub / "logistic_regression.py").write_text("while True:\n    pass\n")
    (sub / "two_layer_net.py").write_text("import os\nos._exit(0)\n")
    out = tmp_path / "out"
    results = grade([str(sub)], out, jobs=2, limits=Limits(start_seconds=3),
                    parts=("activations", "logistic_regression", "two_layer_net"), quiet=True)
    parts = results["carol"]["extra_data"]["parts"]
    assert parts["activations"]["score"] == 20 and parts["activations"]["status"] == "ok"
    assert parts["logistic_regression"] == {**parts["logistic_regression"], "score": 0, "status": "import error"}
    assert parts["two_layer_net"]["score"] == 0 and parts["two_layer_net"]["status"] == "import error"
    outputs = {t["output"] for t in results["carol"]["tests"] if t["name"].startswith("logistic")}
    assert len(outputs) == 1 and "did not finish" in outputs.pop()
    row = (out / "gradebook.csv").read_text().splitlines()[1]
    assert "logistic_regression: import error" in row and "two_layer_net: import error" in row


def test_missing_module_costs_only_its_part(tmp_path):
    sub = tmp_path / "dave"
    sub.mkdir()
    (sub / "logistic_regression.py").write_text((REFERENCE / "logistic_regression.py").read_text())
    results = grade([str(sub)], tmp_path / "out", jobs=2, parts=("logistic_regression", "activations"),
                    quiet=True)
    parts = results["dave"]["extra_data"]["parts"]
    assert parts["logistic_regression"]["score"] == 20
    assert parts["activations"]["score"] == 0 and parts["activations"]["status"] == "missing"
    msgs = {t["output"] for t in results["dave"]["tests"] if t["name"].startswith("activations")}
    assert msgs == {"activations.py was not found in the submission"}
    saved = json.loads((tmp_path / "out" / "dave" / "results.json").read_text())
    assert saved["score"] == 20
