"""The kit's hostile catalog: submissions written to cheat, break or overload
the grader, the way a determined student would write them.

Each Attack is a piece of code injected into one module of a base submission.
tests/test_hostile.py grades every attack twice, on top of the untouched
starter (it must score 0) and on top of the reference (it must score no more
than the reference), and checks what the issue asks of each: grading
finishes, nothing is written outside the sandbox, no process survives, and
the feedback never repeats hidden or reference code.
"""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Attack:
    name: str
    part: str
    story: str
    code: str                 # appended to the module (so it can override functions), or
    at_import: bool = False   # ... prepended, so it runs before anything is defined
    bases: tuple = ("starter", "reference")    # the modules it is injected into, each graded
    companions: tuple = ()                     # (file name, text): other files of the same submission


def load(name):
    return (HERE / "code" / f"{name}.py").read_text(encoding="utf-8")


ATTACKS = (
    Attack("fake_results", "activations",
           "prints a perfect results.json and writes it everywhere it can think of",
           load("fake_results"), at_import=True),
    Attack("exit_at_import", "activations", "calls sys.exit(0) while being imported, hoping for a clean exit",
           "import sys\nsys.exit(0)\n", at_import=True),
    Attack("os_exit_at_import", "logistic_regression", "calls os._exit(0) while being imported",
           "import os\nos._exit(0)\n", at_import=True),
    Attack("patch_numpy", "activations",
           "replaces numpy's comparison functions so that every comparison passes",
           load("patch_numpy"), at_import=True),
    Attack("patch_pytest", "activations",
           "rewrites pytest's report objects and hooks so every test reports as passed",
           load("patch_pytest"), at_import=True),
    Attack("ignore_signals_and_loop", "activations",
           "ignores SIGTERM, SIGALRM, SIGINT and SIGHUP, then loops forever inside sigmoid",
           load("ignore_signals_and_loop")),
    Attack("forked_survivor", "activations",
           "forks a child that leaves the process group, ignores signals and keeps running (refused: no "
           "process can be started, on every host alike)",
           load("forked_survivor"), at_import=True),
    Attack("huge_allocation", "activations", "allocates 12 GB inside relu",
           "import numpy as _np\n\ndef relu(x):\n    big = _np.ones(int(1.5e9))\n    return big[:x.size].reshape(x.shape)\n"),
    Attack("kill_parent", "activations",
           "kills its parent, every process it can see and every python process by pid",
           load("kill_parent"), at_import=True),
    Attack("leak_sources", "mlp",
           "reads the hidden suites and the reference, and pushes their text into the feedback",
           load("leak_sources")),
    Attack("run_the_reference", "logistic_regression",
           "finds the kit's solutions/ (next to the worker, under /tmp, through /proc/*/cwd, in otter's "
           "folders) and executes the reference in place of its own code",
           load("run_the_reference")),
    Attack("finite_difference_backward", "two_layer_net",
           "implements backward as finite differences of its own forward and loss",
           load("finite_difference_backward")),
    Attack("copy_classmate", "activations",
           "walks the disk (the kit, /tmp, /work, home folders, other processes' folders) for a classmate's "
           "finished module and runs it as its own",
           load("copy_classmate")),
    Attack("snoop", "activations",
           "reads other submissions, the outputs (results.json, gradebook.csv), data/, .hypothesis/, home "
           "folders and the reference, and reports what it could read in its feedback",
           load("snoop")),
    Attack("bytecode_leak", "two_layer_net",
           "looks for the reference activations in the staged package (source or bytecode) and in the code "
           "objects of the functions it imports, to smuggle them out through the feedback",
           load("bytecode_leak")),
    Attack("fork_memory", "activations",
           "forks three children at import that hold 1.5 GiB each, 4.5 GiB together under a 4 GiB limit "
           "(refused: no process can be started)",
           load("fork_memory"), at_import=True),
    Attack("amplify_reply", "activations",
           "writes reply frames straight to the judge's pipe: 1.6 million empty dicts (a judge once took "
           "1.9 GB parsing such a thing), and an array whose shape overflows int64 when multiplied",
           load("amplify_reply")),
    Attack("big_int_loss", "logistic_regression", "returns its loss as a Python int too large for a float",
           load("big_int_loss")),
    Attack("forge_instrumentation", "two_layer_net",
           "finite differences through default-argument copies of its functions (the worker's call counter "
           "never sees them) and clears the counter; modifies an input in place and puts a pristine copy "
           "where the worker reports the arguments from",
           load("forge_instrumentation")),
    # Telling a check from an ordinary call: a fingerprint of everything a call can observe, in every part,
    # must be one per function; and the detectors of the last round.
    *(Attack(f"fingerprint_{part}", part,
             "records everything a call can observe (its arrays' memory and flags, its functions' names and "
             "identities, the grader's frames, sys.modules, the environment, open descriptors, numpy's error "
             "state, warnings, hooks, threads) and fails any call that sees something another call did not",
             load("fingerprint"), bases=("reference",))
      for part in ("activations", "logistic_regression", "two_layer_net", "mlp")),
    Attack("thread_bomb", "activations",
           "starts 3,000 threads inside relu (a worker that stays root, as on a Docker host whose Python lives "
           "under a 0700 /root, has no RLIMIT_NPROC)",
           load("thread_bomb"), bases=("reference",)),
    Attack("served_amplification", "logistic_regression",
           "passes the judge-served sigmoid a 48 MiB int8 array (384 MiB once converted to float64) and 40 MiB "
           "float64 arrays, three times each",
           load("served_amplification"), bases=("reference",)),
    Attack("served_frame_forgery", "logistic_regression",
           "writes its own frames for the judge-served sigmoid: one 32 MiB array named 20 times (in the frame, "
           "then in the shared memory that carries a served call's large arrays), and an array outside that memory",
           load("served_frame_forgery"), bases=("reference",)),
    Attack("own_check_recursion", "logistic_regression",
           "hands in the reference logistic regression next to an activations.py whose relu returns 10**400: the "
           "check of the student's own activations once restarted itself 55 times",
           "", bases=("reference",),
           companions=(("activations.py", (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
                        + "\n\ndef relu(x):\n    return 10 ** 400\n"),)),
    Attack("scratch_persist", "activations",
           "leaves 8 MiB behind in a folder of mode 000 inside its scratch space, and writes 8 MiB files until "
           "it is stopped (384 MiB)",
           load("scratch_persist"), bases=("reference",)),
    Attack("stat_probe", "activations",
           "stats the paths it can name (the kit's usual places, the batch's staging folders, /etc/shadow) and "
           "lists every folder it can, to learn what exists without reading it",
           load("stat_probe"), bases=("reference",)),
    Attack("watch_shared_memory", "activations",
           "relu modifies its input in place, except when the input lives in the grader's shared memory (where "
           "the last round's mutation checks alone put it)",
           load("watch_shared_memory"), bases=("reference",)),
    Attack("watch_differences", "mlp",
           "sgd_step updates params in place, except in a call whose arrays look unlike the first call's "
           "(other memory, owned or read-only)",
           load("watch_differences"), bases=("reference",)),
    Attack("watch_wrappers", "two_layer_net",
           "backward by finite differences, returning zeros whenever the module's functions look wrapped or "
           "the activations look served (the last round's backpropagation check)",
           load("watch_wrappers"), bases=("reference",)),
    Attack("borrow_stand_in", "mlp",
           "backward calls the reference's backward through the judge's channel for stand-ins (which serves a "
           "part's own functions to fit's tests once they failed their own)",
           load("borrow_stand_in"), bases=("reference",)),
    Attack("forge_hint", "activations",
           "sigmoid_backward raises an error whose message quotes a likely cause's text (forgot the batch mean), "
           "hoping make report files it under that cause and not under its own failing tests",
           "def sigmoid_backward(dout, x):\n    raise ValueError('Likely cause: did you forget to average over the "
           "batch?')\n",
           bases=("reference",)),
    Attack("unix_socket", "activations",
           "connects to the grading machine's unix sockets by path: those it lists under /tmp, /run and "
           "/var/run, and two it was told about (a root-only 0600 socket, an open 0666 one), and reads the reply",
           load("unix_socket")),
    Attack("udp_exfiltrate", "activations",
           "sends its own source as UDP datagrams to a service on 127.0.0.1 and ::1 and to outside addresses; "
           "opens raw and packet sockets",
           load("udp_exfiltrate")),
    Attack("socketpair", "activations",
           "opens a socketpair to pass descriptors between its processes, and a duplex multiprocessing pipe",
           load("socketpair")),
    Attack("ptrace_judge", "activations",
           "attaches to its parent judge with ptrace and reads and writes its memory with process_vm_readv/writev",
           load("ptrace_judge")),
    Attack("io_uring", "activations", "sets up an io_uring instance (io_uring_setup)", load("io_uring")),
    Attack("new_user_namespace", "activations",
           "becomes root of a new user namespace: clone with CLONE_NEWUSER, clone3, unshare",
           load("new_user_namespace")),
)


def build(attack, base, dest, told=None):
    """Write base/<part>.py with the attack injected into dest/<part>.py; return dest. `told`: what the
    attack knows of the grading machine (addresses of the test's listening sockets), written into its
    `_TOLD = {}` line."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    source = (ROOT / base / f"{attack.part}.py").read_text(encoding="utf-8")
    code = attack.code if told is None else attack.code.replace("_TOLD = {}", f"_TOLD = {told!r}", 1)
    text = code + "\n" + source if attack.at_import else source + "\n\n" + code
    (dest / f"{attack.part}.py").write_text(text, encoding="utf-8")
    for name, companion in attack.companions:
        (dest / name).write_text(companion, encoding="utf-8")
    return dest

# Attacks whose defence is the judge's alone (the protocol's bounds on a reply, the timing and mutation
# checks), the same code on every host: tests/test_hostile.py grades them on the native host only.
# Everything the sandbox does (files, processes, memory, signals, sockets, system calls, what a call can
# observe) is graded on every host, and so are the classes issue 17 names for all three hosts (served-call
# amplification and the own-activations check among them, though the judge's alone too).
JUDGE_SIDE = frozenset({
    "patch_pytest",                  # pytest runs in the judge, another process on every host
    "finite_difference_backward", "forge_instrumentation", "watch_wrappers",   # the backprop check's timing
    "watch_differences",             # the mutation check: the arena and the worker's code, the same everywhere
    "amplify_reply", "big_int_loss",                                           # the protocol's bounds
    "borrow_stand_in",               # what the judge serves, and when: its own record, the same everywhere
    "forge_hint",                    # the causes a result records: the judge's own record, the same everywhere
})
