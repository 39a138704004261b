"""The tiepoint exception hierarchy.

Every error raised on bad input is a :class:`TiepointError` that names the file (when there is
one) and what is wrong, so a failed job's record tells a scientist what to fix.
"""

from __future__ import annotations

from os import PathLike


class TiepointError(Exception):
    """Base class of all tiepoint errors.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or PathLike, optional
        The file the problem is in; it is prefixed to the message.
    """

    def __init__(self, message: str, path: str | PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)

    def __reduce__(self):  # keep path/message through pickling (Dask ships errors between processes)
        return (self.__class__, (self.message, self.path))


class ConfigError(TiepointError):
    """The configuration is invalid; the message names the key and why."""


class ImageError(TiepointError):
    """An image file cannot be read: truncated, inconsistent label, unsupported type, missing data."""


class UnsupportedFormatError(ImageError):
    """The file is not in a format tiepoint can read."""


class CameraError(TiepointError):
    """A camera model cannot be built or used (missing/malformed ISD, unsupported model)."""


class FootprintError(TiepointError):
    """A footprint cannot be computed (for example the image does not see the body)."""


class FeatureError(TiepointError):
    """Feature extraction or the keypoint store failed."""


class MatchingError(TiepointError):
    """Pair matching failed: unreadable or inconsistent keypoint/match files, bad matcher settings."""


class DatabaseError(TiepointError):
    """The database cannot be reached or rejected a write."""


class CnetError(TiepointError):
    """A control network cannot be read, built or written (:mod:`tiepoint.cnet`); names the point."""
