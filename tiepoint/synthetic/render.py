"""Render an image through a camera model: each pixel's ground point sampled in the ground texture.

The camera is evaluated exactly (``image_to_ground``) on a grid of pixel centres every ``grid_step``
pixels (plus the last row and column); positions in between are interpolated bilinearly and put
back on the ellipsoid. Over ``grid_step`` = 8 CTX pixels (~48 m) the error of that interpolation is
far below a millimetre, and it makes rendering cost independent of the camera's speed. Pass
``grid_step=1`` to evaluate the camera at every pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tiepoint.synthetic.texture import GroundTexture


class CameraLike(Protocol):
    """What rendering needs from a :mod:`tiepoint.camera` model."""

    image_lines: int
    image_samples: int
    semimajor: float
    semiminor: float

    def image_to_ground(self, lines: Any, samples: Any, height: float = 0.0) -> np.ndarray: ...

    def sun_position(self, lines: Any) -> np.ndarray: ...


DN_OFFSET = 200.0
"""DN of a black pixel."""
DN_GAIN = 100000.0
"""DN per unit reflectance (reflectance ~0.3 maps to ~30000, inside UnsignedWord's valid range)."""


@dataclass(slots=True)
class GroundGrid:
    """Body-fixed ground points (m) of pixel centres on a coarse grid of an image."""

    rows: np.ndarray
    """Pixel row indices of the grid rows (increasing, first 0, last ``lines - 1``)."""
    cols: np.ndarray
    xyz: np.ndarray
    """(len(rows), len(cols), 3), NaN where the pixel's ray misses the body."""


def ground_grid(camera: CameraLike, step: int = 8) -> GroundGrid:
    """Ground points of the pixel centres every ``step`` pixels (and the last row/column)."""
    lines, samples = int(camera.image_lines), int(camera.image_samples)
    rows = np.unique(np.append(np.arange(0, lines, step), lines - 1))
    cols = np.unique(np.append(np.arange(0, samples, step), samples - 1))
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    xyz = np.asarray(camera.image_to_ground(rr.ravel() + 0.5, cc.ravel() + 0.5), dtype=np.float64)
    return GroundGrid(rows, cols, xyz.reshape(len(rows), len(cols), 3))


def _weights(grid_idx: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.clip(np.searchsorted(grid_idx, want, side="right") - 1, 0, max(len(grid_idx) - 2, 0))
    if len(grid_idx) == 1:
        return k, np.zeros(len(want))
    return k, (want - grid_idx[k]) / (grid_idx[k + 1] - grid_idx[k])


def interpolate_ground(
    grid: GroundGrid, row0: int, row1: int, semimajor: float, semiminor: float
) -> np.ndarray:
    """Ground points of every pixel of rows ``row0:row1``, shape (rows, samples, 3), on the ellipsoid."""
    ncols = int(grid.cols[-1]) + 1
    kr, wr = _weights(grid.rows, np.arange(row0, row1, dtype=np.float64))
    kc, wc = _weights(grid.cols, np.arange(ncols, dtype=np.float64))
    g = grid.xyz
    kr1 = np.minimum(kr + 1, len(grid.rows) - 1)
    kc1 = np.minimum(kc + 1, len(grid.cols) - 1)
    top = g[kr][:, kc] * (1 - wc)[None, :, None] + g[kr][:, kc1] * wc[None, :, None]
    bottom = g[kr1][:, kc] * (1 - wc)[None, :, None] + g[kr1][:, kc1] * wc[None, :, None]
    xyz = top * (1 - wr)[:, None, None] + bottom * wr[:, None, None]
    scale = 1.0 / np.sqrt(
        (xyz[..., 0] ** 2 + xyz[..., 1] ** 2) / semimajor**2 + xyz[..., 2] ** 2 / semiminor**2
    )
    return xyz * scale[..., None]


def pixel_size(grid: GroundGrid) -> float | None:
    """Ground size (m) of a pixel: the larger of the median line and sample spacings; None if unknown."""
    g = grid.xyz
    sizes = []
    if g.shape[0] > 1:
        sizes.append(np.linalg.norm(np.diff(g, axis=0), axis=2) / np.diff(grid.rows)[:, None])
    if g.shape[1] > 1:
        sizes.append(np.linalg.norm(np.diff(g, axis=1), axis=2) / np.diff(grid.cols)[None, :])
    medians = [np.median(s[np.isfinite(s)]) for s in sizes if np.isfinite(s).any()]
    return float(max(medians)) if medians else None


def render_chunks(
    camera: CameraLike,
    texture: GroundTexture | None = None,
    *,
    grid_step: int = 8,
    chunk_lines: int | None = None,
    noise: float = 0.002,
    seed: int = 0,
    sun_position: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Render an image chunk by chunk.

    Parameters
    ----------
    camera : camera model
        A :mod:`tiepoint.camera` model (``image_to_ground``, ``sun_position``, sizes, radii).
    texture : GroundTexture, optional
        The ground; default: the default texture on the camera's semimajor radius.
    grid_step : int
        Spacing (pixels) of exact camera evaluations; 1 evaluates every pixel.
    chunk_lines : int, optional
        Lines per chunk; default: about 2^18 pixels (~0.5 KB of memory per pixel of a chunk).
    noise : float
        Standard deviation of the added sensor noise, in units of reflectance.
    seed : int
        Seed of the noise.
    sun_position : (3,) array, optional
        Body-fixed sun position (m) to use instead of the camera's (same light for several images).
    progress : callable, optional
        Called with the number of lines done after each chunk.

    Yields
    ------
    (row0, dn) : int, (lines, samples) float32
        The first row of the chunk and its DN values (NaN where a ray misses the body).
    """
    if texture is None:
        texture = GroundTexture(float(camera.semimajor))
    a, b = float(camera.semimajor), float(camera.semiminor)
    grid = ground_grid(camera, max(1, int(grid_step)))
    psize = pixel_size(grid)
    rng = np.random.default_rng(seed)
    lines = int(camera.image_lines)
    if chunk_lines is None:
        chunk_lines = max(1, 2**18 // max(1, int(camera.image_samples)))
    for row0 in range(0, lines, chunk_lines):
        row1 = min(row0 + chunk_lines, lines)
        xyz = interpolate_ground(grid, row0, row1, a, b)
        shape = xyz.shape[:2]
        if sun_position is None:
            sun = np.asarray(camera.sun_position(np.arange(row0, row1) + 0.5), dtype=np.float64)
        else:
            sun = np.broadcast_to(np.asarray(sun_position, dtype=np.float64), (row1 - row0, 3))
        sun_dir = sun[:, None, :] - xyz
        sun_dir /= np.linalg.norm(sun_dir, axis=2)[..., None]
        flat = xyz.reshape(-1, 3)
        valid = np.all(np.isfinite(flat), axis=1)
        refl = np.full(len(flat), np.nan)
        if valid.any():
            refl[valid] = texture.shade(flat[valid], sun_dir.reshape(-1, 3)[valid], pixel_size=psize)
        if noise > 0:
            refl += rng.normal(0.0, noise, len(refl))
        dn = (DN_OFFSET + DN_GAIN * np.clip(refl, 0.0, None)).reshape(shape)
        yield row0, dn.astype(np.float32)
        if progress is not None:
            progress(row1 - row0)


def render(camera: CameraLike, texture: GroundTexture | None = None, **kwargs: Any) -> np.ndarray:
    """Render a whole image in memory; see :func:`render_chunks` for the parameters."""
    out = np.empty((int(camera.image_lines), int(camera.image_samples)), dtype=np.float32)
    for row0, dn in render_chunks(camera, texture, **kwargs):
        out[row0 : row0 + dn.shape[0]] = dn
    return out
