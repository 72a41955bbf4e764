"""The README's screenshots: `python -m grader screenshots` (or `make screenshots`).

Writes two PNGs under docs/, rendered by a headless Chromium (Debian's
`chromium` package; `make install-system` installs it):

- docs/report.png: `make report` on a made-up class of 15 submissions (the
  bundled examples, reference code with catalog bugs in various parts, an
  unfinished mlp.py, one that hangs and one that crashes), graded here;
- docs/make-check.png: `make check` run by a student half-way through (the
  partial example, with a catalog bug in logistic_regression.py), shown as a
  terminal.

It takes a few minutes (grading). Regenerate after changing the report or
the check's output; never edit the PNGs by hand.
"""
import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from catalog.bugs import with_bugs

from .. import ROOT
from ..engine.grade import EXAMPLES, grade
from ..instructor.report import write_report
from ..parts import GRADED
from ..sandbox.client import Limits

DOCS = ROOT / "docs"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1")


def chromium():
    """The path of a Chromium binary, or None."""
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)


def screenshot(page, png, width=1100, height=2000, trim=True):
    """Render the HTML file `page` headless into `png` (width x height, white space below trimmed)."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium found: apt-get install chromium (make install-system)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={Path(png).resolve()}", Path(page).resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not Path(png).is_file():
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-1000:]}")
    if trim:
        trim_bottom(png)
    return Path(png)


def trim_bottom(png, margin=24):
    """Cut the blank rows below the content (the window is taller than most pages)."""
    from PIL import Image, ImageChops
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1))))
    box = box.getbbox()
    if box:
        rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + margin))).save(png)


# -- the terminal ------------------------------------------------------------------
TERMINAL = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #1e1e1e; }}
pre {{ margin: 0; padding: 18px 22px; color: #d4d4d4; font: 14px/1.4 "DejaVu Sans Mono", monospace;
       white-space: pre-wrap; }}
.prompt {{ color: #6a9955; }}
</style></head><body><pre>{body}</pre></body></html>
"""


def terminal_page(command, output, path):
    """An HTML page showing `$ command` and its output as a dark terminal."""
    body = f'<span class="prompt">$</span> {html.escape(command)}\n{html.escape(output.rstrip())}\n'
    Path(path).write_text(TERMINAL.format(body=body), encoding="utf-8")
    return path


# -- the demo class ----------------------------------------------------------------
# (folder name, {part: [bug names]}): reference modules with these catalog bugs.
CLASS = [
    ("amira", {"mlp": ["fit_never_shuffles"]}),
    ("bao", {"activations": ["tanh_backward_one_minus_x_squared"], "mlp": ["backward_forgets_batch_mean"]}),
    ("carla", {"two_layer_net": ["fit_ignores_seed"], "mlp": ["cross_entropy_summed"]}),
    ("dev", {"mlp": ["softmax_no_max_shift", "history_last_batch_loss"]}),
    ("emil", {"logistic_regression": ["forward_forgets_bias"], "mlp": ["backward_forgets_relu"]}),
    ("fatima", {"activations": ["relu_backward_mask_on_dout"], "mlp": ["fit_shuffles_X_not_y"]}),
    ("goran", {"mlp": ["backward_forgets_batch_mean", "predict_argmax_axis0"]}),
    ("hana", {"activations": ["sigmoid_naive_overflow"]}),
    ("ivan", {}),
]


def build_class(dest):
    """Write the demo submissions into dest; return [(name, folder)]."""
    shutil.rmtree(dest, ignore_errors=True)
    subs = [(name, folder) for name, folder in EXAMPLES.items()]
    for name, bugs in CLASS:
        folder = Path(dest) / name
        folder.mkdir(parents=True)
        for part in GRADED:
            (folder / f"{part}.py").write_text(with_bugs(part, bugs.get(part, [])), encoding="utf-8")
        subs.append((name, folder))
    # Unfinished: the starter's mlp.py. Hangs: relu loops forever. Crashes: relu exits the process.
    unfinished = Path(dest) / "jonas"
    shutil.copytree(Path(dest) / "ivan", unfinished)
    shutil.copyfile(ROOT / "assignment" / "mlp.py", unfinished / "mlp.py")
    subs.append(("jonas", unfinished))
    for name, body in (("kai", "    while True:\n        pass"), ("lena", "    import os\n    os._exit(3)")):
        folder = Path(dest) / name
        shutil.copytree(Path(dest) / "ivan", folder)
        text = (folder / "activations.py").read_text(encoding="utf-8")
        (folder / "activations.py").write_text(text.replace("    return np.maximum(x, 0.0)", body, 1))
        subs.append((name, folder))
    return subs


def report_screenshot(work, jobs):
    if not (work / "grades" / "gradebook.csv").is_file():        # --work keeps a batch graded before
        subs = build_class(work / "class")
        # Short limits, so that the hanging submission costs seconds, not minutes.
        grade([str(f) for _, f in subs], work / "grades", jobs=jobs, names=[n for n, _ in subs],
              limits=Limits(test_seconds=5), quiet=True)
    page = write_report(work / "grades")
    return screenshot(page, DOCS / "report.png", width=1000, height=2400)


def check_screenshot(work):
    """`make check` on a copy of assignment/: the partial example, the warm-up, a logistic regression bug."""
    pkg = work / "kit" / "assignment"
    shutil.copytree(ROOT / "assignment", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (ROOT / "grader" / "examples" / "partial").glob("*.py"):
        shutil.copyfile(path, pkg / path.name)
    shutil.copyfile(ROOT / "solutions" / "warmup.py", pkg / "warmup.py")      # the warm-up is done
    (pkg / "logistic_regression.py").write_text(with_bugs("logistic_regression", ["forward_forgets_bias"]),
                                                encoding="utf-8")
    shutil.copytree(ROOT / "data", work / "kit" / "data")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "assignment.check"], cwd=work / "kit", env=env,
                          capture_output=True, text=True, timeout=300)
    page = terminal_page("make check", "python3 -m assignment.check\n" + proc.stdout, work / "check.html")
    return screenshot(page, DOCS / "make-check.png", width=1000, height=1200)


def configure(parser):
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--only", choices=("report", "check"))
    parser.add_argument("--work", help="keep the graded class here (and reuse it next time) instead of a temp dir")


def command(args):
    """`python -m grader screenshots`."""
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.only in (None, "check"):
            shutil.rmtree(work / "kit", ignore_errors=True)
            print(f"wrote {check_screenshot(work)}")
        if args.only in (None, "report"):
            print(f"wrote {report_screenshot(work, args.jobs)}")
    return 0
