"""Camera models: image (line, sample) <-> body-fixed ground (x, y, z), vectorized over points.

Implements USGSCSM's ``USGS_ASTRO_FRAME_SENSOR_MODEL`` and ``USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL`` from
ALE-format ISD JSON, in numpy. Image coordinates follow USGSCSM (upper-left pixel centre at 0.5, 0.5);
ground coordinates are body-fixed metres.

>>> cam = from_isd("image.json")                       # doctest: +SKIP
>>> xyz = cam.image_to_ground(lines, samples)           # doctest: +SKIP
>>> lines, samples = cam.ground_to_image(xyz)           # doctest: +SKIP
>>> lat, lon = latlon(xyz, cam.semimajor, cam.semiminor)  # doctest: +SKIP
>>> cam = find_camera("image.cub", shape=(lines, samples))  # doctest: +SKIP

``find_camera(image, shape=None)`` finds an image's camera (sidecar ISD, then CSMState blob) and, given
the image's size, checks that the camera describes it (:func:`check_image_size`). Every bad ISD raises
:class:`CameraError` naming the file and the key (``invalid ISD: focal_length_model.focal_length is NaN``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from tiepoint.camera.base import CameraModel
from tiepoint.camera.coords import (
    centric_to_graphic,
    graphic_to_centric,
    latlon,
    latlon_to_xyz,
    planetographic_to_xyz,
    wrap_longitude,
    xyz_to_latlon_height,
    xyz_to_planetographic,
)
from tiepoint.camera.discovery import check_image_size, find_camera
from tiepoint.camera.frame import FrameModel
from tiepoint.camera.isd import get_str, load_isd
from tiepoint.camera.linescan import LineScanModel
from tiepoint.camera.usgscsm_state import from_usgscsm_state
from tiepoint.errors import CameraError

__all__ = [
    "CameraError",
    "CameraModel",
    "FrameModel",
    "LineScanModel",
    "centric_to_graphic",
    "check_image_size",
    "find_camera",
    "from_isd",
    "from_state",
    "from_usgscsm_state",
    "graphic_to_centric",
    "latlon",
    "latlon_to_xyz",
    "planetographic_to_xyz",
    "wrap_longitude",
    "xyz_to_latlon_height",
    "xyz_to_planetographic",
]


def _models() -> dict[str, type[CameraModel]]:
    return {LineScanModel.model_name: LineScanModel, FrameModel.model_name: FrameModel}


def from_isd(path_or_dict: str | os.PathLike[str] | dict[str, Any]) -> CameraModel:
    """Build the camera model an ISD describes (dispatch on ``name_model``).

    Parameters
    ----------
    path_or_dict : path or dict
        An ALE-format ISD JSON file, or its parsed content.

    Returns
    -------
    CameraModel

    Raises
    ------
    CameraError
        If the file is missing or not JSON, a key is missing or malformed (named in the message), or
        the model or its distortion is not supported (``not supported: <name>``).
    """
    isd, source = load_isd(path_or_dict)
    name = get_str(isd, "name_model", source)
    models = _models()
    if name not in models:
        raise CameraError(f"not supported: {name} (name_model; supported: {', '.join(models)})", source)
    try:
        model = models[name].from_isd(isd, source)
    except CameraError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as err:
        raise CameraError(f"malformed ISD for {name}: {type(err).__name__}: {err}", source) from None
    model.source = source
    return model


def from_state(state: str | dict[str, Any]) -> CameraModel:
    """Rebuild a model from :meth:`CameraModel.to_state` output (identical results)."""
    try:
        data = json.loads(state) if isinstance(state, str | bytes) else state
        name = data["model_name"]
        inner = data["state"]
    except (json.JSONDecodeError, TypeError, KeyError) as err:
        raise CameraError(f"not a tiepoint camera state: {err}") from None
    models = _models()
    if not isinstance(name, str) or name not in models:
        raise CameraError(f"not supported: {name} (camera state model_name)")
    try:
        return models[name](inner)
    except CameraError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as err:
        raise CameraError(f"malformed {name} camera state: {type(err).__name__}: {err}") from None
