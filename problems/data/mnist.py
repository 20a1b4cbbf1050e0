"""MNIST training set from the vendored, checksummed idx files."""

from __future__ import annotations

import gzip

import numpy as np

from .checksums import DataIntegrityError, verified_bytes

IMAGES = "mnist/train-images-idx3-ubyte.gz"
LABELS = "mnist/train-labels-idx1-ubyte.gz"


def _parse_idx(raw, magic, name):
    data = gzip.decompress(raw)
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataIntegrityError(f"{name}: idx magic number {found}, expected {magic}")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist_train(data_dir=None):
    """The 60,000 MNIST training images and labels.

    Returns
    -------
    images : ndarray of uint8, shape (60000, 28, 28)
    labels : ndarray of uint8, shape (60000,)

    Raises
    ------
    DataIntegrityError
        When a file is missing or its SHA-256 differs from SHA256SUMS.
    """
    images = _parse_idx(verified_bytes(IMAGES, data_dir), 2051, IMAGES)
    labels = _parse_idx(verified_bytes(LABELS, data_dir), 2049, LABELS)
    return images, labels


def first_of_each_digit(images, labels, per_digit=1):
    """The first ``per_digit`` training images of each digit 0..9, digit-major
    within each rank (0, 1, ..., 9, 0, 1, ...): shape (10 per_digit, 28, 28)."""
    index = [np.flatnonzero(labels == d)[:per_digit] for d in range(10)]
    return np.stack([images[index[d][i]] for i in range(per_digit) for d in range(10)])
