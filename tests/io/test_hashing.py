"""content_hash: BLAKE2b of the file bytes."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from tiepoint.io import ImageNotFoundError, content_hash


def test_content_hash(tmp_path, rng):
    payload = rng.bytes(3_000_000)
    a = tmp_path / "a.bin"
    a.write_bytes(payload)
    expected = hashlib.blake2b(payload, digest_size=32).hexdigest()
    assert content_hash(a) == expected
    b = tmp_path / "sub" / "b.cub"
    b.parent.mkdir()
    shutil.copy(a, b)
    assert content_hash(b) == expected  # name and place do not matter
    changed = bytearray(payload)
    changed[1_234_567] ^= 1
    b.write_bytes(bytes(changed))
    assert content_hash(b) != expected
    with pytest.raises(ImageNotFoundError):
        content_hash(tmp_path / "missing")
