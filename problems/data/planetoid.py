"""Planetoid citation graphs (Cora, Pubmed) from the vendored, checksummed pickles.

The files are Python 2 pickles. They are read only after their SHA-256 matches
SHA256SUMS, and only through :class:`AllowListUnpickler`, which resolves the six
globals these files use and refuses any other (a pickle naming ``os.system``
raises before anything runs).
"""

from __future__ import annotations

import collections
import io
import pickle

import numpy as np
import scipy.sparse

from .checksums import verified_bytes

try:  # NumPy 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct

DATASETS = {"cora": {"classes": 7, "pca": 64}, "pubmed": {"classes": 3, "pca": 16}}
PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")

ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("scipy.sparse.csr", "csr_matrix"): scipy.sparse.csr_matrix,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global outside the allow-list."""


class AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in :data:`ALLOWED`."""

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name}: not in the allow-list "
                f"{sorted(f'{m}.{n}' for m, n in ALLOWED)}"
            ) from None


def safe_load(raw):
    """Unpickle ``raw`` bytes (Python 2 encoding) through the allow-list."""
    return AllowListUnpickler(io.BytesIO(raw), encoding="latin1").load()


def _part(name, part, data_dir):
    return safe_load(verified_bytes(f"planetoid/ind.{name}.{part}", data_dir))


def load_planetoid(name, data_dir=None):
    """Features, labels and graph of a Planetoid dataset, in node order.

    Returns
    -------
    features : ndarray, float64, (n, F)
    labels : ndarray, int64, (n,)
    A : scipy.sparse.csr_matrix, float64, (n, n)
        Symmetric adjacency without self-loops: A[i, j] = 1 when i and j are
        linked in either direction (messages from j are summed into i).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    parts = {p: _part(name, p, data_dir) for p in PARTS}
    index_text = verified_bytes(f"planetoid/ind.{name}.test.index", data_dir).decode()
    test_index = np.array([int(line) for line in index_text.split()])
    features = scipy.sparse.vstack([parts["allx"], parts["tx"]]).toarray().astype(np.float64)
    onehot = np.vstack([parts["ally"], parts["ty"]])
    # the test rows are stored in sorted order; put them back at their node ids
    sorted_test = np.sort(test_index)
    features[test_index] = features[sorted_test].copy()
    onehot[test_index] = onehot[sorted_test].copy()
    n = features.shape[0]
    rows, cols = [], []
    for i, neighbours in parts["graph"].items():
        for j in neighbours:
            rows.append(i)
            cols.append(j)
    A = scipy.sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    A.setdiag(0)
    A.eliminate_zeros()
    A.sort_indices()
    return features, onehot.argmax(axis=1).astype(np.int64), A


def pca(features, k):
    """Project centred ``features`` on their top ``k`` principal directions.

    The directions are the top ``k`` eigenvectors of the F x F scatter matrix
    X_c^T X_c (numpy.linalg.eigh, largest first), which span the same subspace
    as the top right singular vectors of X_c at a fraction of the cost.
    Deterministic: each direction's sign is fixed so that its largest-magnitude
    entry is positive. Returns (n, k) float64.
    """
    centred = features - features.mean(axis=0)
    _, V = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    V = V[:, : -k - 1 : -1]
    V *= np.sign(V[np.abs(V).argmax(axis=0), np.arange(k)])
    return centred @ V


def random_split(n, seed, fractions=(0.01, 0.49)):
    """Seeded random split of node ids into train / validation / test (the rest)."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = max(1, round(fractions[0] * n))
    n_val = round(fractions[1] * n)
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
