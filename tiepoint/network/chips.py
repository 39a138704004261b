"""Chips for registration: windowed reads, the local affine between two images, warped templates.

Positions are OpenCV ``(x, y)`` (sample, line; the centre of the first pixel at 0, see
:mod:`tiepoint.pixels`); cameras are called through :func:`tiepoint.pixels.to_camera_coords`.

- :func:`read_chips`: square chips centred on the pixel that contains each position, from windowed
  reads (``ImageReader.read(window=...)``, masked pixels included) of one window per block of
  nearby positions, never the whole image; pixels outside the image are masked.
- :func:`local_affine`: the 2 x 3 affine taking reference-image positions near each measure's
  reference position to measure-image positions, fitted in least squares to a 3 x 3 grid of points
  projected through the reference camera to the ground and back through the measure's camera.
- :func:`warp_chips`: the reference image resampled onto the measure image's pixel grid around each
  search chip's centre pixel, with the affine's linear part anchored at the a-priori pair of
  positions (the camera's translation carries the pointing error, which registration measures).
  Masked and outside pixels stay masked (any masked source pixel under the interpolation kernel).
  Where the reference is finer than the measure image it is low-passed first
  (:func:`antialias_sigma`), so the template shows what the coarser image can resolve.

Both :func:`read_chips` and :func:`warp_chips` read and resample block by block (``cv2.remap`` of
all of a block's chips at once), so their Python loops run over image blocks, not over measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import cv2
import numpy as np

from tiepoint.camera import CameraModel
from tiepoint.io import ImageReader
from tiepoint.io.windows import Window, clip
from tiepoint.pixels import from_camera_coords, to_camera_coords

BLOCK_PX = 512
"""Positions are grouped by blocks of this many pixels; each group is one windowed read."""
_MARGIN = {"linear": 1, "cubic": 2}
"""Source pixels needed beyond a sample position on each side, per interpolation."""
_INTERPOLATION = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
MIN_DOWNSAMPLING = 1.2
"""Sampling steps (source pixels per output pixel) above this are low-passed first
(:func:`antialias_sigma`): a finer reference warped onto a coarser image would alias."""
_MAP_WIDTH = 4096
"""Columns of the remap maps: OpenCV limits each side of a map to 32767."""


def _groups(x: np.ndarray, y: np.ndarray) -> Iterator[np.ndarray]:
    """Indices of the positions in each block (positions outside any block are still grouped)."""
    bx = np.floor(np.nan_to_num(x) / BLOCK_PX).astype(np.int64)
    by = np.floor(np.nan_to_num(y) / BLOCK_PX).astype(np.int64)
    key = by * (1 << 32) + bx
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    yield from np.split(order, bounds)


def _read(image: ImageReader, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Float64 data (masked pixels 0) and mask of *window*, masked where it leaves the image."""
    (l0, l1), (s0, s1) = window
    data = np.zeros((l1 - l0, s1 - s0))
    mask = np.ones((l1 - l0, s1 - s0), bool)
    inside = clip(window, image.shape)
    if inside is not None:
        (a0, a1), (b0, b1) = inside
        chunk = image.read(window=inside)
        m = np.ma.getmaskarray(chunk)
        d = np.asarray(np.ma.getdata(chunk), dtype=np.float64)
        m = m | ~np.isfinite(d)
        data[a0 - l0 : a1 - l0, b0 - s0 : b1 - s0] = np.where(m, 0.0, d)
        mask[a0 - l0 : a1 - l0, b0 - s0 : b1 - s0] = m
    return data, mask


def _layout(coords: np.ndarray) -> np.ndarray:
    """A float32 map of any number of positions shaped for ``cv2.remap`` (sides below 32767)."""
    flat = coords.ravel().astype(np.float32)
    rows = -(-len(flat) // _MAP_WIDTH)
    out = np.zeros(rows * _MAP_WIDTH, np.float32)
    out[: len(flat)] = flat
    return out.reshape(rows, _MAP_WIDTH)


def antialias_sigma(step: np.ndarray | float) -> float:
    """Gaussian low-pass (sigma, source pixels) before sampling an image every *step* pixels.

    ``(step - 1) / 2`` (as ``skimage.transform.rescale`` does) for the median step of a block when it
    exceeds :data:`MIN_DOWNSAMPLING`; 0 otherwise (the interpolation kernel is enough).
    """
    s = float(np.median(np.asarray(step, dtype=np.float64)))
    return (s - 1.0) / 2.0 if np.isfinite(s) and s > MIN_DOWNSAMPLING else 0.0


def centre_pixels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column and row ``(cs, cl)`` of the pixel that contains each OpenCV position (as ``chip_around``)."""
    cs = np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)
    cl = np.floor(np.asarray(y, dtype=np.float64) + 0.5).astype(np.int64)
    return cs, cl


def read_chips(image: ImageReader, x: np.ndarray, y: np.ndarray, size: int) -> np.ma.MaskedArray:
    """Square chips centred on the pixel that contains each position.

    Parameters
    ----------
    image : ImageReader
        An open image (:func:`tiepoint.io.open_image`).
    x, y : (N,) float
        OpenCV positions; non-finite positions give fully masked chips.
    size : int
        Chip size, odd.

    Returns
    -------
    numpy.ma.MaskedArray
        ``(N, size, size)`` float64; pixels outside the image and the image's masked pixels are masked.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"chip size must be a positive odd number, got {size}")
    x, y = np.asarray(x, float), np.asarray(y, float)
    n, h = len(x), size // 2
    data = np.zeros((n, size, size))
    mask = np.ones((n, size, size), bool)
    good = np.isfinite(x) & np.isfinite(y)
    cs, cl = centre_pixels(np.where(good, x, 0.0), np.where(good, y, 0.0))
    offsets = np.arange(-h, h + 1)
    for idx in _groups(np.where(good, x, np.nan), np.where(good, y, np.nan)):
        idx = idx[good[idx]]
        if not len(idx):
            continue
        window = (
            (int(cl[idx].min()) - h, int(cl[idx].max()) + h + 1),
            (int(cs[idx].min()) - h, int(cs[idx].max()) + h + 1),
        )
        d, m = _read(image, window)
        rows = (cl[idx] - window[0][0])[:, None, None] + offsets[None, :, None]
        cols = (cs[idx] - window[1][0])[:, None, None] + offsets[None, None, :]
        data[idx] = d[rows, cols]
        mask[idx] = m[rows, cols]
    return np.ma.MaskedArray(data, mask=mask)


def local_affine(
    reference: CameraModel,
    measure: CameraModel,
    ref_x: np.ndarray,
    ref_y: np.ndarray,
    *,
    height: float | np.ndarray = 0.0,
    step_px: float = 10.0,
) -> np.ndarray:
    """The local affine from reference-image to measure-image positions around each reference position.

    A 3 x 3 grid of points ``step_px`` apart around each reference position goes through the
    reference camera to the ground (at *height* above the ellipsoid, e.g. the a-priori point's) and
    back through the measure's camera; the affine is their least-squares fit.

    Parameters
    ----------
    reference, measure : CameraModel
    ref_x, ref_y : (N,) float
        OpenCV positions in the reference image.
    height : float or (N,) float
        Height (m) above the ellipsoid of the ground there.
    step_px : float
        Grid spacing in reference pixels.

    Returns
    -------
    (N, 2, 3) float64
        ``[x_m, y_m] = A[:, :2] @ [x_r, y_r] + A[:, 2]``; NaN where a grid point misses the body or
        does not project into the measure's camera.
    """
    rx, ry = np.asarray(ref_x, float), np.asarray(ref_y, float)
    n = len(rx)
    gy, gx = (g.ravel() * step_px for g in np.mgrid[-1:2, -1:2].astype(float))
    px = (rx[:, None] + gx[None, :]).ravel()
    py = (ry[:, None] + gy[None, :]).ravel()
    h = np.repeat(np.broadcast_to(np.asarray(height, float), (n,)), 9)
    ground = reference.image_to_ground(*to_camera_coords(px, py), height=h)
    ok = np.isfinite(ground).all(axis=1)
    mx, my = np.full(len(px), np.nan), np.full(len(px), np.nan)
    if ok.any():
        mx[ok], my[ok] = from_camera_coords(*measure.ground_to_image(ground[ok]))
    design = np.stack([gx, gy, np.ones(9)], axis=1)  # offsets from the reference position
    pinv = np.linalg.pinv(design)  # (3, 9)
    cx = mx.reshape(n, 9) @ pinv.T  # (N, 3): d x_m / d x_r, d x_m / d y_r, x_m at the position
    cy = my.reshape(n, 9) @ pinv.T
    affine = np.stack([cx, cy], axis=1)
    affine[:, :, 2] -= affine[:, :, 0] * rx[:, None] + affine[:, :, 1] * ry[:, None]
    return affine


def warp_chips(
    image: ImageReader,
    ref_x: np.ndarray,
    ref_y: np.ndarray,
    affine: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    size: int,
    interpolation: Literal["linear", "cubic"] = "cubic",
) -> np.ma.MaskedArray:
    """Reference chips resampled onto the measure image's pixel grid (templates for registration).

    Template pixel ``(i, j)`` is the measure-image pixel ``(cl - h + i, cs - h + j)`` (``h = size // 2``,
    ``(cs, cl)`` the pixel containing the measure's a-priori position ``(x, y)``); its value is the
    reference image at ``(ref_x, ref_y) + L^-1 (pixel - (x, y))``, ``L`` the linear part of *affine*.
    If the a-priori pair is a true correspondence, the template equals the measure image there.

    Parameters
    ----------
    image : ImageReader
        The reference image.
    ref_x, ref_y : (N,) float
        Reference positions (OpenCV).
    affine : (N, 2, 3) float
        From :func:`local_affine`; only the linear part is used.
    x, y : (N,) float
        A-priori positions in the measure image (OpenCV).
    size : int
        Template size, odd.
    interpolation : {"linear", "cubic"}

    Returns
    -------
    numpy.ma.MaskedArray
        ``(N, size, size)`` float64, masked where any source pixel under the interpolation kernel is
        masked or outside the image, and entirely where the affine is not finite or singular.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"chip size must be a positive odd number, got {size}")
    rx, ry, x, y = (np.asarray(v, float) for v in (ref_x, ref_y, x, y))
    n, h = len(rx), size // 2
    lin = np.asarray(affine, float)[:, :, :2]
    det = lin[:, 0, 0] * lin[:, 1, 1] - lin[:, 0, 1] * lin[:, 1, 0]
    good = np.isfinite(lin).all(axis=(1, 2)) & (np.abs(det) > 1e-9)
    good &= np.isfinite(rx) & np.isfinite(ry) & np.isfinite(x) & np.isfinite(y)
    inv = np.zeros_like(lin)
    inv[good] = np.linalg.inv(lin[good])
    cs, cl = centre_pixels(np.where(good, x, 0.0), np.where(good, y, 0.0))
    grid = np.arange(-h, h + 1, dtype=float)
    data = np.zeros((n, size, size))
    mask = np.ones((n, size, size), bool)
    for idx in _groups(np.where(good, rx, np.nan), np.where(good, ry, np.nan)):
        idx = idx[good[idx]]
        if not len(idx):
            continue
        # where each template pixel samples the reference: offsets from the a-priori position in
        # measure pixels, mapped back by the inverse of the linear part
        ox = (cs[idx] - x[idx])[:, None, None] + grid[None, None, :]
        oy = (cl[idx] - y[idx])[:, None, None] + grid[None, :, None]
        m = inv[idx]
        sx = rx[idx, None, None] + m[:, 0, 0, None, None] * ox + m[:, 0, 1, None, None] * oy
        sy = ry[idx, None, None] + m[:, 1, 0, None, None] * ox + m[:, 1, 1, None, None] * oy
        sigma = antialias_sigma(np.linalg.svd(m, compute_uv=False)[:, 0])
        blur = int(np.ceil(3.0 * sigma)) if sigma > 0 else 0
        margin = _MARGIN[interpolation] + blur
        l0 = int(np.floor(sy.min())) - margin
        l1 = int(np.floor(sy.max())) + margin + 2
        s0 = int(np.floor(sx.min())) - margin
        s1 = int(np.floor(sx.max())) + margin + 2
        src, src_mask = _read(image, ((l0, l1), (s0, s1)))
        mapx, mapy = _layout(sx - s0), _layout(sy - l0)
        count = len(idx) * size * size
        reach = _MARGIN[interpolation] - 1 + blur  # source pixels an output pixel depends on, beyond its own
        if src_mask.any():
            # masked pixels must not leak into valid ones: fill them with the valid mean, and mask
            # every output pixel whose kernel (and low-pass filter) touches one
            if not src_mask.all():
                src[src_mask] = src[~src_mask].mean()
            grown = src_mask.astype(np.float32)
            if reach > 0:
                grown = cv2.dilate(grown, np.ones((2 * reach + 1,) * 2, np.uint8))
            touched = cv2.remap(
                grown, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=1.0
            )
            mask[idx] = touched.ravel()[:count].reshape(-1, size, size) > 0
        else:
            mask[idx] = False
        if blur:
            src = cv2.GaussianBlur(src, (2 * blur + 1, 2 * blur + 1), sigma, borderType=cv2.BORDER_REPLICATE)
        out = cv2.remap(src, mapx, mapy, _INTERPOLATION[interpolation], borderMode=cv2.BORDER_REPLICATE)
        data[idx] = out.ravel()[:count].reshape(-1, size, size)
    return np.ma.MaskedArray(data, mask=mask)


__all__ = ["BLOCK_PX", "MIN_DOWNSAMPLING", "antialias_sigma", "centre_pixels", "local_affine", "read_chips",
           "warp_chips"]  # fmt: skip
