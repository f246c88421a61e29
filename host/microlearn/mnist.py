"""The MNIST test set shipped in data/mnist/ (10,000 handwritten digits, 28x28 uint8; see the
README there for the source and license), read from its original IDX files.

    images, labels = mnist.load()              # (10000, 28, 28) uint8, (10000,) uint8
    (Xtr, ytr), (Xte, yte) = mnist.split()     # 8,000 / 2,000, a fixed shuffle
"""

import gzip
import struct

import numpy as np

from . import paths

IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"


def _read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got, = struct.unpack_from(">I", data)
    if got != magic:
        raise ValueError(f"{path}: not an IDX file of {ndim} dimensions (magic {got:#x}, "
                         f"expected {magic:#x})")
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    start = 4 + 4 * ndim
    if len(data) != start + int(np.prod(dims)):
        raise ValueError(f"{path}: {len(data) - start} bytes of data, expected "
                         f"{int(np.prod(dims))} for shape {dims}")
    return np.frombuffer(data, np.uint8, offset=start).reshape(dims)


def load(folder=None):
    """(images, labels) of the shipped MNIST test set: uint8 arrays (N, 28, 28) and (N,)."""
    folder = paths.data() / "mnist" if folder is None else folder
    images = _read_idx(folder / IMAGES, 0x803, 3)
    labels = _read_idx(folder / LABELS, 0x801, 1)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images, labels


def split(n_train=8000, n_test=2000, seed=0, folder=None):
    """((X_train, y_train), (X_test, y_test)): disjoint subsets after a shuffle with `seed`."""
    images, labels = load(folder)
    if n_train + n_test > len(images):
        raise ValueError(f"{n_train} + {n_test} images asked, the set has {len(images)}")
    order = np.random.default_rng(seed).permutation(len(images))
    tr, te = order[:n_train], order[n_train:n_train + n_test]
    return (images[tr], labels[tr]), (images[te], labels[te])
