"""Write synthetic ISIS3 cubes: render an ISD's camera over the ground texture, ISD as a sidecar.

:func:`synthesize` is what ``tiepoint synth`` runs: for ``X.json`` it writes ``DIR/X.cub`` (16-bit
UnsignedWord, tiled, streamed chunk by chunk so CTX-size images need little memory, with the camera's
CSM state as the ``CSMState`` blob) and ``DIR/X.json`` (the ISD, rescaled if a size was asked for).
With a pointing error (:mod:`tiepoint.synthetic.pointing`) the pixels are rendered through the
perturbed *truth* camera, written as ``DIR/X.truth.json``; the sidecar and the ``CSMState`` blob keep
the unperturbed a-priori camera, which is all a user of real data has.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.atomic import replacing, write_atomically
from tiepoint.errors import CameraError, TiepointError
from tiepoint.synthetic.pointing import PointingError, perturb_isd
from tiepoint.synthetic.render import render_chunks
from tiepoint.synthetic.rescale import rescale_isd
from tiepoint.synthetic.texture import GroundTexture, TextureParams

SPECIAL_KINDS = ("NULL", "LRS", "LIS", "HIS", "HRS")


class SynthesisError(TiepointError):
    """A synthetic image cannot be made (bad ISD, bad size or region, unwritable output)."""


@dataclass(frozen=True, slots=True)
class SpecialRegion:
    """A rectangle of special pixels to write into a synthetic cube.

    ``window`` is ``((line_start, line_stop), (sample_start, sample_stop))``, 0-based, stop exclusive;
    ``kind`` is one of NULL, LRS, LIS, HIS, HRS.
    """

    kind: str
    window: tuple[tuple[int, int], tuple[int, int]]

    @classmethod
    def parse(cls, text: str) -> SpecialRegion:
        """Parse ``KIND:L0:L1:S0:S1`` (e.g. ``NULL:0:100:0:50``)."""
        parts = text.split(":")
        try:
            kind = parts[0].upper()
            l0, l1, s0, s1 = (int(v) for v in parts[1:])
        except ValueError:
            raise SynthesisError(f"bad special region {text!r}: expected KIND:L0:L1:S0:S1") from None
        if kind not in SPECIAL_KINDS:
            kinds = ", ".join(SPECIAL_KINDS)
            raise SynthesisError(f"bad special region {text!r}: the kind must be one of {kinds}")
        if not (0 <= l0 < l1 and 0 <= s0 < s1):
            raise SynthesisError(f"bad special region {text!r}: need 0 <= L0 < L1 and 0 <= S0 < S1")
        return cls(kind, ((l0, l1), (s0, s1)))


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What :func:`synthesize` wrote."""

    cube: Path
    isd: Path
    """The sidecar ISD: the a-priori camera (what ``find_camera`` finds)."""
    lines: int
    samples: int
    seconds: float
    truth: Path | None = None
    """``<stem>.truth.json``, the ISD the pixels were rendered through; None without a pointing error."""
    pointing_error: PointingError | None = None
    """What the truth camera's bias does at the image centre; None without a pointing error."""


def load_isd(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an ISD JSON file; raise :class:`SynthesisError` naming the file if it cannot be."""
    p = Path(path)
    try:
        isd = json.loads(p.read_text())
    except FileNotFoundError:
        raise SynthesisError("the ISD file does not exist", p) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SynthesisError(f"not a readable JSON ISD: {exc}", p) from None
    if not isinstance(isd, dict) or "image_lines" not in isd or "image_samples" not in isd:
        raise SynthesisError("not an ISD: no image_lines/image_samples", p)
    return isd


def _special_codes(regions: Sequence[SpecialRegion], row0: int, shape: tuple[int, int]) -> np.ndarray | None:
    from tiepoint.io import special_pixels as sp

    codes = {"NULL": sp.NULL, "LRS": sp.LRS, "LIS": sp.LIS, "HIS": sp.HIS, "HRS": sp.HRS}
    out = None
    for reg in regions:
        (l0, l1), (s0, s1) = reg.window
        a, b = max(l0, row0), min(l1, row0 + shape[0])
        if a >= b or s0 >= shape[1]:
            continue
        if out is None:
            out = np.zeros(shape, dtype=np.uint8)
        out[a - row0 : b - row0, s0 : min(s1, shape[1])] = codes[reg.kind]
    return out


def synthesize(
    isd: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    lines: int | None = None,
    samples: int | None = None,
    special: Sequence[SpecialRegion] = (),
    texture: TextureParams | None = None,
    grid_step: int = 8,
    noise: float = 0.002,
    pointing_error_m: float | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> SynthResult:
    """Render the image an ISD's camera would see of the synthetic ground and write it as a cube.

    Parameters
    ----------
    isd : path
        A USGSCSM ISD JSON file (``X.json``).
    out_dir : path
        Output folder (created); ``X.cub`` and ``X.json`` are written there.
    lines, samples : int, optional
        Render at this size over the same ground (see :mod:`tiepoint.synthetic.rescale`).
    special : sequence of SpecialRegion
        Rectangles written as special pixels (NULL, LRS, LIS, HIS, HRS).
    texture : TextureParams, optional
        The ground; the default is the same for every image of a body, so images overlap truly.
    grid_step, noise :
        See :func:`tiepoint.synthetic.render.render_chunks`.
    pointing_error_m : float, optional
        Render through a camera whose attitude and position are biased so that its ground moves by
        about this many metres (:func:`tiepoint.synthetic.pointing.perturb_isd`), and write that
        truth ISD as ``X.truth.json``; the sidecar ``X.json`` and the cube's ``CSMState`` blob keep
        the unperturbed (a-priori) camera. None: no error, no truth file.
    seed : int
        With ``pointing_error_m``: chooses the error's direction and pointing/position share, together
        with the image's stem (so images of one run get different directions).
    progress : callable, optional
        Called with the number of lines rendered after each chunk.

    Returns
    -------
    SynthResult

    Raises
    ------
    SynthesisError, CameraError
        The ISD cannot be read or used, a size or region is bad, or the output cannot be written.
    """
    import time

    from tiepoint.camera import from_isd
    from tiepoint.io import CubeWriter

    start = time.perf_counter()
    src = Path(isd)
    data = load_isd(src)
    try:
        data = rescale_isd(data, lines=lines, samples=samples)
    except CameraError as exc:
        raise SynthesisError(exc.message, src) from None
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthesisError(f"cannot create the output folder: {exc.strerror}", out) from None
    stem = src.stem
    cube_path, isd_path = out / f"{stem}.cub", out / f"{stem}.json"
    truth_path = out / f"{stem}.truth.json" if pointing_error_m is not None else None
    try:
        camera = from_isd(data)
        truth_data, error = data, None
        if pointing_error_m is not None:
            truth_data, error = perturb_isd(
                data, pointing_error_m, seed=[int(seed), zlib.crc32(stem.encode())]
            )
        truth_camera = from_isd(truth_data)
    except CameraError as exc:
        raise CameraError(exc.message, src) from None
    shape = (int(camera.image_lines), int(camera.image_samples))
    for reg in special:
        (l0, _), (s0, _) = reg.window
        if l0 >= shape[0] or s0 >= shape[1]:
            raise SynthesisError(f"special region {reg.window} lies outside the {shape} image", src)
    tex = GroundTexture(float(camera.semimajor), texture or TextureParams())
    noise_seed = zlib.crc32(stem.encode())
    label_extra = {
        "Instrument": {
            "SpacecraftName": str(data.get("name_platform", "UNKNOWN")),
            "InstrumentId": str(data.get("name_sensor", "UNKNOWN")),
        }
    }
    try:
        with (
            replacing(cube_path) as tmp_cube,
            CubeWriter(
                tmp_cube,
                shape,
                format="tile",
                pixel_type="UnsignedWord",
                csm_state=f"{camera.model_name}\n{camera.to_state()}",  # USGSCSM-style: name line + JSON
                label_extra=label_extra,
            ) as writer,
        ):
            for row0, dn in render_chunks(
                truth_camera, tex, grid_step=grid_step, noise=noise, seed=noise_seed, progress=progress
            ):
                window = ((row0, row0 + dn.shape[0]), (0, shape[1]))
                writer.write_window(window, dn, special=_special_codes(special, row0, dn.shape))
        write_atomically(isd_path, json.dumps(data))
        if truth_path is not None:
            write_atomically(truth_path, json.dumps(truth_data))
    except OSError as exc:
        raise SynthesisError(f"cannot write: {exc.strerror}", exc.filename or cube_path) from None
    seconds = time.perf_counter() - start
    return SynthResult(cube_path, isd_path, shape[0], shape[1], seconds, truth_path, error)
