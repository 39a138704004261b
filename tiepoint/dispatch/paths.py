"""Turn what a scientist passes to ``add_images`` into sorted absolute image paths, and say which
entries cannot be images (directories named like images, broken links, missing files)."""

from __future__ import annotations

import errno
import glob
import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tiepoint.errors import ImageError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".cub", ".img", ".tif", ".tiff")
"""Extensions taken from a directory when none is given (case-insensitive)."""

_GLOB_CHARS = set("*?[")


@dataclass(slots=True)
class ImageScan:
    """What :func:`scan_images` found."""

    paths: list[str] = field(default_factory=list)
    """Absolute paths of regular, readable files, sorted, without duplicates."""
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """``(absolute path, problem)`` of the entries that are not readable files, sorted."""


def _normalise_extension(extension: str | None) -> tuple[str, ...]:
    if extension is None:
        return IMAGE_EXTENSIONS
    ext = extension if extension.startswith(".") else "." + extension
    return (ext.lower(),)


def _matches(path: str, extensions: tuple[str, ...]) -> bool:
    return path.lower().endswith(extensions)


def file_problem(path: str) -> str | None:
    """Why *path* cannot be read as an image file, or None if it is a readable regular file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if os.path.islink(path):
            return f"dangling symbolic link (to {os.readlink(path)})"
        if exc.errno == errno.ENOENT:
            return "no such file"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not an image file"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    return None


def _absolute(path: str) -> str:
    """The absolute path with symbolic links resolved when they resolve (kept as given otherwise)."""
    try:
        return str(Path(path).resolve(strict=True))
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def scan_images(
    source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], extension: str | None = None
) -> ImageScan:
    """The images named by a directory, a glob pattern or an explicit list, and the bad entries.

    Parameters
    ----------
    source : path, glob pattern or iterable of paths
        A directory (its entries ending in *extension*, not recursive), a glob pattern such as
        ``/data/*/cal/*.cub`` (``**`` recurses), or a list of image paths.
    extension : str, optional
        File extension, with or without the dot (``"cub"``). For a directory the default is any of
        :data:`IMAGE_EXTENSIONS`; for a glob or list, no filtering unless given.

    Returns
    -------
    ImageScan
        Readable regular files in ``paths``; entries named like images that are not (a directory
        ``x.cub``, a dangling or looping symbolic link, a listed file that does not exist, ...) in
        ``rejected`` with the problem. One bad entry never hides the others.

    Raises
    ------
    ImageError
        If *source* is a single path (not a glob or a list) that does not exist.
    """
    exts = _normalise_extension(extension)
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if Path(text).is_dir():
            entries = [str(p) for p in Path(text).iterdir() if _matches(p.name, exts)]
        elif _GLOB_CHARS & set(text):
            entries = glob.glob(text, recursive=True)
            if extension is not None:
                entries = [p for p in entries if _matches(p, exts)]
            else:  # a pattern like /data/* also matches sub-folders: only files are meant
                entries = [p for p in entries if os.path.islink(p) or not os.path.isdir(p)]
        elif os.path.lexists(text):
            entries = [text]
        else:
            raise ImageError("no such file or directory", text)
    else:
        entries = [os.fspath(p) for p in source]
        if extension is not None:
            entries = [p for p in entries if _matches(p, exts)]
    scan = ImageScan()
    paths: set[str] = set()
    rejected: dict[str, str] = {}
    for entry in entries:
        problem = file_problem(entry)
        if problem is None:
            paths.add(_absolute(entry))
        else:
            rejected[_absolute(entry)] = problem
    scan.paths = sorted(paths)
    scan.rejected = sorted(rejected.items())
    return scan


def expand_images(
    source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], extension: str | None = None
) -> list[str]:
    """The readable image files named by *source* (see :func:`scan_images`); each rejected entry is
    logged as a warning naming it and its problem.

    Returns
    -------
    list of str
        Absolute paths, sorted, without duplicates.
    """
    scan = scan_images(source, extension)
    for path, problem in scan.rejected:
        logger.warning("%s: skipped: %s", path, problem)
    return scan.paths
