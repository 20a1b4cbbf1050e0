"""Every vendored file is read only after its SHA-256 matches SHA256SUMS."""

from __future__ import annotations

import hashlib
import pathlib

DATA_DIR = pathlib.Path(__file__).resolve().parent


class DataIntegrityError(ValueError):
    """A data file is missing, or its bytes differ from the recorded checksum."""


def expected_sums():
    """{relative path: sha256} from SHA256SUMS."""
    sums = {}
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def verified_bytes(relative, data_dir=None):
    """The bytes of ``data_dir / relative`` after checking its SHA-256.

    Raises
    ------
    DataIntegrityError
        Naming the file and the expected sum, when the file is missing or differs.
    """
    expected = expected_sums()[relative]
    path = pathlib.Path(data_dir or DATA_DIR) / relative
    if not path.is_file():
        raise DataIntegrityError(f"data file {path} is missing (expected sha256 {expected})")
    raw = path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise DataIntegrityError(
            f"data file {path} is corrupted: sha256 {actual}, expected {expected}"
        )
    return raw
