"""Atomic file output: the one way tiepoint writes a file that must never look valid half-written.

Keypoint files, match files, control networks, cube lists and synthetic cubes are written to a
temporary file beside the target, flushed to disk, then renamed over it (:func:`os.replace` is atomic
on POSIX file systems), so a crash leaves either the old file or the new one, never a partial one.

The temporary name is ``.<start of the target's name>.<random>.tmp``, at most :data:`NAME_BYTES` bytes
whatever the target's name (file systems refuse longer names), and the file gets mode ``0o666`` less
the process umask, as any tool's output does (``tempfile.mkstemp`` would make it ``0o600``).

Public API::

    temporary_beside(path) -> Path                 # a new empty temporary file in path's folder
    commit(tmp, path)                              # flush tmp to disk, then rename it to path
    with replacing(path) as tmp: ...               # write tmp; on success it becomes path
    write_atomically(path, data) -> Path           # bytes, str or a list of them
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

NAME_BYTES = 255
"""Longest file name (bytes) the usual file systems (ext4, XFS, Lustre, GPFS) accept."""
_RANDOM_BYTES = 4


def temporary_beside(path: str | os.PathLike[str]) -> Path:
    """Create a new, empty temporary file in the folder of *path* (which must exist) and return it.

    Raises
    ------
    OSError
        The folder cannot be written.
    """
    path = Path(path)
    room = NAME_BYTES - len("..") - 2 * _RANDOM_BYTES - len(".tmp")
    start = path.name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    for _ in range(100):
        tmp = path.with_name(f".{start}.{secrets.token_hex(_RANDOM_BYTES)}.tmp")
        try:  # mode 0o666: the umask applies, as for any new file
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def commit(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Flush the written temporary file *tmp* to disk, then rename it to *path* (atomically)."""
    with open(tmp, "rb") as handle:  # the data is on disk before the rename makes it visible
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@contextmanager
def replacing(path: str | os.PathLike[str], *, make_folder: bool = True) -> Iterator[Path]:
    """A temporary file to write; when the block ends normally it is synced to disk and renamed to
    *path*, and when the block raises it is removed (the exception propagates).

    Examples
    --------
    >>> with replacing("out.h5") as tmp:                # doctest: +SKIP
    ...     with h5py.File(tmp, "w") as h5: ...
    """
    path = Path(path)
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path: str | os.PathLike[str], data: bytes | str | Sequence[bytes | str]) -> Path:
    """Write *data* (bytes, UTF-8 text, or a list of them written in order) to *path* atomically."""
    parts = [data] if isinstance(data, bytes | str) else list(data)
    with replacing(path) as tmp, open(tmp, "wb") as f:
        for part in parts:
            f.write(part.encode("utf-8") if isinstance(part, str) else part)
    return Path(path)


__all__ = ["NAME_BYTES", "commit", "replacing", "temporary_beside", "write_atomically"]
