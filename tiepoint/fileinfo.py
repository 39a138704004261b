"""What a path is, in words, for error messages about paths that are not regular files.

Public API: :func:`file_kind`, :func:`is_regular_file`.

>>> file_kind("/tmp")  # doctest: +SKIP
'a directory'
"""

from __future__ import annotations

import errno
import os
import stat

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def file_kind(path: str | os.PathLike[str]) -> str:
    """What ``path`` is: ``"a regular file"``, ``"a directory"``, ``"a broken symbolic link"``, ``"a
    symbolic link loop"``, ``"a named pipe (FIFO)"``, ``"a socket"``, ``"a character device"``, ``"a block
    device"``, ``"missing"``, or ``"unreadable (<reason>)"``; symbolic links are followed."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if os.path.islink(path) else "missing"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"unreadable ({err.strerror or err})"
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is (or links to) a regular file: the only kind a reader may ``open()`` without
    blocking (a named pipe blocks until a writer comes) or reading forever (a character device)."""
    return file_kind(path) == "a regular file"
