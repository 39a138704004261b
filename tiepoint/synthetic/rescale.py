"""Rescale an ISD to another image size over the same ground (finer or coarser pixels).

The rule (USGSCSM conventions; image pixel ``j`` of the new image covers the old pixel ``j / f``):

* **samples**, factor ``fs = new_samples / old_samples``: the detector's sample axis is scaled, so a
  new pixel sees the focal-plane point the old pixel ``j / fs`` saw: ``focal2pixel_samples`` (all three
  affine coefficients), ``detector_center.sample`` and ``starting_detector_sample`` are multiplied by
  ``fs``. The optics (focal length, distortion in millimetres) are unchanged.
* **lines** of a line scanner, factor ``fl = new_lines / old_lines``: the same time span is read out in
  more (or fewer) lines, so every ``line_scan_rate`` integration time is divided by ``fl``; its start
  times are kept and its start lines ``l`` become ``(l - 0.5) * fl + 0.5``. The detector's along-track
  geometry (``focal2pixel_lines``, ``detector_center.line``) is a physical offset and is kept.
* **lines** of a frame camera: like samples, on the line axis (``focal2pixel_lines``,
  ``detector_center.line``, ``starting_detector_line``).
* Summing modes are kept; orbit, pointing, sun and body are untouched.
"""

from __future__ import annotations

import copy
from typing import Any

from tiepoint.errors import CameraError

LINE_SCANNER = "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"
FRAME = "USGS_ASTRO_FRAME_SENSOR_MODEL"


def rescale_isd(isd: dict[str, Any], lines: int | None = None, samples: int | None = None) -> dict[str, Any]:
    """Return a copy of ``isd`` describing an image of ``lines`` x ``samples`` over the same ground.

    Parameters
    ----------
    isd : dict
        A USGSCSM ISD (line scanner or frame).
    lines, samples : int, optional
        The new size; None keeps that axis.

    Returns
    -------
    dict
        The rescaled ISD (the input is not modified).

    Raises
    ------
    CameraError
        If a size is not positive or the ISD lacks a key the rule needs.
    """
    out = copy.deepcopy(isd)
    try:
        old_lines = int(isd["image_lines"])
        old_samples = int(isd["image_samples"])
        model = isd.get("name_model", LINE_SCANNER)
        for name, value in (("lines", lines), ("samples", samples)):
            if value is not None and int(value) < 1:
                raise CameraError(f"cannot rescale to {value} {name}: the size must be positive")
        if samples is not None and int(samples) != old_samples:
            fs = int(samples) / old_samples
            out["image_samples"] = int(samples)
            out["focal2pixel_samples"] = [float(c) * fs for c in isd["focal2pixel_samples"]]
            out["detector_center"]["sample"] = float(isd["detector_center"]["sample"]) * fs
            out["starting_detector_sample"] = float(isd.get("starting_detector_sample", 0.0)) * fs
        if lines is not None and int(lines) != old_lines:
            fl = int(lines) / old_lines
            out["image_lines"] = int(lines)
            if model == LINE_SCANNER:
                out["line_scan_rate"] = [
                    [(float(line) - 0.5) * fl + 0.5, float(start), float(rate) / fl]
                    for line, start, rate in isd["line_scan_rate"]
                ]
            elif model == FRAME:
                out["focal2pixel_lines"] = [float(c) * fl for c in isd["focal2pixel_lines"]]
                out["detector_center"]["line"] = float(isd["detector_center"]["line"]) * fl
                out["starting_detector_line"] = float(isd.get("starting_detector_line", 0.0)) * fl
            else:
                raise CameraError(f"cannot rescale the lines of a {model!r} ISD")
    except (KeyError, TypeError, ValueError) as exc:
        raise CameraError(f"cannot rescale the ISD: missing or malformed {exc}") from None
    return out
