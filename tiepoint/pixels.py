"""Pixel-coordinate conventions: the one place where tiepoint converts between them.

tiepoint stores positions in OpenCV's convention (keypoint files, matches): ``x`` is the sample
(column), ``y`` the line (row), and the centre of pixel ``(line 0, sample 0)`` is at ``(0, 0)``, so
an image spans ``-0.5 .. samples - 0.5``. The other conventions of the field differ by a constant:

=====================  ===========================  ==========================
convention             centre of the first pixel    from OpenCV ``(x, y)``
=====================  ===========================  ==========================
OpenCV (stored)        (0, 0)                       --
USGSCSM image coords   (0.5, 0.5)                   ``line = y + 0.5``, ``sample = x + 0.5``
ISIS (1-based)         (1, 1)                       ``line = y + 1``, ``sample = x + 1``
ASP ``.match`` files   (0, 0)                       unchanged
=====================  ===========================  ==========================

Camera models (:mod:`tiepoint.camera`) take USGSCSM coordinates; ISIS control-network measures are
ISIS coordinates. Every conversion goes through the functions below.
"""

from __future__ import annotations

import numpy as np

CSM_PIXEL_OFFSET = 0.5
"""USGSCSM image coordinate of the centre of pixel 0, minus OpenCV's (0)."""
ISIS_PIXEL_OFFSET = 1.0
"""ISIS (1-based) coordinate of the centre of pixel 0, minus OpenCV's (0)."""


def to_camera_coords(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert OpenCV positions to USGSCSM image coordinates.

    Parameters
    ----------
    x, y : array_like
        Sample and line, OpenCV convention (centre of the first pixel at 0).

    Returns
    -------
    lines, samples : ndarray of float64
        USGSCSM image coordinates (centre of the first pixel at 0.5), in the (line, sample) order that
        ``csm.ImageCoord`` and :meth:`tiepoint.camera.CameraModel.image_to_ground` take.
    """
    return (
        np.asarray(y, dtype=np.float64) + CSM_PIXEL_OFFSET,
        np.asarray(x, dtype=np.float64) + CSM_PIXEL_OFFSET,
    )


def from_camera_coords(lines: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_camera_coords`: USGSCSM ``(lines, samples)`` to OpenCV ``(x, y)``."""
    return (
        np.asarray(samples, dtype=np.float64) - CSM_PIXEL_OFFSET,
        np.asarray(lines, dtype=np.float64) - CSM_PIXEL_OFFSET,
    )


def to_isis_coords(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert OpenCV positions to ISIS 1-based ``(samples, lines)`` (control-network measures)."""
    return (
        np.asarray(x, dtype=np.float64) + ISIS_PIXEL_OFFSET,
        np.asarray(y, dtype=np.float64) + ISIS_PIXEL_OFFSET,
    )


def from_isis_coords(samples: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_isis_coords`: ISIS ``(samples, lines)`` to OpenCV ``(x, y)``."""
    return (
        np.asarray(samples, dtype=np.float64) - ISIS_PIXEL_OFFSET,
        np.asarray(lines, dtype=np.float64) - ISIS_PIXEL_OFFSET,
    )


__all__ = [
    "CSM_PIXEL_OFFSET",
    "ISIS_PIXEL_OFFSET",
    "from_camera_coords",
    "from_isis_coords",
    "to_camera_coords",
    "to_isis_coords",
]
