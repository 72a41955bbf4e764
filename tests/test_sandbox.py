"""The trust boundary, proven from inside the worker, on every backend this machine offers.

- What a worker can read is its allowlist (the Python runtime, numpy, the module under test) and
  nothing else: a sample of every folder of the machine (up to two regular files each, computed
  outside the worker) is unreadable from inside, a walk from / inside finds nothing outside the
  list, and the list holds nothing of the kit, the current folder or the temporary folders.
- The reference never enters the worker; only the functions a part may import are served.
- The wire refuses what would amplify in the judge, integers beyond 64 bits and shapes that
  overflow; what a call did to its arguments is read from shared memory, not from the worker's word.
- A hang costs its own test: the part's backstop leaves every later test its own budget.
- A Python installed under /tmp grades correctly.
"""
import json
import re
import os
import shutil
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from grader.engine.staging import reference_functions
from grader.sandbox import backends, protocol
from grader.sandbox.client import BadReturn, ImportFailed, Limits, StudentModule, StudentTimeout
from grader import ROOT
from grader.engine.staging import stage_package

BACKENDS = ("namespaces", "landlock")
SKIP = ("/proc", "/sys", "/dev")


def _beneath(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def sample_files(per_folder=2):
    """Up to `per_folder` regular files of every folder of the machine (but /proc, /sys, /dev).

    Iterative, not os.walk: Python 3.11's os.walk recurses once per level, and a test running beside
    this one (test_scratch.py) makes a tree 3,000 levels deep in /tmp. A folder that cannot be listed
    (too long a path, removed while we look) is passed over."""
    found, folders = [], ["/"]
    while folders:
        top = folders.pop()
        try:
            with os.scandir(top) as entries:
                entries = list(entries)
        except OSError:
            continue
        taken = 0
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.path not in SKIP:
                        folders.append(entry.path)
                elif taken < per_folder and entry.is_file(follow_symlinks=False):
                    found.append(entry.path)
                    taken += 1
            except OSError:
                continue
    return found


def under_any(path, roots):
    """Is `path` one of `roots` (a set) or beneath one?"""
    while True:
        if path in roots:
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


@pytest.fixture(scope="module")
def machine_sample():
    return sample_files()


@pytest.fixture(scope="module", params=BACKENDS)
def probed(request, tmp_path_factory, machine_sample):
    backend = request.param
    if not backends.available(backend):
        pytest.skip(f"{backend} is not available on this machine")
    tmp = tmp_path_factory.mktemp(f"probe-{backend}")
    canary = tmp / "canary.txt"
    canary.write_text("secret")
    root = stage_package("activations", ROOT / "assignment" / "activations.py", tmp / "pkg")
    module = StudentModule("activations", root, Limits(test_seconds=60), backend=backend)
    try:
        module._ensure_started()
        allow = module.sandbox["allowlist"]
        allowed = allow["read"] + allow["devices"] + [str(root)]
        start = time.monotonic()
        allowed_set = set(allowed)
        candidates = [p for p in machine_sample if not under_any(p, allowed_set)]
        readable = []
        for i in range(0, len(candidates), 20000):
            readable += module.probe_sandbox(read=candidates[i:i + 20000])["readable"]
        inside = module.probe_sandbox(walk=True, skip=SKIP, read=[str(canary)], write=[str(tmp), str(ROOT), "/"])
        seconds = time.monotonic() - start
    finally:
        module.close()
    return {"backend": backend, "allow": allow, "allowed": allowed, "root": str(root), "tmp": str(tmp),
            "candidates": candidates, "readable": readable, "inside": inside, "seconds": seconds}


def test_nothing_outside_the_allowlist_is_readable(probed):
    assert len(probed["candidates"]) > 1000             # the sample covers the machine
    assert probed["readable"] == [], probed["readable"][:20]
    assert probed["inside"]["readable"] == []            # the canary beside the staged package


def test_a_walk_inside_finds_only_the_allowlist(probed):
    walked = probed["inside"].get("walk") or []
    outside = [p for p in walked if not any(_beneath(p, a) for a in probed["allowed"])]
    assert outside == [], outside[:20]
    if probed["backend"] == "namespaces":                # the view holds the runtime (Landlock cannot list /)
        assert any(p.endswith("/numpy/__init__.py") for p in walked)


def test_writes_only_to_private_scratch(probed):
    writable = probed["inside"]["writable"]
    assert writable == [], writable


def test_the_allowlist_holds_nothing_of_the_kit_or_the_host(probed):
    sensitive = [str(ROOT), os.getcwd(), "/work", probed["tmp"], os.path.dirname(probed["tmp"]), "/home", "/etc",
                 os.path.expanduser("~"), "/tmp", "/var"]
    # The README's virtual environment (`python3 -m venv .venv` in the kit's folder) puts the Python runtime
    # inside the kit: its files may be allowed there, and the environment holds nothing of the kit.
    runtime = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix)}
    for r in runtime:
        for own in ("solutions", "grader", "tests", "catalog", "tooling", "assignment"):
            assert not _beneath(str(ROOT / own), r), (own, r)
    for path in probed["allow"]["read"]:
        for s in sensitive:
            assert not _beneath(s, path), (path, s)       # no allowed folder holds a sensitive one
        for s in (str(ROOT), os.getcwd(), "/work", probed["tmp"], "/home", "/var"):
            in_venv = any(_beneath(path, r) and not _beneath(s, r) for r in runtime)
            assert in_venv or not _beneath(path, s), (path, s)       # and none lies inside one
    assert not any("site-packages" in p and not p.rstrip("/").endswith(("numpy", "numpy.libs"))
                   for p in probed["allow"]["read"]), probed["allow"]["read"]


def test_the_reference_never_enters_the_worker(tmp_path):
    source = '''
import _sandbox_remote, sys
from .activations import sigmoid
def look(x):
    code = sigmoid.__code__
    out = {"file": code.co_filename, "names": list(code.co_names), "value": sigmoid(x),
           "modules": sorted(m for m in sys.modules if m.startswith("solutions"))}
    try:
        _sandbox_remote.function("activations", "__import__")("os")
        out["other"] = "served"
    except Exception as exc:
        out["other"] = type(exc).__name__
    return out
'''
    path = tmp_path / "logistic_regression.py"
    path.write_text(source)
    root = stage_package("logistic_regression", path, tmp_path / "pkg")
    assert sorted(p.name for p in (root / "assignment").iterdir()) == [
        "__init__.py", "datasets.py", "gradient_check.py", "logistic_regression.py"]
    m = StudentModule("logistic_regression", root, Limits(test_seconds=10),
                      remote=reference_functions("logistic_regression"))
    try:
        got = m.call("look", np.zeros(3))
        staged = (root / "assignment" / "activations.py").read_text()
    finally:
        m.close()
    assert got["file"].endswith("worker.py") and "exp" not in got["names"]
    assert got["modules"] == [] and got["other"] == "AttributeError"
    np.testing.assert_allclose(got["value"], 0.5)
    # What the worker can read in place of activations.py: stubs, one line per function, nothing else.
    lines = [line for line in staged.splitlines()[2:] if line]
    assert lines and all(line == f"{fn} = _grader_served('activations', {fn!r})"
                         for line, fn in zip(lines, sorted(reference_functions("logistic_regression")["activations"])))


def test_own_activations_are_used_only_when_they_behave_like_the_reference(tmp_path):
    """The fast path (the student's own activations.py inside the worker) is the same numbers as the
    reference, or not taken: a buggy activations.py never costs another part."""
    from grader.engine.grade import grade
    from tests.hostile import ATTACKS, build
    from catalog import apply_edits
    from catalog.bugs import BUGS
    reference = (ROOT / "solutions" / "activations.py").read_text()
    uses_x = apply_edits(reference, next(b for b in BUGS if b.name == "sigmoid_backward_uses_x"))
    subs = {}
    for name, activations in (("own", reference),
                              ("buggy", (ROOT / "grader" / "examples" / "partial" / "activations.py").read_text()),
                              ("buggy_used", uses_x), ("broken", "import os\nos._exit(3)\n")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "two_layer_net.py").write_text((ROOT / "solutions" / "two_layer_net.py").read_text())
        (folder / "activations.py").write_text(activations)
        subs[name] = folder
    forger = build(next(a for a in ATTACKS if a.name == "forge_instrumentation"), "solutions", tmp_path / "forger")
    (forger / "activations.py").write_text((ROOT / "solutions" / "activations.py").read_text())
    results = grade([*map(str, subs.values()), str(forger)], tmp_path / "out", jobs=2, parts=("two_layer_net",),
                    quiet=True)
    modes = {n: r["extra_data"]["parts"]["two_layer_net"].get("dependencies") for n, r in results.items()}
    # Function by function: the partial example's activations are wrong in tanh_backward only (which the
    # two-layer net never calls); sigmoid_backward computed from x is wrong where the net needs it.
    assert modes == {"own": {"activations": "own"},
                     "buggy": {"activations": "own, except tanh_backward (reference)"},
                     "buggy_used": {"activations": "own, except sigmoid_backward (reference)"},
                     "broken": {"activations": "reference"}, "forger": {"activations": "own"}}, modes
    assert [results[n]["score"] for n in ("own", "buggy", "buggy_used", "broken")] == [25, 25, 25, 25]
    fails = {t["name"]: t["output"] for t in results["forger"]["tests"] if t["status"] != "passed"}
    flagged = "two_layer_net: backward computes gradients by backpropagation, not by finite differences"
    assert "looks like finite differences" in fails.get(flagged, ""), fails


def test_every_way_of_importing_a_part_reaches_what_the_judge_serves(tmp_path):
    """A student's sigmoid_backward that is wrong is served by the judge, however the part imports it:
    relative or absolute, the module or its names, importlib, or the file itself by its path. What
    results.json records is what was staged, so it is true by construction."""
    from catalog import apply_edits
    from catalog.bugs import BUGS
    from grader.engine.dependencies import CHECKS
    source = '''
import importlib, importlib.util, os
import numpy as np
from activations import sigmoid_backward as absolute_name
import activations as absolute_module
from . import activations as relative_module
from .activations import sigmoid_backward as relative_name
by_importlib = importlib.import_module("activations")
by_package = importlib.import_module("assignment.activations")
spec = importlib.util.spec_from_file_location("copy", os.path.join(os.path.dirname(__file__), "activations.py"))
by_path = importlib.util.module_from_spec(spec)
spec.loader.exec_module(by_path)

def grads(dout, x):
    return [absolute_name(dout, x), absolute_module.sigmoid_backward(dout, x),
            relative_module.sigmoid_backward(dout, x), relative_name(dout, x),
            by_importlib.sigmoid_backward(dout, x), by_package.sigmoid_backward(dout, x),
            by_path.sigmoid_backward(dout, x), absolute_module.sigmoid(x)]
'''
    path = tmp_path / "two_layer_net.py"
    path.write_text(source)
    own = tmp_path / "activations.py"
    reference = (ROOT / "solutions" / "activations.py").read_text()
    own.write_text(apply_edits(reference, next(b for b in BUGS if b.name == "sigmoid_backward_uses_x")))
    root = stage_package("two_layer_net", path, tmp_path / "pkg", own={"activations": own})
    m = StudentModule("two_layer_net", root, Limits(test_seconds=30), remote=reference_functions("two_layer_net"),
                      own={"activations": CHECKS["activations"]})
    x = np.array([-2.0, 0.0, 3.0])
    try:
        got = m.call("grads", np.ones(3), x)
    finally:
        m.close()
    s = 1 / (1 + np.exp(-x))
    for g in got[:-1]:
        np.testing.assert_allclose(g, s * (1 - s), rtol=1e-12)       # the judge's, never x (1 - x)
    np.testing.assert_allclose(got[-1], s, rtol=1e-12)                # their own sigmoid, which is right
    assert m.dependency_modes() == {"activations": "own, except sigmoid_backward (reference)"}
    staged = (root / "assignment" / "activations.py").read_text()
    assert staged.startswith(own.read_text()) and staged.rstrip().endswith(
        "sigmoid_backward = _grader_served('activations', 'sigmoid_backward')")


def test_calls_to_the_reference_are_counted_by_the_judge(tmp_path):
    """The judge counts the stub calls it serves; nothing in the worker can change that count."""
    source = '''
import sys
from .activations import relu
def step(x, n):
    for _ in range(n):
        relu(x)
    frame = sys._getframe(1)
    while frame is not None:                         # clear every counter in sight
        for value in frame.f_locals.values():
            if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
                value.clear()
        frame = frame.f_back
    return 0.0
'''
    path = tmp_path / "mlp.py"
    path.write_text(source)
    m = StudentModule("mlp", stage_package("mlp", path, tmp_path / "pkg"), Limits(test_seconds=10),
                      remote=reference_functions("mlp"))
    try:
        m.call("step", np.ones(3), 25)
    finally:
        m.close()
    assert m.remote_calls["activations.relu"] == 25


def test_in_place_changes_are_read_from_shared_memory(tmp_path):
    source = '''
import sys
def sneaky(x, d):
    original = x.copy()
    x *= 2.0
    d["a"] += 1.0
    frame = sys._getframe(1)
    args = frame.f_locals["args"]                   # the worker's report, made to look untouched
    args[0] = original
    args[1] = {"a": original[:1] * 0.0}
    return 1.0
def honest(x, d):
    return float(x.sum())
'''
    path = tmp_path / "mlp.py"
    path.write_text(source)
    m = StudentModule("mlp", stage_package("mlp", path, tmp_path / "pkg"), Limits(test_seconds=10))
    x, d = np.arange(3.0), {"a": np.zeros(1)}
    try:
        _, args, _ = m.call("sneaky", x.copy(), {"a": d["a"].copy()}, _return_args=True)
        assert np.array_equal(args[0], 2 * x) and np.array_equal(args[1]["a"], [1.0])
        _, args, _ = m.call("honest", x.copy(), {"a": d["a"].copy()}, _return_args=True)
        assert np.array_equal(args[0], x) and np.array_equal(args[1]["a"], d["a"])
        # Every call is watched the same way, whether or not the test asks for the arguments back.
        m.call("sneaky", x.copy(), {"a": d["a"].copy()})
        m.call("honest", x.copy(), {"a": d["a"].copy()})
        assert m.mutations == [("sneaky", ["x", "d['a']"])] * 2
    finally:
        m.close()


def _frame(header):
    return protocol.MAGIC + len(header).to_bytes(8, "big") + header


def _recv(data, max_header=protocol.MAX_REPLY_HEADER):
    """Channel.recv on `data`, written by a thread (the reader may refuse it before reading it all)."""
    import threading
    r, w = os.pipe()

    def write():
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(w, view[:65536]):]
        except OSError:              # the reader gave up and closed its end
            pass
        finally:
            os.close(w)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        return protocol.Channel(r, None, max_payload=protocol.MAX_REPLY, max_header=max_header).recv(
            deadline=time.monotonic() + 30)
    finally:
        os.close(r)
        writer.join(timeout=30)


@pytest.mark.parametrize("n, problem", [(7_000_000, "header too large"), (1_600_000, "too large")])
def test_a_reply_cannot_amplify_in_the_judge(n, problem):
    """63 MB of empty dicts took a judge to 1.9 GB: refused on its size, or on its count of containers
    before any parsing (peak measured here: well under the 40 MB asserted)."""
    header = b'{"kind":"ok","value":{"L":[' + b'{"D":[]},' * (n - 1) + b'{"D":[]}]},"_arrays":[]}'
    data = _frame(header)
    tracemalloc.start()
    try:
        with pytest.raises(protocol.ProtocolError, match=problem):
            _recv(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) + (40 << 20), peak


def test_shapes_that_overflow_and_huge_integers_are_refused():
    with pytest.raises(protocol.ProtocolError, match="too large"):
        _recv(_frame(b'{"kind":"ok","value":{"A":0},"_arrays":[["<f8",[4294967296,4294967296,4294967296]]]}'))
    with pytest.raises(protocol.ProtocolError, match="beyond 64 bits"):
        _recv(_frame(b'{"kind":"ok","value":{"I":' + b"9" * 400 + b'},"_arrays":[]}'))


def test_a_huge_integer_is_reported_as_the_students(tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text("def loss():\n    return 10 ** 400\n")
    m = StudentModule("mlp", stage_package("mlp", path, tmp_path / "pkg"), Limits(test_seconds=10))
    try:
        with pytest.raises(BadReturn, match="an integer beyond 64 bits"):
            m.loss()
    finally:
        m.close()


@pytest.mark.skipif(not backends.available("landlock"), reason="Landlock is not offered by this kernel")
def test_what_a_call_leaves_in_its_scratch_folder_is_measured_when_it_returns(tmp_path, monkeypatch):
    """The Landlock scratch folder's 64 MiB is a watchdog's reading every 0.2 s, which a burst of writes can
    outrun (a non-root run wrote 384 MiB between two readings). Whatever a call leaves behind is measured when
    it returns: with the watchdog's readings turned off, 96 MiB left by one call is still the verdict, and
    8 MiB is not."""
    from grader.sandbox import workerproc
    from grader.sandbox.client import StudentCrashed
    monkeypatch.setattr(workerproc, "SCRATCH_SECONDS", 1e9)      # only the reading at the call's end is left
    path = tmp_path / "activations.py"
    path.write_text("def relu(mib):\n    for i in range(int(mib) // 8):\n"
                    "        with open(f'blob{i}', 'wb') as f:\n            f.write(bytes(8 << 20))\n"
                    "    return mib\n")
    m = StudentModule("activations", stage_package("activations", path, tmp_path / "pkg"), Limits(test_seconds=30),
                      backend="landlock")
    try:
        assert m.relu(8) == 8                                    # 8 MiB: under the bound, the worker goes on
        with pytest.raises(StudentCrashed, match="its files together took more than 64 MiB"):
            m.relu(96)
        assert m.relu(0) == 0                                    # a new worker, with a new scratch folder
    finally:
        m.close()


def test_a_stand_in_serves_only_the_functions_it_names_and_only_while_it_lasts(tmp_path):
    """StudentModule.stand_in (a slip costs once): the part's own functions it names are computed by the
    judge from what it is given, both where the student's code calls them by name and where the judge
    calls them; every other function of the part stays unreachable through the wire, before, during and
    after; {} gives the student's own back."""
    from grader.engine.staging import own_reference
    source = (ROOT / "solutions" / "two_layer_net.py").read_text() + (
        "\n\ndef ask(name):\n    import _sandbox_remote\n    try:\n"
        "        _sandbox_remote.function('two_layer_net', name)(None)\n        return 'served'\n"
        "    except Exception as exc:\n        return type(exc).__name__\n")
    source = source.replace("def backward(params, cache, y):", "def backward(params, cache, y):\n    return 'own'", 1)
    path = tmp_path / "two_layer_net.py"
    path.write_text(source)
    m = StudentModule("two_layer_net", stage_package("two_layer_net", path, tmp_path / "pkg"),
                      Limits(test_seconds=30), remote=reference_functions("two_layer_net"))
    params = own_reference("two_layer_net", ["init_params"])["init_params"](3, 4, 2, seed=0)
    X, y = np.zeros((5, 3)), np.zeros((5, 2))
    try:
        cache = m.forward(params, X)[1]
        before = (m.backward(params, cache, y), m.ask("backward"), m.ask("forward"))
        in_effect = m.stand_in(own_reference("two_layer_net", ["backward"]))
        during = (m.backward(params, cache, y), m.ask("backward"), m.ask("forward"))
        given_back = m.stand_in({})
        after = (m.backward(params, cache, y), m.ask("backward"))
    finally:
        m.close()
    assert (in_effect, given_back) == (True, False)
    assert before == ("own", "AttributeError", "AttributeError"), before
    assert isinstance(during[0], dict) and sorted(during[0]) == ["W1", "W2", "b1", "b2"], during
    assert during[1:] == ("TypeError", "AttributeError"), during       # served (and refusing None), or not at all
    assert after == ("own", "AttributeError"), after


def test_a_stand_in_is_not_claimed_for_a_file_that_does_not_import(tmp_path):
    """Where the part's file fails at import, appending stand-ins to it changes nothing: stand_in says they
    are not in effect (so no result claims the grader's functions were used) and every call fails as
    before, with the import's own message."""
    from grader.engine.staging import own_reference
    path = tmp_path / "two_layer_net.py"
    path.write_text((ROOT / "solutions" / "two_layer_net.py").read_text() + "\nraise RuntimeError('at import')\n")
    m = StudentModule("two_layer_net", stage_package("two_layer_net", path, tmp_path / "pkg"),
                      Limits(test_seconds=30), remote=reference_functions("two_layer_net"))
    try:
        with pytest.raises(ImportFailed):
            m.mse_loss(np.zeros((2, 1)), np.zeros((2, 1)))
        in_effect = m.stand_in(own_reference("two_layer_net", ["backward"]))
        with pytest.raises(ImportFailed, match="at import"):
            m.mse_loss(np.zeros((2, 1)), np.zeros((2, 1)))
    finally:
        m.close()
    assert in_effect is False


def test_a_hang_costs_only_its_own_test(tmp_path):
    """A sigmoid that loops for |x| > 50 fails the three tests that call it so, each at its own limit; the
    five others pass."""
    path = tmp_path / "activations.py"
    path.write_text("import numpy as np\ndef sigmoid(x):\n    while np.max(np.abs(x)) > 50:\n        pass\n"
                    "    return 1 / (1 + np.exp(-x))\n")
    m = StudentModule("activations", stage_package("activations", path, tmp_path / "pkg"), Limits(test_seconds=1))
    outcomes = []
    try:
        for i in range(8):
            m.begin_test(f"test_{i}")
            x = np.array([100.0]) if i < 3 else np.array([0.0])
            try:
                outcomes.append(float(m.sigmoid(x)[0]))
            except StudentTimeout as exc:
                outcomes.append(str(exc))
    finally:
        m.close()
    assert all("went past this test's time limit" in o for o in outcomes[:3]), outcomes
    assert outcomes[3:] == [0.5] * 5, outcomes


def test_a_python_installed_under_tmp_grades_correctly(tmp_path_factory):
    """python3 -m venv /tmp/env with numpy inside it: the worker's private /tmp once hid numpy and every
    submission scored 0. The venv reuses this interpreter's packages, with numpy copied into it."""
    import numpy
    env = Path(tempfile_dir()) / f"venv-{os.getpid()}"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env)],
                       check=True, timeout=600)
        site = next(env.glob("lib/python*/site-packages"))
        src = Path(numpy.__path__[0])
        shutil.copytree(src, site / "numpy", symlinks=True)
        if (src.parent / "numpy.libs").is_dir():
            shutil.copytree(src.parent / "numpy.libs", site / "numpy.libs", symlinks=True)
        python = env / "bin" / "python3"
        where = subprocess.run([str(python), "-c", "import numpy; print(numpy.__file__)"], capture_output=True,
                               text=True, check=True).stdout
        assert where.startswith(str(env)), where
        out = tmp_path_factory.mktemp("venv-out")
        proc = subprocess.run([str(python), "-m", "grader", "grade", "--out", str(out), "--parts",
                               "logistic_regression", "--", str(ROOT / "solutions")], cwd=ROOT,
                              capture_output=True, text=True, timeout=600, env={**os.environ, "GRADER_SANDBOX": ""})
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads((out / "solutions" / "results.json").read_text())
        assert result["score"] == 20, result["output"]
    finally:
        shutil.rmtree(env, ignore_errors=True)


def tempfile_dir():
    return "/tmp" if os.path.isdir("/tmp") else __import__("tempfile").gettempdir()


@pytest.mark.skipif(os.geteuid() != 0 or not backends.available("namespaces") or
                    not os.path.realpath(sys.executable).startswith("/root/"),
                    reason="needs root, and a Python under /root (mode 0700) to reproduce the case")
def test_landlock_with_a_uid_of_its_own(tmp_path):
    """Landlock as root where other users can read the Python installation (Gradescope, Docker images):
    each worker runs as a uid of its own, a fork is refused as everywhere, nothing survives. Reproduced here
    in a private mount namespace where /root is a 0755 tmpfs holding this machine's ~/.pyenv."""
    from tests.hostile import ATTACKS, build
    attacks = {a.name: a for a in ATTACKS}
    subs = [build(attacks[n], "solutions", tmp_path / f"reference-{n}") for n in ("fork_memory", "forked_survivor")]
    pyenv = os.path.realpath(sys.executable).split("/")[2]          # .pyenv
    out = tmp_path / "out"
    script = (f"set -e; mkdir -p {tmp_path}/rootsave; mount --bind /root {tmp_path}/rootsave; "
              f"mount -t tmpfs -o mode=0755 tmpfs /root; mkdir /root/{pyenv}; "
              f"mount --bind {tmp_path}/rootsave/{pyenv} /root/{pyenv}; "
              f"exec {sys.executable} -m grader grade --out {out} --parts activations -j 2 -- "
              f"{ROOT / 'solutions'} {' '.join(map(str, subs))}")
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "GRADER_SANDBOX": "landlock"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    assert {r["extra_data"]["sandbox"]["backend"] for r in results.values()} == {"landlock"}
    assert {r["extra_data"]["sandbox"].get("uid") for r in results.values()} == {"one per worker"}
    assert results["solutions"]["score"] == 20
    for name in ("reference-fork_memory", "reference-forked_survivor"):       # no process can be started
        assert results[name]["score"] == 0
        assert all("Operation not permitted" in t["output"] for t in results[name]["tests"]), name
    deadline = time.monotonic() + 60        # killed processes take a moment to be reaped on a busy machine
    while [p for p in os.listdir("/proc") if p.isdigit() and _marked(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _marked(p)], "a forked child survived"


def _marked(pid):
    try:
        return b"HOSTILE_SURVIVOR_MARK" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# -- the seccomp filter (grader/sandbox/seccomp.py), on every backend ----------------------------------------

from grader.sandbox import seccomp  # noqa: E402

SYSCALL_PROBE = r'''
import ctypes, errno, os, socket, subprocess, sys, threading, time
import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# Arguments that do nothing (or fail harmlessly) wherever the call is allowed: an invalid request, fd -1,
# a NULL path, flags -1. unshare(0), personality(0) and a clone that only forks would succeed.
_ARGS = {"ptrace": (-1, 0, 0, 0), "kexec_load": (0, 0, 0, -1), "kexec_file_load": (-1, -1, 0, 0, -1),
         "io_uring_setup": (1, 0), "setns": (-1, 0), "fanotify_init": (-1, 0), "userfaultfd": (-1,),
         "keyctl": (-1, 0, 0, 0, 0), "bpf": (-1, 0, 0), "pidfd_getfd": (-1, -1, 0), "io_uring_enter": (-1, 0, 0, 0, 0, 0),
         "io_uring_register": (-1, 0, 0, 0), "process_madvise": (-1, 0, 0, 0, 0), "fsconfig": (-1, 0, 0, 0, 0),
         "fsmount": (-1, 0, 0), "open_tree": (-1, 0, 0), "fspick": (-1, 0, 0), "mount_setattr": (-1, 0, 0, 0, 0),
         "move_mount": (-1, 0, -1, 0, 0), "open_by_handle_at": (-1, 0, 0), "name_to_handle_at": (-1, 0, 0, 0, 0),
         "finit_module": (-1, 0, 0), "reboot": (0, 0, 0, 0)}


def _raw(nr, *args):
    ctypes.set_errno(0)
    rc = _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    return rc, ctypes.get_errno()


def _outcome(rc, err):
    return "ok" if rc >= 0 else errno.errorcode.get(err, str(err))


def _fork_like(nr, *args):
    """A raw clone/clone3: where it is allowed the child leaves at once."""
    rc, err = _raw(nr, *args)
    if rc == 0:
        os._exit(0)
    if rc > 0:
        os.waitpid(rc, 0)
    return _outcome(rc, err)


def syscalls(nr):
    out = {"sockets": {}, "calls": {}, "work": {}}
    for family in ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
        for kind in ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"):
            try:
                socket.socket(getattr(socket, family), getattr(socket, kind)).close()
                out["sockets"][f"{family} {kind}"] = "ok"
            except OSError as exc:
                out["sockets"][f"{family} {kind}"] = errno.errorcode.get(exc.errno, str(exc.errno))
    try:
        a, b = socket.socketpair()
        a.close(); b.close()
        out["sockets"]["socketpair"] = "ok"
    except OSError as exc:
        out["sockets"]["socketpair"] = errno.errorcode.get(exc.errno, str(exc.errno))
    for name, number in nr.items():
        if name in ("seccomp", "clone", "clone3", "socket", "socketpair", "fork", "vfork"):
            continue
        out["calls"][name] = _outcome(*_raw(number, *_ARGS.get(name, (0, 0, 0, 0, 0, 0))))
    out["calls"]["socket"] = _outcome(*_raw(nr["socket"], 1, 1, 0))
    out["calls"]["socketpair"] = _outcome(*_raw(nr["socketpair"], 1, 1, 0, ctypes.addressof((ctypes.c_int * 2)())))
    out["calls"]["personality(0xffffffff)"] = _outcome(*_raw(nr["personality"], 0xFFFFFFFF))
    out["calls"]["clone(CLONE_NEWUSER)"] = _fork_like(nr["clone"], 0x10000000 | 17, 0, 0, 0, 0)
    out["calls"]["clone(CLONE_NEWNET)"] = _fork_like(nr["clone"], 0x40000000 | 17, 0, 0, 0, 0)
    out["calls"]["clone(SIGCHLD)"] = _fork_like(nr["clone"], 17, 0, 0, 0, 0)
    for name in ("fork", "vfork"):                           # x86_64's; aarch64 forks by clone only
        if name in nr:
            out["calls"][name] = _fork_like(nr[name])
    clone_args = (ctypes.c_uint64 * 11)(0, 0, 0, 0, 17)      # struct clone_args: exit_signal SIGCHLD
    out["calls"]["clone3"] = _fork_like(nr["clone3"], ctypes.addressof(clone_args), ctypes.sizeof(clone_args))

    work = out["work"]
    work["numpy"] = float((np.arange(6.0).reshape(2, 3) @ np.ones(3)).sum())
    box = []
    thread = threading.Thread(target=lambda: box.append(sum(range(10))))
    thread.start(); thread.join()
    work["thread"] = box
    for what, start in (("fork", os.fork),
                        ("python", lambda: subprocess.run([sys.executable, "-S", "-c", "print(6 * 7)"])),
                        ("true", lambda: subprocess.run(["/bin/true"]))):
        try:
            if start() == 0:
                os._exit(7)                                  # a forked child, where fork was allowed
            work[what] = "started"
        except OSError as exc:
            work[what] = type(exc).__name__
    start = time.monotonic()
    time.sleep(0.01)
    work["sleep"] = time.monotonic() - start >= 0.01
    with open(__file__) as f:
        work["own_module"] = "def syscalls" in f.read()
    r, w = os.pipe()
    os.write(w, b"x")
    work["pipe"] = os.read(r, 1).decode()
    return out
'''


@pytest.fixture(scope="module", params=("namespaces", "landlock", "none"))
def syscall_probe(request, tmp_path_factory):
    backend = request.param
    if not backends.available(backend):
        pytest.skip(f"{backend} is not available on this machine")
    tmp = tmp_path_factory.mktemp(f"syscalls-{backend}")
    path = tmp / "activations.py"
    path.write_text(SYSCALL_PROBE)
    module = StudentModule("activations", stage_package("activations", path, tmp / "pkg"), Limits(test_seconds=60),
                           backend=backend)
    try:
        got = module.call("syscalls", seccomp.ARCHES[seccomp.native_arch()]["nr"])
        sandbox = module.sandbox
    finally:
        module.close()
    return {"backend": backend, "got": got, "sandbox": sandbox}


def test_no_socket_and_no_dangerous_system_call_from_inside(syscall_probe):
    """Every family and type of socket, socketpair, and each denied system call answer EPERM from inside a
    worker, whatever the backend (socket(AF_UNIX), unshare(0) and personality(0) would succeed unfiltered);
    clone3 answers ENOSYS, so that libc falls back to clone, whose namespace flags are refused."""
    got = syscall_probe["got"]
    assert set(got["sockets"].values()) == {"EPERM"}, got["sockets"]
    assert len(got["sockets"]) == 16
    calls = dict(got["calls"])
    assert calls.pop("personality(0xffffffff)") == "ok"       # the query libc and Python make
    assert calls.pop("clone3") == "ENOSYS"
    assert set(calls) == set(seccomp.denied(seccomp.native_arch())) | {
        "personality", "clone(CLONE_NEWUSER)", "clone(CLONE_NEWNET)", "clone(SIGCHLD)"}
    assert {name: v for name, v in calls.items() if v != "EPERM"} == {}, calls
    info = syscall_probe["sandbox"]["seccomp"]
    assert info["arch"] == seccomp.native_arch() and info["errno"] == "EPERM"
    assert set(info["refused"]) == set(seccomp.denied(info["arch"]))


def test_ordinary_student_work_still_runs_under_the_filter(syscall_probe):
    work = syscall_probe["got"]["work"]
    assert work["numpy"] == 15.0 and work["thread"] == [45]
    assert work["sleep"] and work["own_module"] and work["pipe"] == "x"


def test_no_process_can_be_started_on_any_backend(syscall_probe):
    """os.fork() and subprocess (vfork, or clone without CLONE_THREAD) answer PermissionError on every
    backend alike: a process budget (RLIMIT_NPROC) is shared with the whole batch where the worker has no
    uid of its own, so a fork there succeeded or failed by the batch's load (CI, 83e804f)."""
    work = syscall_probe["got"]["work"]
    assert (work["fork"], work["python"], work["true"]) == ("PermissionError",) * 3, work


def test_the_backends_describe_the_filter():
    for backend in ("namespaces", "landlock", "none"):
        info = backends.describe(backend)
        assert any(line.startswith("system calls (seccomp)") for line in info["enforces"]), info
        assert not any("UDP" in line or line == "network" for line in info["cannot"]), info


def _run_filter(code, nr, arch, args=(0,) * 6):
    """Run the classic BPF program `code` on struct seccomp_data (the subset of opcodes seccomp.py uses)."""
    args = (tuple(args) + (0,) * 6)[:6]
    data = struct.pack("<iIQ6Q", nr, arch, 0, *[a & (2 ** 64 - 1) for a in args])
    insns = [struct.unpack("=HBBI", code[i:i + 8]) for i in range(0, len(code), 8)]
    pc, acc = 0, 0
    while True:
        op, jt, jf, k = insns[pc]
        if op == seccomp.LD_W_ABS:
            acc = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif op in (seccomp.JEQ_K, seccomp.JGE_K, seccomp.JSET_K):
            hit = {seccomp.JEQ_K: acc == k, seccomp.JGE_K: acc >= k, seccomp.JSET_K: bool(acc & k)}[op]
            pc += 1 + (jt if hit else jf)
        elif op == seccomp.RET_K:
            return k
        else:
            raise AssertionError(f"opcode {op:#x} at {pc}")


# A few calls any Python process makes: read, write, openat, mmap, futex, execve, wait4, getpid.
ALLOWED = {"x86_64": (0, 1, 257, 9, 202, 59, 61, 39), "aarch64": (63, 64, 56, 222, 98, 221, 260, 172)}
UNISTD = {"x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "aarch64": "/usr/include/asm-generic/unistd.h"}


@pytest.mark.parametrize("arch", sorted(seccomp.ARCHES))
def test_the_filter_decides_right_on_each_architecture(arch):
    """The program for x86_64 and for aarch64, run in a BPF interpreter: every denied call is EPERM, whatever
    its arguments; clone3 ENOSYS; personality's query allowed; any call of
    another ABI (i386's socketcall, x32) EPERM; ordinary calls allowed.
    clone only for a thread (CLONE_THREAD) and without namespace flags; fork and vfork (x86_64) EPERM."""
    code = seccomp.program(arch)
    table = seccomp.ARCHES[arch]
    audit, nr = table["audit_arch"], table["nr"]
    eperm, allow = seccomp.RET_ERRNO | 1, seccomp.RET_ALLOW
    assert {"fork", "vfork"} <= set(seccomp.denied(arch)) or arch == "aarch64"
    for name in seccomp.denied(arch):
        for args in ((0,) * 6, (1, 2, 3, 4, 5, 6), (2 ** 64 - 1,) * 6):
            assert _run_filter(code, nr[name], audit, args) == eperm, name
    assert _run_filter(code, nr["clone3"], audit) == seccomp.RET_ERRNO | 38
    for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
        assert _run_filter(code, nr["clone"], audit, (flag | 17, 0, 0, 0, 0, 0)) == eperm, hex(flag)
    threads = 0x003D0F00                           # CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|*TID
    assert _run_filter(code, nr["clone"], audit, (threads, 0, 0, 0, 0, 0)) == allow
    for flags in (17, 0x4111, 0x01200011):         # fork, vfork (CLONE_VM|CLONE_VFORK|SIGCHLD), glibc's fork()
        assert _run_filter(code, nr["clone"], audit, (flags, 0, 0, 0, 0, 0)) == eperm, hex(flags)
    assert _run_filter(code, nr["personality"], audit, (0xFFFFFFFF,)) == allow
    assert _run_filter(code, nr["personality"], audit, (0x0040000,)) == eperm        # ADDR_NO_RANDOMIZE
    for number in ALLOWED[arch] + (nr["seccomp"],):
        assert _run_filter(code, number, audit) == allow, number
    for other in (0x40000003, 0x4000003E, 0x40000028):    # AUDIT_ARCH_I386, ARM; socketcall (102) there
        assert _run_filter(code, 102, other) == eperm and _run_filter(code, 0, other) == eperm
    if arch == "x86_64":
        assert _run_filter(code, 0x40000000 | 41, audit) == eperm                     # x32 socket
        assert _run_filter(code, 0x40000000, audit) == eperm
    header = Path(UNISTD[arch])
    if header.is_file():                          # the kernel's own numbers, where its headers are installed
        text = header.read_text()
        for name, number in nr.items():
            match = re.search(rf"^#define __NR(?:3264)?_{name}\s+(\d+)", text, re.M)
            assert match and int(match.group(1)) == number, (arch, name)


def test_an_unknown_architecture_refuses_to_start_the_worker(tmp_path):
    """Under `setarch i686` the worker's uname says i686: no table for it, so no student code runs."""
    if not shutil.which("setarch"):
        pytest.skip("setarch (util-linux) is not installed")
    script = ("import sys\nsys.path.insert(0, %r)\nfrom grader.sandbox.client import StudentModule, Limits\n"
              "from grader.engine.staging import stage_package\n"
              "m = StudentModule('activations', stage_package('activations', %r, %r), Limits(), backend='none')\n"
              "try:\n    m.relu(__import__('numpy').zeros(2))\nexcept Exception as exc:\n"
              "    print(type(exc).__name__, exc)\nfinally:\n    m.close()\n") % (
        str(ROOT), str(ROOT / "solutions" / "activations.py"), str(tmp_path / "pkg"))
    proc = subprocess.run(["setarch", "i686", sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert "SandboxFailure" in proc.stdout and "no system call table for this architecture (i686" in proc.stdout, \
        proc.stdout + proc.stderr
