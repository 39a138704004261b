"""Content hashes identifying image files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tiepoint.io.base import ImageNotFoundError

DIGEST_SIZE = 32


def content_hash(path: str | os.PathLike[str]) -> str:
    """Hex BLAKE2b digest (32-byte digest, 64 hex characters) of the bytes of the file at *path*.

    Only that file is hashed (for a detached label: the label, not the data file). Equal content
    gives the same digest whatever the file's name, location or time stamps.

    Raises
    ------
    ImageNotFoundError
        The file does not exist.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=DIGEST_SIZE)).hexdigest()
    except FileNotFoundError:
        raise ImageNotFoundError("the file does not exist", p) from None
