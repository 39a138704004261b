"""How far a control network built on synthetic images is from the truth.

Images rendered with ``pointing_error_m`` (``tiepoint synth --pointing-error-m``) keep the camera that
really rendered them beside the cube as ``<stem>.truth.json``. For every measure of a point, the true
position is where the point's reference measure lands in the measure's image through the two truth
cameras (:func:`tiepoint.synthetic.true_correspondence`); the error is the distance (pixels) of the
measure's position from it. The reference measures themselves are the points' definition and have no
error of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.synthetic.pointing import true_correspondence


@dataclass(frozen=True, slots=True)
class MeasureErrors:
    """Errors (pixels) of the non-reference measures against the truth, one row each."""

    status: np.ndarray
    """Registration status of each measure (``ok``, ``pending``, ``low_ncc``, ...)."""
    registered: np.ndarray
    """Distance of the measure's position (registered if ``ok``, else a-priori) from the truth."""
    apriori: np.ndarray
    """Distance of its a-priori (feature-match) position from the truth."""

    def rms(self, which: str = "registered", status: str | None = "ok") -> float:
        """Root mean square of *which* errors over the measures of *status* (None: all)."""
        values = getattr(self, which)
        values = values[self.status == status] if status is not None else values
        values = values[np.isfinite(values)]
        return float(np.sqrt(np.mean(values**2))) if len(values) else float("nan")

    def worse_than(self, px: float, which: str = "registered", status: str | None = "ok") -> float:
        """Fraction of the measures of *status* whose *which* error exceeds *px*."""
        values = getattr(self, which)
        values = values[self.status == status] if status is not None else values
        return float(np.mean(values > px)) if len(values) else float("nan")


def truth_camera(image: str | Path) -> Any:
    """The camera that rendered a synthetic image (its ``<stem>.truth.json``)."""
    from tiepoint.camera import from_isd

    truth = Path(image).with_suffix(".truth.json")
    return from_isd(str(truth))


def measure_errors(db: Any) -> MeasureErrors:
    """The errors of every non-reference measure of the network in *db* against the truth cameras.

    Parameters
    ----------
    db : tiepoint.db.Database
        A database whose images were rendered with a pointing error (``<stem>.truth.json`` beside
        each).
    """
    table = db.network_table(
        ("reference_measure_id",), ("image_id", "x", "y", "apriori_x", "apriori_y", "status")
    )
    m = table.measures
    paths = dict(db.execute_sql("SELECT id, path FROM images"))
    order = np.argsort(m["id"])
    ref_id = table.points["reference_measure_id"][table.point_index()]
    ref_row = order[np.searchsorted(m["id"], ref_id, sorter=order)]
    rows = np.flatnonzero(ref_row != np.arange(len(m["id"])))  # every measure but the references
    registered = np.full(len(rows), np.nan)
    apriori = np.full(len(rows), np.nan)
    pair = m["image_id"][ref_row[rows]].astype(np.int64) * (1 << 32) + m["image_id"][rows].astype(np.int64)
    cameras: dict[int, Any] = {}

    def camera(image_id: int) -> Any:
        if image_id not in cameras:
            cameras[image_id] = truth_camera(paths[image_id])
        return cameras[image_id]

    for key in np.unique(pair):
        sel = np.flatnonzero(pair == key)
        mine, ref = rows[sel], ref_row[rows[sel]]
        ri, mi = int(m["image_id"][ref[0]]), int(m["image_id"][mine[0]])
        xt, yt = true_correspondence(camera(ri), camera(mi), m["x"][ref], m["y"][ref])
        registered[sel] = np.hypot(m["x"][mine] - xt, m["y"][mine] - yt)
        apriori[sel] = np.hypot(m["apriori_x"][mine] - xt, m["apriori_y"][mine] - yt)
    return MeasureErrors(np.asarray(m["status"])[rows], registered, apriori)


__all__ = ["MeasureErrors", "measure_errors", "truth_camera"]
