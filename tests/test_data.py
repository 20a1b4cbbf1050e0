"""Vendored data: checksums verified before reading, clear errors otherwise."""

import shutil

import numpy as np
import pytest

from problems.data import checksums
from problems.data.mnist import IMAGES, LABELS, load_mnist_train


def test_mnist_loads_with_known_counts():
    images, labels = load_mnist_train()
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(
        np.bincount(labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    )


def test_corrupted_file_is_refused(tmp_path):
    (tmp_path / "mnist").mkdir()
    shutil.copy(checksums.DATA_DIR / IMAGES, tmp_path / IMAGES)
    data = bytearray((checksums.DATA_DIR / LABELS).read_bytes())
    data[100] ^= 0xFF
    (tmp_path / LABELS).write_bytes(bytes(data))
    expected = checksums.expected_sums()[LABELS]
    with pytest.raises(checksums.DataIntegrityError, match=f"corrupted.*expected {expected}"):
        load_mnist_train(tmp_path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(checksums.DataIntegrityError, match="train-images-idx3-ubyte.gz is missing"):
        load_mnist_train(tmp_path)
