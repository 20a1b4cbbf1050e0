"""Vendored data: checksums verified before reading, clear errors otherwise."""

import pickle
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


def test_allow_list_refuses_other_globals(tmp_path):
    from problems.data.planetoid import UnsafePickleError, safe_load

    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    with pytest.raises(UnsafePickleError, match=r"refusing to load global (posix|os)\.system"):
        safe_load(pickle.dumps(Exploit(), protocol=2))
    assert not marker.exists()


def test_planetoid_loads_with_documented_counts():
    from problems.data.planetoid import load_planetoid

    features, labels, A = load_planetoid("cora")
    assert features.shape == (2708, 1433)
    np.testing.assert_array_equal(np.bincount(labels), [351, 217, 418, 818, 426, 298, 180])
    assert A.nnz == 10556 and (A != A.T).nnz == 0 and A.diagonal().sum() == 0


def test_planetoid_checksum_mismatch_is_refused(tmp_path):
    import shutil

    from problems.data.checksums import DATA_DIR, DataIntegrityError
    from problems.data.planetoid import load_planetoid

    shutil.copytree(DATA_DIR / "planetoid", tmp_path / "planetoid")
    target = tmp_path / "planetoid" / "ind.cora.graph"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(DataIntegrityError, match=r"ind\.cora\.graph is corrupted"):
        load_planetoid("cora", tmp_path)


def test_pca_and_split():
    from problems.data.planetoid import pca, random_split

    X = np.random.default_rng(0).standard_normal((50, 8)) @ np.diag([5, 4, 3, 2, 1, 1, 1, 1])
    Z = pca(X, 3)
    centred = X - X.mean(0)
    _, S, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=0), S[:3], rtol=1e-10)
    train, val, test = random_split(1000, seed=3)
    assert (len(train), len(val), len(test)) == (10, 490, 500)
    assert len(np.unique(np.concatenate([train, val, test]))) == 1000
    np.testing.assert_array_equal(train, random_split(1000, seed=3)[0])
