"""Turn what a scientist passes to ``add_images`` into a sorted list of absolute image paths."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from tiepoint.errors import ImageError

IMAGE_EXTENSIONS = (".cub", ".img", ".tif", ".tiff")
"""Extensions taken from a directory when none is given (case-insensitive)."""

_GLOB_CHARS = set("*?[")


def _normalise_extension(extension: str | None) -> tuple[str, ...]:
    if extension is None:
        return IMAGE_EXTENSIONS
    ext = extension if extension.startswith(".") else "." + extension
    return (ext.lower(),)


def _matches(path: str, extensions: tuple[str, ...]) -> bool:
    return path.lower().endswith(extensions)


def expand_images(
    source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], extension: str | None = None
) -> list[str]:
    """List the images named by a directory, a glob pattern or an explicit list.

    Parameters
    ----------
    source : path, glob pattern or iterable of paths
        A directory (its files ending in *extension*, not recursive), a glob pattern such as
        ``/data/*/cal/*.cub`` (``**`` recurses), or a list of image paths.
    extension : str, optional
        File extension, with or without the dot (``"cub"``). For a directory the default is any of
        :data:`IMAGE_EXTENSIONS`; for a glob or list, no filtering unless given.

    Returns
    -------
    list of str
        Absolute paths, sorted, without duplicates.

    Raises
    ------
    ImageError
        If a directory or a listed file does not exist.
    """
    exts = _normalise_extension(extension)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if Path(text).is_dir():
            found = [str(p) for p in Path(text).iterdir() if p.is_file() and _matches(p.name, exts)]
        elif _GLOB_CHARS & set(text):
            found = [p for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
            if extension is not None:
                found = [p for p in found if _matches(p, exts)]
        elif Path(text).is_file():
            found = [text]
        else:
            raise ImageError("no such file or directory", text)
    else:
        found = [os.fspath(p) for p in source]
        missing = [p for p in found if not os.path.isfile(p)]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ImageError(f"no such file{more}", missing[0])
        if extension is not None:
            found = [p for p in found if _matches(p, exts)]
    return sorted({str(Path(p).resolve()) for p in found})
