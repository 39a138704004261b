"""Sub-pixel registration of measures of one image pair: chips in, registered positions out.

:func:`register_measures` composes :mod:`tiepoint.network.chips` (windowed reads, the local camera
affine, the warped reference chips) and the pure kernel :func:`tiepoint.network.register.register_batch`
for measures of one measure image against one reference image. It always starts from the a-priori
(feature) positions it is given and returns them beside the registered ones, so re-running never
walks a measure away from its feature; a measure that fails keeps its a-priori position and says why.

Images of different resolutions are brought to the coarser one's: a finer reference is low-passed
before it is resampled (:func:`tiepoint.network.chips.warp_chips`); a coarser reference, resampled up
onto a finer measure image, is as blurred as its pixels, so the search chips are low-passed as much
(the same :func:`~tiepoint.network.chips.antialias_sigma` of the magnification).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from tiepoint.camera import CameraModel
from tiepoint.config import RegistrationConfig
from tiepoint.io import ImageReader, open_image
from tiepoint.network.chips import antialias_sigma, local_affine, read_chips, warp_chips
from tiepoint.network.errors import NetworkError
from tiepoint.network.register import RegistrationBatch, register_batch


@dataclass(frozen=True, slots=True)
class MeasureRegistration:
    """Registered measures of one image (OpenCV positions, see :mod:`tiepoint.pixels`)."""

    apriori_x: np.ndarray
    """(N,) the a-priori (feature) positions the registration started from."""
    apriori_y: np.ndarray
    x: np.ndarray
    """(N,) registered positions where ``registration.ok``, else the a-priori ones."""
    y: np.ndarray
    registration: RegistrationBatch

    @property
    def ok(self) -> np.ndarray:
        return self.registration.ok

    @property
    def status(self) -> np.ndarray:
        return self.registration.status


def _search_chips(
    image: ImageReader, x: np.ndarray, y: np.ndarray, size: int, affine: np.ndarray
) -> np.ma.MaskedArray:
    """Search chips, low-passed as much as the template is blurred where the reference is coarser."""
    lin = affine[:, :, :2]
    finite = np.isfinite(lin).all(axis=(1, 2))
    magnification = np.full(len(x), np.nan)
    if finite.any():
        magnification[finite] = np.linalg.svd(lin[finite], compute_uv=False)[:, 0]
    sigma = antialias_sigma(magnification[finite]) if finite.any() else 0.0
    if sigma <= 0:
        return read_chips(image, x, y, size)
    r = int(np.ceil(3.0 * sigma))
    chips = read_chips(image, x, y, size + 2 * r)
    mask = np.ma.getmaskarray(chips)
    data = np.ma.getdata(chips).copy()
    valid = ~mask
    fill = (np.where(valid, data, 0.0).sum(axis=(1, 2)) / np.maximum(valid.sum(axis=(1, 2)), 1))[
        :, None, None
    ]
    data = np.where(valid, data, fill)
    data = ndimage.gaussian_filter(data, sigma=(0.0, sigma, sigma), mode="nearest", truncate=r / sigma)
    mask = ndimage.maximum_filter(mask, size=(1, 2 * r + 1, 2 * r + 1), mode="nearest")
    return np.ma.MaskedArray(data[:, r:-r, r:-r], mask=mask[:, r:-r, r:-r])


def _inside(shape: tuple[int, int], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x >= -0.5) & (y >= -0.5) & (x < shape[1] - 0.5) & (y < shape[0] - 0.5)


def register_measures(
    reference: ImageReader | str | os.PathLike[str],
    measure: ImageReader | str | os.PathLike[str],
    reference_camera: CameraModel,
    measure_camera: CameraModel,
    ref_x: np.ndarray,
    ref_y: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    config: RegistrationConfig | None = None,
    *,
    height: float | np.ndarray = 0.0,
) -> MeasureRegistration:
    """Register measures of one image to their points' reference measures in one reference image.

    Parameters
    ----------
    reference, measure : ImageReader or path
        The reference measures' image and the measures' image (opened and closed here if paths).
    reference_camera, measure_camera : CameraModel
        Their cameras (for the local affine between the images).
    ref_x, ref_y : (N,) float
        The reference measures' positions (OpenCV).
    x, y : (N,) float
        The measures' a-priori positions (OpenCV): registration starts from, and keeps, these.
    config : RegistrationConfig, optional
    height : float or (N,) float
        Height (m) above the ellipsoid of each point (its a-priori ground point), for the affine.

    Returns
    -------
    MeasureRegistration
        Status ``outside`` where a position is outside its image or does not project between them.

    Raises
    ------
    NetworkError
        The position arrays differ in length.
    tiepoint.errors.ImageError
        An image cannot be read (file-level problems fail the job; chips that fail are statuses).
    """
    cfg = config if config is not None else RegistrationConfig()
    rx, ry, ax, ay = (np.asarray(v, dtype=np.float64).ravel() for v in (ref_x, ref_y, x, y))
    if not len(rx) == len(ry) == len(ax) == len(ay):
        raise NetworkError(
            "ref_x, ref_y, x, y must have one value per measure, got "
            f"{len(rx)}, {len(ry)}, {len(ax)}, {len(ay)}"
        )
    with ExitStack() as stack:
        ref_img = (
            reference if isinstance(reference, ImageReader) else stack.enter_context(open_image(reference))
        )
        meas_img = measure if isinstance(measure, ImageReader) else stack.enter_context(open_image(measure))
        affine = local_affine(reference_camera, measure_camera, rx, ry, height=height)
        size = max(cfg.template_px, cfg.second_template_px or 0)
        templates = warp_chips(ref_img, rx, ry, affine, ax, ay, size, cfg.interpolation)
        searches = _search_chips(meas_img, ax, ay, cfg.search_px, affine)
        outside = ~(_inside(ref_img.shape, rx, ry) & _inside(meas_img.shape, ax, ay))
    outside |= ~np.isfinite(affine).all(axis=(1, 2))
    batch = register_batch(templates, searches, cfg)
    if outside.any():
        status = batch.status.copy()
        status[outside] = "outside"
        batch = replace(batch, status=status)
    ok = batch.ok
    return MeasureRegistration(
        ax,
        ay,
        np.where(ok, ax + np.nan_to_num(batch.dx), ax),
        np.where(ok, ay + np.nan_to_num(batch.dy), ay),
        batch,
    )


__all__ = ["MeasureRegistration", "register_measures"]
