"""Finding the camera of an image: a sidecar ISD, else the cube's ``CSMState`` blob."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tiepoint.errors import CameraError, TiepointError
from tiepoint.fileinfo import file_kind

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tiepoint.camera.base import CameraModel


def sidecar_path(image_path: str | os.PathLike[str]) -> Path:
    """``<image-stem>.json`` beside the image (``a.crop.cub`` -> ``a.crop.json``)."""
    path = Path(image_path)
    return path.with_name(path.stem + ".json")


def find_camera(image_path: str | os.PathLike[str], shape: tuple[int, int] | None = None) -> CameraModel:
    """The camera model of an image.

    Looks for a sidecar ISD ``<image-stem>.json`` beside the image, then for a ``CSMState`` blob in
    the image (ISIS cubes, read with :func:`tiepoint.io.open_image`).

    Parameters
    ----------
    image_path : path
        The image.
    shape : (int, int), optional
        The image's ``(lines, samples)``; when given, the camera must describe an image of that size
        (see :func:`check_image_size`). Ingest passes it: an ISD of another image is then an error.

    Raises
    ------
    CameraError
        Naming the image and what was looked for, when neither exists (and what the sidecar path is,
        when it is not a file); the ISD/state problem; or a camera of another image size.
    """
    from tiepoint.camera import from_isd

    path = Path(image_path)
    sidecar = sidecar_path(path)
    model = from_isd(sidecar) if sidecar.is_file() else _from_image(path, sidecar)
    if shape is not None:
        check_image_size(model, shape, path)
    return model


def check_image_size(camera: CameraModel, shape: tuple[int, int], image_path: str | os.PathLike[str]) -> None:
    """Raise unless ``camera`` describes an image of ``shape = (lines, samples)``.

    An ISD made for another image (a crop, a different product, a hand-edited size) otherwise gives a
    footprint of the ISD's extent while the keypoints are of the image: both silently wrong.

    Raises
    ------
    CameraError
        Naming the image, the camera's source (ISD file or CSMState blob) and both sizes.
    """
    lines, samples = (int(v) for v in shape)
    if (camera.image_lines, camera.image_samples) == (lines, samples):
        return
    path = Path(image_path)
    source = camera.source
    if source is None:
        what = "the camera"
    elif Path(source) == path:
        what = "the camera in its CSMState blob"
    else:
        what = f"the ISD {source}"
    raise CameraError(
        f"{what} describes an image of {camera.image_lines} lines x {camera.image_samples} samples, "
        f"but the image is {lines} lines x {samples} samples: the camera does not belong to this image",
        path,
    )


def _from_image(path: Path, sidecar: Path) -> CameraModel:
    """The model in the image's CSMState blob; the error says what was looked for."""
    if os.path.lexists(sidecar):
        looked = f"{sidecar.name} beside the image is {file_kind(sidecar)}, not an ISD file,"
    else:
        looked = f"no sidecar ISD {sidecar.name} beside the image"
    if not path.exists():
        raise CameraError(f"image not found (and {looked.rstrip(',')})", path)
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
        raise CameraError(f"no camera: {looked} and {reason}", path)
    if os.path.lexists(sidecar):
        logger.warning("%s: %s; using the camera of its CSMState blob", path, looked.rstrip(","))
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
