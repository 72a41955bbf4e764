#!/usr/bin/env python3
"""Download the full MNIST (60,000 training and 10,000 test digits) for `make data`.

Fetches the four standard gzipped IDX files into data/mnist/ (or --dest DIR),
trying each mirror in turn, and keeps a file only if its size, SHA256 and MD5
are the ones recorded below. Files already present with the right SHA256 are
not downloaded again. Standard library only.

The checksums (see data/README.md for their sources):
  - size and SHA256: TensorFlow Datasets 4.9.10,
    tensorflow_datasets/url_checksums/mnist.txt;
  - MD5: torchvision 0.29.1, torchvision/datasets/mnist.py (class MNIST).

Then load it with
    from solutions.datasets import load_mnist
    X, y = load_mnist("data/mnist", split="train")
or set MLP_KIT_DATA=data/mnist so that load_mnist() reads it by default.
"""
import argparse
import hashlib
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# name: (size in bytes, SHA256, MD5)
FILES = {
    "train-images-idx3-ubyte.gz": (
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte.gz": (
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte.gz": (
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3"),
    "t10k-labels-idx1-ubyte.gz": (
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c"),
}

DEFAULT_DEST = Path(__file__).resolve().parent / "mnist"
TIMEOUT = 30  # seconds without data before a mirror is given up
USER_AGENT = "mlp-kit-fetch-mnist/1.0 (python urllib)"


class ChecksumError(Exception):
    pass


def file_ok(path, name):
    """True when path exists and has the recorded size and SHA256."""
    size, sha256, _ = FILES[name]
    if not path.is_file() or path.stat().st_size != size:
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def download(url, target, name):
    """Download url into target (via a temporary file), checking size and hashes.

    Raises urllib.error.URLError / OSError on network trouble and
    ChecksumError when the bytes are not the expected ones.
    """
    size, sha256, md5 = FILES[name]
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    h_sha, h_md5, n = hashlib.sha256(), hashlib.md5(), 0
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                h_sha.update(chunk)
                h_md5.update(chunk)
                n += len(chunk)
                if n > size:
                    raise ChecksumError(f"more than the expected {size} bytes")
        if n != size:
            raise ChecksumError(f"got {n} bytes, expected {size}")
        if h_sha.hexdigest() != sha256:
            raise ChecksumError(f"SHA256 {h_sha.hexdigest()}, expected {sha256}")
        if h_md5.hexdigest() != md5:
            raise ChecksumError(f"MD5 {h_md5.hexdigest()}, expected {md5}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch(dest, mirrors=MIRRORS, log=print):
    """Make sure dest holds the four verified files.

    Returns:
        list of str: one entry per file that could not be had from any
        mirror, naming the file and what each mirror did (empty on success).
    """
    dest.mkdir(parents=True, exist_ok=True)
    failures = []
    unreachable = set()  # mirrors that could not be connected to: not tried again
    for name in FILES:
        target = dest / name
        if file_ok(target, name):
            log(f"ok        {name} (already there)")
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            if mirror in unreachable:
                errors.append(f"{url}: cannot connect (skipped, unreachable before)")
                continue
            log(f"fetching  {url}")
            try:
                download(url, target, name)
            except ChecksumError as exc:
                errors.append(f"{url}: wrong content: {exc}")
            except urllib.error.HTTPError as exc:
                errors.append(f"{url}: HTTP {exc.code} {exc.reason}")
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    OSError) as exc:
                reason = getattr(exc, "reason", exc)
                errors.append(f"{url}: cannot connect ({reason})")
                unreachable.add(mirror)
            else:
                log(f"ok        {name}")
                break
        else:
            failures.append(f"{name}:\n    " + "\n    ".join(errors))
    return failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST,
                    help=f"folder to write the four files into (default {DEFAULT_DEST})")
    ap.add_argument("--mirror", action="append", metavar="URL",
                    help="try this base URL instead of the built-in mirrors (repeatable)")
    args = ap.parse_args(argv)

    failures = fetch(args.dest, tuple(args.mirror) if args.mirror else MIRRORS)
    if failures:
        errors = [line for f in failures for line in f.splitlines()[1:]]
        offline = all("cannot connect" in line for line in errors)
        print("\nerror: could not get a verified copy of:", *failures, sep="\n  ",
              file=sys.stderr)
        if offline:
            print("\nNo MNIST mirror could be reached: are you offline (or behind a "
                  "proxy, see HTTPS_PROXY)?\nThe bundled sample in data/mnist5k works "
                  "offline: load_mnist() reads it by default.", file=sys.stderr)
        return 1
    print(f"MNIST is in {args.dest}; use load_mnist({str(args.dest)!r}) "
          f"or set MLP_KIT_DATA={args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
