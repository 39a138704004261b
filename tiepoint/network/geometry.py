"""Viewing geometry of measures: emission angle and ground resolution at a point, vectorized.

Cameras are called once per image for all of its measures (USGSCSM coordinates through
:func:`tiepoint.pixels.to_camera_coords`).

- :func:`emission_angles`: the angle between the ellipsoid normal at the ground point and the
  direction to the sensor (0 for a nadir view).
- :func:`ground_resolution`: the square root of the ground area one pixel covers there (m): the
  pixel's two edges, (x + 1, y) and (x, y + 1), projected to the ground at the point's height. It
  grows with the camera's distance and focal length, and with the foreshortening of an oblique view,
  so the measure with the smallest one sees the finest detail: the best reference chip, which is then
  resampled (low-passed) onto coarser images rather than blurred up onto finer ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from tiepoint.camera import CameraModel
from tiepoint.network.errors import NetworkError
from tiepoint.pixels import to_camera_coords


def by_image(image: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(image id, indices of its measures)`` for each distinct image (one group per image)."""
    image = np.asarray(image)
    order = np.argsort(image, kind="stable")
    ids, starts = np.unique(image[order], return_index=True)
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    for img, a, b in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True):
        yield int(img), order[a:b]


def _camera(cameras: Mapping[int, CameraModel], image: int) -> CameraModel:
    camera = cameras.get(image)
    if camera is None:
        raise NetworkError(f"no camera for image {image}")
    return camera


def emission_angles(
    image: np.ndarray, x: np.ndarray, y: np.ndarray, xyz: np.ndarray, cameras: Mapping[int, CameraModel]
) -> np.ndarray:
    """(M,) emission angle (degrees) of each measure at its ground point *xyz* (M, 3); NaN where
    unknown (a non-finite point, or a ray that misses)."""
    image = np.asarray(image)
    xyz = np.asarray(xyz, dtype=np.float64).reshape(len(image), 3)
    sensor = np.full((len(image), 3), np.nan)
    a = b = 1.0
    for img, idx in by_image(image):
        camera = _camera(cameras, img)
        a, b = float(camera.semimajor), float(camera.semiminor)
        sensor[idx] = camera.sensor_position(*to_camera_coords(np.asarray(x)[idx], np.asarray(y)[idx]))
    normal = xyz / np.array([a * a, a * a, b * b])
    with np.errstate(invalid="ignore", divide="ignore"):
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        view = sensor - xyz
        view /= np.linalg.norm(view, axis=1, keepdims=True)
        return np.degrees(np.arccos(np.clip(np.einsum("mi,mi->m", normal, view), -1.0, 1.0)))


def ground_resolution(
    image: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cameras: Mapping[int, CameraModel],
    height: float | np.ndarray = 0.0,
) -> np.ndarray:
    """(M,) square root of the ground area (m^2) of one pixel at each measure, at *height* above the
    ellipsoid; NaN where a ray misses the body."""
    image = np.asarray(image)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    h = np.broadcast_to(np.nan_to_num(np.asarray(height, dtype=np.float64)), (len(image),))
    out = np.full(len(image), np.nan)
    for img, idx in by_image(image):
        camera = _camera(cameras, img)
        lines, samples = to_camera_coords(xs[idx], ys[idx])
        n = len(idx)
        ground = camera.image_to_ground(
            np.concatenate([lines, lines, lines + 1.0]),
            np.concatenate([samples, samples + 1.0, samples]),
            height=np.tile(h[idx], 3),
        ).reshape(3, n, 3)
        area = np.linalg.norm(np.cross(ground[1] - ground[0], ground[2] - ground[0]), axis=1)
        out[idx] = np.sqrt(area)
    return out


__all__ = ["by_image", "emission_angles", "ground_resolution"]
