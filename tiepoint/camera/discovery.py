"""Finding the camera of an image: a sidecar ISD, else the cube's ``CSMState`` blob."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tiepoint.errors import CameraError, TiepointError

if TYPE_CHECKING:
    from tiepoint.camera.base import CameraModel


def sidecar_path(image_path: str | os.PathLike[str]) -> Path:
    """``<image-stem>.json`` beside the image (``a.crop.cub`` -> ``a.crop.json``)."""
    path = Path(image_path)
    return path.with_name(path.stem + ".json")


def find_camera(image_path: str | os.PathLike[str]) -> CameraModel:
    """The camera model of an image.

    Looks for a sidecar ISD ``<image-stem>.json`` beside the image, then for a ``CSMState`` blob in
    the image (ISIS cubes, read with :func:`tiepoint.io.open_image`).

    Raises
    ------
    CameraError
        Naming the image and what was looked for, when neither exists; or the ISD/state problem.
    """
    from tiepoint.camera import from_isd

    path = Path(image_path)
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        return from_isd(sidecar)
    if not path.exists():
        raise CameraError(f"image not found (and no sidecar ISD {sidecar.name})", path)
    state = None
    reason = "no CSMState blob"
    try:
        from tiepoint.io import open_image  # lazy: tiepoint.io is developed alongside

        img = open_image(path)
        try:
            state = img.csm_state()
        finally:
            close = getattr(img, "close", None)
            if callable(close):
                close()
    except (ImportError, AttributeError) as err:
        reason = f"cannot read a CSMState blob ({err})"
    except TiepointError as err:
        reason = f"cannot read a CSMState blob ({err.message})"
    if not state:
        raise CameraError(f"no camera: no sidecar ISD {sidecar.name} beside the image and {reason}", path)
    model = _from_csm_state(state, path)
    model.source = str(path)
    return model


def _from_csm_state(state: str | bytes, path: Path) -> CameraModel:
    """A model from a cube's CSMState blob: a USGSCSM model state (ISD-like keys) or a tiepoint state."""
    import json

    from tiepoint.camera import from_isd, from_state
    from tiepoint.camera.usgscsm_state import from_usgscsm_state

    text = state.decode("utf-8", "replace") if isinstance(state, bytes) else state
    start = text.find("{")  # USGSCSM prefixes its state JSON with the model name
    if start < 0:
        raise CameraError("CSMState blob holds no JSON", path)
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as err:
        raise CameraError(f"CSMState blob is not valid JSON: {err}", path) from None
    if "tiepoint_camera_state" in data:
        return from_state(data)
    try:
        if "name_model" in data:
            return from_isd(data)
        if "m_modelName" in data:
            return from_usgscsm_state(data, str(path))
    except CameraError as err:
        raise CameraError(f"CSMState blob: {err.message}", path) from None
    raise CameraError("CSMState blob is neither an ISD nor a USGSCSM/tiepoint model state", path)
