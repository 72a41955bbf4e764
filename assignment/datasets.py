# Generated from tooling/datasets.py by `python -m grader assign`: edit tooling/datasets.py, not this copy.
"""Loading MNIST-style data sets stored in the IDX format.

The IDX format (http://yann.lecun.com/exdb/mnist/) is a magic number -- two
zero bytes, a type code and the number of dimensions -- followed by each
dimension as a big-endian 32-bit integer, then the data in C order,
big-endian. MNIST ships four such files, usually gzipped:

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz

Fashion-MNIST uses the same four names and format, so one loader reads both.
"""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# The folder load_mnist reads when it is given none and MLP_KIT_DATA is unset:
# the 4,000 / 1,000-digit sample that comes with the kit.
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist5k"
DATA_ENV_VAR = "MLP_KIT_DATA"

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# File names tried for each split, in order. The uncompressed and the dotted
# ("train-images.idx3-ubyte", as some re-uploads name them) variants are read
# as well as the gzipped originals.
_PREFIX = {"train": "train", "test": "t10k"}


def _candidates(prefix, kind, idx):
    stems = [f"{prefix}-{kind}-{idx}-ubyte", f"{prefix}-{kind}.{idx}-ubyte"]
    return [stem + ext for stem in stems for ext in (".gz", "")]


def load_idx(path):
    """Read one IDX file, gzipped or not.

    Gzip is recognised by the file's first two bytes (1f 8b), whatever its
    name. Every IDX type is understood: 0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32 and 0x0E float64.

    Args:
        path (str or os.PathLike): the IDX file, e.g.
            'data/mnist5k/train-images-idx3-ubyte.gz'.

    Returns:
        numpy.ndarray: the array stored in the file, with the shape in its
            header -- (N, 28, 28) uint8 for MNIST images, (N,) uint8 for MNIST
            labels -- and the dtype of its type code, in the machine's native
            byte order.

    Raises:
        ValueError: the file is not valid IDX: bad magic number, unknown type
            code, truncated (header or data shorter than the header says),
            trailing bytes, or a corrupt or truncated gzip stream.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None

    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file: {len(raw)} bytes, "
                         "shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{raw[:4].hex()}: expected "
            "0x0000TTNN with type code TT one of 08, 09, 0b, 0c, 0d, 0e and NN "
            "the number of dimensions (MNIST: 0x00000803 images, 0x00000801 labels)")
    dtype = _IDX_DTYPES[code]

    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need "
                         f"{header_len} bytes, the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_len
    if found < expected:
        raise ValueError(f"{path}: truncated IDX data: shape {shape} of {dtype.name} "
                         f"needs {expected} bytes, the file has {found}")
    if found > expected:
        raise ValueError(f"{path}: {found - expected} unexpected trailing bytes after "
                         f"the IDX data of shape {shape}")

    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize,
                         offset=header_len)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _default_folder():
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return BUNDLED_DIR


def _find(folder, names):
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def load_mnist(folder=None, split="train"):
    """Load one split of MNIST (or Fashion-MNIST) as flat, scaled vectors.

    Args:
        folder (str or os.PathLike or None): the folder holding the IDX files,
            e.g. 'data/mnist' for the full MNIST or
            '/usr/share/datasets/fashion-mnist' for Debian's Fashion-MNIST.
            None means the folder named by the environment variable
            MLP_KIT_DATA if it is set, else the bundled sample data/mnist5k
            (4,000 training and 1,000 test digits, 400 and 100 per class).
        split (str): 'train' reads train-images-idx3-ubyte[.gz] and
            train-labels-idx1-ubyte[.gz]; 'test' reads the t10k-... files.

    Returns:
        Tuple (X, y):
            X (numpy.ndarray[np.float64]): 2D array of shape (N, 784), one
                flattened 28x28 image per row, pixel values scaled from
                0..255 to [0.0, 1.0] (i.e. divided by 255).
            y (numpy.ndarray[np.int64]): 1D array of shape (N,), the labels,
                0..9 for MNIST.

    Raises:
        ValueError: split is not 'train' or 'test', or the files do not fit
            together (different N, images not uint8 of 3 dimensions, labels
            not 1-dimensional).
        FileNotFoundError: an images or labels file is missing; the message
            lists the folder and the names tried.
    """
    if split not in _PREFIX:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = Path(folder).expanduser() if folder is not None else _default_folder()
    prefix = _PREFIX[split]

    paths = {}
    for kind, idx in (("images", "idx3"), ("labels", "idx1")):
        names = _candidates(prefix, kind, idx)
        paths[kind] = _find(folder, names)
        if paths[kind] is None:
            hint = "" if folder.is_dir() else " (the folder does not exist)"
            raise FileNotFoundError(
                f"no {split} {kind} file in {folder}{hint}: looked for "
                + ", ".join(names)
                + f". Pass folder=..., or set {DATA_ENV_VAR}; "
                  "'make data' downloads the full MNIST into data/mnist.")

    images = load_idx(paths["images"])
    labels = load_idx(paths["labels"])
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{paths['images']}: expected uint8 images of shape (N, rows, cols), "
                         f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{paths['labels']}: expected labels of shape (N,), "
                         f"got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")

    X = images.reshape(len(images), -1).astype(np.float64) / 255.0
    y = labels.astype(np.int64)
    return X, y
