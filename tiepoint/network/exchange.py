"""The network to and from the bundle adjusters: ISIS ``jigsaw`` and ASP ``bundle_adjust``.

- :func:`network_from_db`: the database's points and measures as a
  :class:`tiepoint.cnet.ControlNetwork` (and the image path of each serial number), ready for
  :func:`tiepoint.cnet.export`. Ignored points and measures are left out by default (a point needs
  two measures left); with ``include_ignored`` they are written with ISIS's ``Ignore`` flag, which
  jigsaw skips. Either way the reference index is computed after the filtering and always names one
  of the point's written measures. Measures are ISIS pixels (``sample = x + 1``, through
  :func:`tiepoint.pixels.to_isis_coords`): the current (registered) position, and the a-priori
  (keypoint) one as ``AprioriSample/Line``; registered measures are ``RegisteredSubPixel`` with their
  correlation (``SubPixelCorrelation``) and shift (``PixelShift``) logged. Points carry their a-priori
  ground point and its sources, and the adjusted one once a bundle adjustment was imported. Serial
  numbers come from ``images.serial_number`` (cubes are not opened again; rows ingested before it
  existed fall back to :func:`tiepoint.cnet.serial_number`).
- :func:`export_network`: that, written as ``OUT.net`` (binary V5 or V2, or PVL) with ``OUT.lis``
  beside it, or as ASP ``.match`` files.
- :func:`import_network`: a network adjusted by jigsaw (or edited, e.g. by ``cnetedit``) back into
  the database, matching points by point id and measures by (point id, serial number): adjusted
  ground points (and the points' map position), ``Ignore`` / ``JigsawRejected`` flags, residuals.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tiepoint.errors import CnetError
from tiepoint.pixels import to_isis_coords

if TYPE_CHECKING:
    from tiepoint.cnet import ControlNetwork
    from tiepoint.db import Database

CHOOSER = "tiepoint"
"""``ChooserName`` of the measures tiepoint writes."""
IMPORTED_IGNORE = "ignored in the imported network"
"""``ignore_reason`` of points and measures ignored by an imported network."""
REJECTED = "rejected by the bundle adjustment"
"""``ignore_reason`` of points that an imported network marks ``JigsawRejected``."""
_SUBPIXEL_CORRELATION = 7
_PIXEL_SHIFT = 5


def image_serials(db: Database) -> dict[int, tuple[str, str]]:
    """``{image id: (serial number, path)}`` of every image (the file stem when neither the
    ``serial_number`` column nor the label gives one).

    Raises
    ------
    CnetError
        Two different images share a serial number (networks name images only by serial).
    """
    from tiepoint.cnet import serial_number

    rows = db.execute_sql("SELECT id, path, serial_number FROM images ORDER BY id")
    out = {int(i): (serial if serial else serial_number(path), path) for i, path, serial in rows}
    seen: dict[str, str] = {}
    for serial, path in out.values():
        if serial in seen and seen[serial] != path:
            raise CnetError(
                f"images {seen[serial]} and {path} have the same serial number {serial!r}: a control "
                "network cannot tell them apart (remove one of them from the database)"
            )
        seen[serial] = path
    return out


def network_from_db(
    db: Database,
    *,
    include_ignored: bool = False,
    network_id: str | None = None,
    description: str | None = None,
) -> tuple[ControlNetwork, dict[str, str]]:
    """The database's network as a :class:`~tiepoint.cnet.ControlNetwork` (see the module docstring).

    Returns
    -------
    net : ControlNetwork
    cube_paths : dict
        ``{serial number: image path}`` of the images the network uses.
    """
    from tiepoint.cnet import ControlNetwork, Strings

    table = db.network_table(lonlat=False)
    serials = image_serials(db)
    p, m = table.points, table.measures
    row = table.point_index()
    keep = np.ones(len(row), bool)
    point_keep = np.ones(table.n_points, bool)
    if not include_ignored:
        keep = ~m["ignore"] & ~p["ignore"][row]
        point_keep = np.bincount(row[keep], minlength=table.n_points) >= 2
        keep &= point_keep[row]
    # drop points left without measures, renumber the rest; measures stay sorted by point
    new_index = np.cumsum(point_keep) - 1
    sel = np.flatnonzero(keep)
    owner = new_index[row[sel]]
    pts = {k: v[point_keep] for k, v in p.items()}
    ms = {k: v[sel] for k, v in m.items()}
    n_points = int(point_keep.sum())
    # reference index within the written measures: the point's reference, else its first measure
    counts = np.bincount(owner, minlength=n_points)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    is_ref = ms["id"] == pts["reference_measure_id"][owner]
    ref = np.full(n_points, -1, np.int64)
    ref[owner[is_ref]] = np.flatnonzero(is_ref) - starts[owner[is_ref]]
    ref[(ref < 0) & (counts > 0)] = 0
    # serial numbers: one string per image, codes per measure
    image_ids = np.array(sorted(serials), dtype=np.int64)
    serial_values = np.array([serials[i][0] for i in image_ids.tolist()], dtype=object)
    codes = np.searchsorted(image_ids, ms["image_id"]).astype(np.int32)
    sample, line = to_isis_coords(ms["x"], ms["y"])
    apriori_sample, apriori_line = to_isis_coords(ms["apriori_x"], ms["apriori_y"])
    ok = ms["status"] == "ok"
    logged = np.flatnonzero(ok)
    shift = np.hypot(ms["shift_x"][logged], ms["shift_y"][logged])
    has_apriori = np.isfinite(pts["apriori_x"])
    surf = np.where(has_apriori, pts["apriori_surf_source"], None)
    radius = np.where(has_apriori, pts["apriori_radius_source"], None)
    a, b = db.body.semimajor, db.body.semiminor
    net = ControlNetwork.from_arrays(
        pts["point_id"].astype(str),
        owner,
        Strings(codes, serial_values),
        sample,
        line,
        point_types=pts["type"].astype(object),
        measure_types=ms["type"].astype(object),
        reference_index=ref,
        points={
            "ignore": pts["ignore"],
            "apriori_x": pts["apriori_x"],
            "apriori_y": pts["apriori_y"],
            "apriori_z": pts["apriori_z"],
            "apriori_surf_source": _source_codes(surf),
            "apriori_radius_source": _source_codes(radius),
            "adjusted_x": pts["adjusted_x"],
            "adjusted_y": pts["adjusted_y"],
            "adjusted_z": pts["adjusted_z"],
        },
        measures={
            "ignore": ms["ignore"],
            "jigsaw_rejected": ms["jigsaw_rejected"],
            "apriori_sample": apriori_sample,
            "apriori_line": apriori_line,
            "sample_residual": ms["sample_residual"],
            "line_residual": ms["line_residual"],
            "chooser_name": CHOOSER,
        },
        measure_logs={
            "measure": np.concatenate([logged, logged]),
            "double_type": np.concatenate(
                [np.full(len(logged), _SUBPIXEL_CORRELATION), np.full(len(logged), _PIXEL_SHIFT)]
            ),
            "double_value": np.concatenate([ms["ncc"][logged], shift]),
        },
        network_id=network_id or "tiepoint",
        target_name=db.body.name,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        last_modified=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        description=description or f"tiepoint control network from {db!r}",
        user_name=_user(),
        target_radii=(a, a, b),
    )
    used = np.unique(ms["image_id"])
    return net, {serials[int(i)][0]: serials[int(i)][1] for i in used}


def _source_codes(names: np.ndarray) -> np.ndarray:
    from tiepoint.cnet.schema import APRIORI_SOURCES, UNSET

    out = np.full(len(names), UNSET, np.int64)
    for name, code in APRIORI_SOURCES.items():
        out[names == name] = code
    return out


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def export_network(
    db: Database,
    out: str | os.PathLike[str],
    *,
    version: int = 5,
    format: str = "isis",
    include_ignored: bool = False,
    network_id: str | None = None,
    description: str | None = None,
) -> list[Path]:
    """Write the database's network for ISIS ``jigsaw`` or ASP ``bundle_adjust``.

    Parameters
    ----------
    db : Database
    out : path
        ``isis`` / ``pvl``: the ``.net`` file; the cube list goes beside it as ``<out stem>.lis``.
        ``asp``: the output prefix of the ``.match`` files (``<out>-<stem1>__<stem2>.match``).
    version : int
        ISIS binary version: 5 (what ISIS writes today) or 2.
    format : ``"isis"``, ``"pvl"`` or ``"asp"``
    include_ignored : bool
        Write ignored points and measures too, flagged ``Ignore`` (default: leave them out).
    network_id, description : str, optional
        The network header's fields.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    CnetError
        Bad version or format, an invalid network, or two images with one serial number.
    """
    from tiepoint import cnet

    net, cube_paths = network_from_db(
        db, include_ignored=include_ignored, network_id=network_id, description=description
    )
    return cnet.export(net, out, version=version, format=format, cube_paths=cube_paths)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What :func:`import_network` changed."""

    points: int
    """Points in the imported network."""
    matched: int
    """Of those, points found in the database (by point id)."""
    unknown: int
    """Points of the file that the database does not have (not created)."""
    adjusted: int
    """Points given an adjusted ground point."""
    ignored_points: int
    """Matched points ignored (or rejected) by the imported network."""
    measures: int
    """Measures of matched points found in the database (by point id and serial number)."""
    ignored_measures: int

    def __str__(self) -> str:
        return (
            f"{self.matched:,} of {self.points:,} points matched by id ({self.unknown:,} unknown), "
            f"{self.adjusted:,} adjusted, {self.ignored_points:,} ignored; {self.measures:,} measures "
            f"matched, {self.ignored_measures:,} ignored"
        )


def import_network(
    db: Database, net: ControlNetwork | str | os.PathLike[str], *, lon_domain: int = 360
) -> ImportSummary:
    """Update the database from an adjusted (jigsaw) or edited network (see the module docstring).

    Points are matched by point id, measures by (point id, serial number); nothing is created. A
    point with an adjusted ground point gets it (and its map position moves there); a point or
    measure the network ignores is ignored (reason :data:`IMPORTED_IGNORE`, or :data:`REJECTED` for
    ``JigsawRejected`` points), and one this import had ignored is restored when the network no
    longer ignores it. Measure residuals and ``JigsawRejected`` flags are copied.

    Parameters
    ----------
    db : Database
    net : ControlNetwork or path
        A network, or a file :func:`tiepoint.cnet.read` reads (binary V2/V5 or PVL).
    lon_domain : {360, 180}
        Longitudes of the points' map positions (the footprints' ``footprint.longitude_domain``).

    Returns
    -------
    ImportSummary
    """
    from tiepoint import cnet
    from tiepoint.camera import latlon

    if not isinstance(net, cnet.ControlNetwork):
        net = cnet.read(net)
    table = db.network_table(("point_id", "ignore", "ignore_reason"), ("image_id",), lonlat=False)
    db_ids = table.points["point_id"].astype(str)
    order = np.argsort(db_ids)
    file_ids = np.asarray(net.points.id, dtype=str)
    pos = np.clip(np.searchsorted(db_ids[order], file_ids), 0, max(len(db_ids) - 1, 0))
    found = (db_ids[order][pos] == file_ids) if len(db_ids) else np.zeros(len(file_ids), bool)
    point_row = np.where(found, order[pos] if len(db_ids) else -1, -1)  # row in the db point columns
    hit = np.flatnonzero(found)
    rows = table.points["id"][point_row[hit]]
    adjusted = np.stack([net.points.adjusted_x, net.points.adjusted_y, net.points.adjusted_z], axis=1)[hit]
    has_adjusted = np.isfinite(adjusted).all(axis=1)
    ignored = (net.points.ignore[hit] == 1) | (net.points.jigsaw_rejected[hit] == 1)
    reason = np.where(net.points.jigsaw_rejected[hit] == 1, REJECTED, IMPORTED_IGNORE).astype(object)
    current_reason = table.points["ignore_reason"][point_row[hit]]
    was_imported = np.isin(current_reason.astype(str), [IMPORTED_IGNORE, REJECTED])
    # points: ignore set by the file; restored when this import had ignored them; others untouched
    set_ignore = ignored | was_imported
    point_updates = {
        "id": rows[set_ignore],
        "ignore": ignored[set_ignore],
        "ignore_reason": np.where(ignored, reason, None)[set_ignore],
    }
    lat, lon = latlon(adjusted[has_adjusted], db.body.semimajor, db.body.semiminor, lon_domain)
    adjusted_updates = {
        "id": rows[has_adjusted],
        "adjusted_x": adjusted[has_adjusted, 0],
        "adjusted_y": adjusted[has_adjusted, 1],
        "adjusted_z": adjusted[has_adjusted, 2],
        "lon": lon,
        "lat": lat,
    }
    # measures: (db point row id, image id) of the file's measures of matched points
    serial_of = {s: i for i, (s, _) in image_serials(db).items()}
    values = np.array([serial_of.get(str(v), -1) for v in net.measures.serial.values], dtype=np.int64)
    codes = net.measures.serial.codes
    image = np.where(codes >= 0, values[np.maximum(codes, 0)] if len(values) else -1, -1)
    owner = net.measure_point
    m_found = found[owner] & (image >= 0)
    m_point = np.where(m_found, table.points["id"][np.maximum(point_row[owner], 0)], -1)
    db_key = table.measures["point_id"] * (1 << 31) + table.measures["image_id"]
    key = m_point * (1 << 31) + image
    korder = np.argsort(db_key)
    kpos = np.clip(np.searchsorted(db_key[korder], key), 0, max(len(db_key) - 1, 0))
    m_hit = m_found & ((db_key[korder][kpos] == key) if len(db_key) else False)
    measure_ids = table.measures["id"][korder[kpos[m_hit]]] if len(db_key) else np.empty(0, np.int64)
    m_ignored = net.measures.ignore[m_hit] == 1
    measure_updates = {
        "id": measure_ids,
        "jigsaw_rejected": net.measures.jigsaw_rejected[m_hit] == 1,
        "sample_residual": net.measures.sample_residual[m_hit],
        "line_residual": net.measures.line_residual[m_hit],
    }
    db.apply_network_import(
        point_updates, adjusted_updates, measure_updates, measure_ids[m_ignored], IMPORTED_IGNORE
    )
    return ImportSummary(
        points=net.n_points,
        matched=len(hit),
        unknown=int(net.n_points - len(hit)),
        adjusted=int(has_adjusted.sum()),
        ignored_points=int(ignored.sum()),
        measures=len(measure_ids),
        ignored_measures=int(m_ignored.sum()),
    )


__all__ = [
    "CHOOSER",
    "IMPORTED_IGNORE",
    "REJECTED",
    "ImportSummary",
    "export_network",
    "image_serials",
    "import_network",
    "network_from_db",
]
