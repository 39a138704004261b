"""Maps of what the database holds, as matplotlib figures (shown inline in Jupyter, saved by the CLI).

Public API::

    footprints(db, ax=None, *, panels=None, overlaps=True, title=None) -> matplotlib.figure.Figure
    network(db, ax=None, *, report=None, arrows=True, title=None) -> matplotlib.figure.Figure
    save(fig, path) -> Path

The functions use matplotlib's object API (no pyplot state, no backend switch), so they work the
same in a notebook, a script and the ``tiepoint footprints --png`` command, which is their one
drawing code path. Their figures show themselves as PNG images when they are the value of a Jupyter
cell, with or without ``%matplotlib inline`` or pyplot.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tiepoint.db import Database

MAX_LABELS = 40
"""Panels with more images than this are drawn without name labels."""


def _polygons(geom: Any) -> list[Any]:
    return list(getattr(geom, "geoms", [geom])) if geom is not None and not geom.is_empty else []


NOTEBOOK_DPI = 90
"""Resolution of the PNG a figure shows in Jupyter."""


@functools.cache
def _figure_class() -> type[Figure]:
    """The figure class of the maps (made on first use: importing this module loads no matplotlib)."""
    from matplotlib.figure import Figure

    class MapFigure(Figure):
        """A matplotlib figure that Jupyter shows as a PNG image without pyplot's inline backend."""

        def _repr_png_(self) -> bytes:
            import io

            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=NOTEBOOK_DPI)
            return buffer.getvalue()

    return MapFigure


def _new_figure(n_panels: int) -> tuple[Figure, list[Axes]]:
    fig = _figure_class()(figsize=(6.5 * n_panels, 7.0), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, list(axes)


def _short(name: str) -> str:
    """A label for a crowded map: the product id's first field (CTX/HiRISE names), else the name."""
    return name.split("_")[0] if "_" in name else name


def footprints(
    db: Database,
    ax: Axes | None = None,
    *,
    panels: Mapping[str, str] | None = None,
    overlaps: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw every image's lat/lon footprint, optionally with the overlaps hatched.

    Parameters
    ----------
    db : Database
        The tiepoint database.
    ax : matplotlib Axes, optional
        Draw into this axes (one panel); default: a new figure.
    panels : mapping of image name to panel title, optional
        Put the images in separate panels (e.g. one per ground area); images not named go to a
        panel ``"other"``. Ignored when *ax* is given.
    overlaps : bool
        Hatch the intersections of overlapping footprints.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Shown inline as the value of a notebook cell; save it with :func:`save`.
    """
    from sqlalchemy import select

    from tiepoint.db import ImageRow, KeypointSet

    with db.session() as s:
        rows = s.execute(
            select(ImageRow.name, ImageRow.path, ImageRow.footprint, KeypointSet.count)
            .outerjoin(KeypointSet, KeypointSet.image_id == ImageRow.id)
            .order_by(ImageRow.name)
        ).all()
    pairs = db.overlapping_pairs() if overlaps and len(rows) > 1 else []
    if ax is not None or not panels:
        groups = {"": rows}
    else:
        groups = {}
        for row in rows:
            groups.setdefault(panels.get(row.name, "other"), []).append(row)
        groups = dict(sorted(groups.items()))
    if ax is None:
        fig, axes = _new_figure(len(groups))
    else:
        fig, axes = ax.figure, [ax]
    colors = [f"C{k}" for k in range(10)]
    name_of = {row.path: row.name for row in rows}
    for axis, (group, members) in zip(axes, groups.items(), strict=True):
        names = {row.name for row in members}
        for k, row in enumerate(members):
            color = colors[k % len(colors)]
            count = "" if row.count is None else f" ({row.count:,} kp)"
            for i, poly in enumerate(_polygons(row.footprint)):
                x, y = poly.exterior.xy
                axis.fill(x, y, alpha=0.25, color=color)
                axis.plot(x, y, color=color, lw=1.2, label=f"{row.name}{count}" if i == 0 else None)
            if len(members) <= MAX_LABELS and row.footprint is not None and not row.footprint.is_empty:
                c = row.footprint.representative_point()
                axis.annotate(_short(row.name), (c.x, c.y), ha="center", va="center", fontsize=8, color=color)
        for path_a, path_b, geom in pairs:
            if name_of.get(path_a) in names and name_of.get(path_b) in names:
                for poly in _polygons(geom):
                    x, y = poly.exterior.xy
                    axis.fill(x, y, fill=False, hatch="//", lw=0, edgecolor="0.3")
        lats = [row.footprint.centroid.y for row in members if row.footprint is not None]
        lat = float(np.mean(lats)) if lats else 0.0
        axis.set_aspect(1.0 / max(np.cos(np.radians(lat)), 0.05), adjustable="datalim")
        axis.set_xlabel("longitude (degrees east)")
        axis.set_ylabel("planetocentric latitude (degrees)")
        hatched = ", hatched: overlaps" if pairs else ""
        axis.set_title(f"{group + ': ' if group else ''}{len(members)} images ({db.body.name}{hatched})")
        axis.grid(alpha=0.3, lw=0.5)
        if 0 < len(members) <= MAX_LABELS:
            axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    if title:
        fig.suptitle(title)
    return fig


MAX_PANELS = 4
"""Groups of overlapping images drawn as separate map panels by :func:`network`, at most."""
ARROW_FRACTION = 0.25
"""The longest ground-offset arrow spans this fraction of its panel (offsets are exaggerated)."""


def _groups(db: Database) -> list[np.ndarray]:
    """Image ids of each group of overlapping images (connected in the pairs graph), largest first."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    ids = np.array([r[0] for r in db.execute_sql("SELECT id FROM images ORDER BY id")], dtype=np.int64)
    pairs = np.array(db.execute_sql("SELECT image_a, image_b FROM pairs"), dtype=np.int64).reshape(-1, 2)
    if not len(ids):
        return []
    ends = np.searchsorted(ids, pairs)
    n = len(ids)
    graph = sp.coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    uniq, sizes = np.unique(labels, return_counts=True)
    return [ids[labels == u] for u in uniq[np.argsort(-sizes, kind="stable")]]


def _bounds(db: Database, image_ids: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the footprints of *image_ids*."""
    import shapely
    from sqlalchemy import select

    from tiepoint.db import ImageRow

    with db.session() as s:
        geoms = s.scalars(select(ImageRow.footprint).where(ImageRow.id.in_(image_ids.tolist()))).all()
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray([g for g in geoms if g is not None], dtype=object))
    return float(x0), float(y0), float(x1), float(y1)


def _offset_arrows(db: Database) -> np.ndarray:
    """(K, 5): lon, lat of each matched pair's overlap centre, east and north ground offset b - a (m),
    and its length (m)."""
    from sqlalchemy import select

    from tiepoint.db import PairRow

    with db.session() as s:
        rows = s.execute(
            select(PairRow.overlap, PairRow.offset_x_m, PairRow.offset_y_m, PairRow.offset_z_m).where(
                PairRow.offset_x_m.is_not(None)
            )
        ).all()
    out = []
    for geom, ox, oy, oz in rows:
        c = geom.centroid
        lon, lat = np.radians(c.x), np.radians(c.y)
        east = np.array([-np.sin(lon), np.cos(lon), 0.0])
        north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
        v = np.array([ox, oy, oz], dtype=float)
        out.append((c.x, c.y, v @ east, v @ north, np.linalg.norm(v)))
    return np.array(out, dtype=float).reshape(-1, 5)


def network(
    db: Database,
    ax: Axes | None = None,
    *,
    report: Any = None,
    arrows: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw the control network over the footprints: points coloured by depth, ignored points
    greyed, each matched pair's ground offset (the relative pointing error) as an arrow; with the
    depth, registration shift and correlation histograms.

    Parameters
    ----------
    db : Database
    ax : matplotlib Axes, optional
        Draw only the map, into this axes; default: a new figure with one map panel per group of
        overlapping images (at most :data:`MAX_PANELS`) and the histograms below.
    report : NetworkReport, optional
        Reused for the histograms (default: computed with :func:`tiepoint.network.network_report`).
    arrows : bool
        Draw the pairs' ground offsets (exaggerated; the scale is in the key).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Shown inline as the value of a notebook cell; save it with :func:`save`.
    """
    from tiepoint.network.report import network_report

    if report is None:
        report = network_report(db)
    table = db.network_table(("ignore",), ("ignore", "status", "ncc", "shift_x", "shift_y"))
    p, m = table.points, table.measures
    row = table.point_index()
    good = ~m["ignore"] & ~p["ignore"][row] if len(row) else np.zeros(0, bool)
    depth = np.bincount(row[good], minlength=table.n_points)
    groups = _groups(db)
    if ax is not None:
        fig, maps, hist = ax.figure, [ax], None
        groups = [np.concatenate(groups)] if groups else []
    else:
        n = max(1, min(len(groups), MAX_PANELS))
        if len(groups) > MAX_PANELS:
            groups = [np.concatenate(groups)]
            n = 1
        fig = _figure_class()(figsize=(6.5 * max(n, 2), 10.0), layout="constrained")
        grid = fig.add_gridspec(2, 3 * n, height_ratios=[2.4, 1.0])
        maps = [fig.add_subplot(grid[0, 3 * k : 3 * k + 3]) for k in range(n)]
        width = 3 * n // 3
        hist = [fig.add_subplot(grid[1, k * width : (k + 1) * width]) for k in range(3)]
    offsets = _offset_arrows(db) if arrows else np.empty((0, 5))
    for k, axis in enumerate(maps):
        footprints(db, ax=axis)
        if groups:
            x0, y0, x1, y1 = _bounds(db, groups[k])
            pad = 0.08 * max(x1 - x0, y1 - y0, 1e-6)
            axis.set_aspect(axis.get_aspect(), adjustable="box")  # the panel's limits, not the data's
            axis.set_xlim(x0 - pad, x1 + pad)
            axis.set_ylim(y0 - pad, y1 + pad)
        lon, lat = p["lon"], p["lat"]
        shown = np.isfinite(lon) & np.isfinite(lat)
        bad = shown & p["ignore"]
        axis.scatter(lon[bad], lat[bad], s=4, marker="x", c="0.55", lw=0.6, label=f"ignored ({bad.sum():,})")
        ok = shown & ~p["ignore"]
        if ok.any():
            art = axis.scatter(lon[ok], lat[ok], s=5, c=depth[ok], cmap="viridis", vmin=2,
                               vmax=max(3, int(depth.max())), label=f"points ({ok.sum():,})")  # fmt: skip
            fig.colorbar(art, ax=axis, shrink=0.6, label="depth (good measures per point)")
        x0, x1 = axis.get_xlim()
        y0, y1 = axis.get_ylim()
        inside = (offsets[:, 0] >= x0) & (offsets[:, 0] <= x1) & (offsets[:, 1] >= y0) & (offsets[:, 1] <= y1)
        if inside.any():
            here = offsets[inside]
            longest = float(here[:, 4].max())
            if longest > 0:
                lat0 = np.radians(np.mean(axis.get_ylim()))
                deg_per_m = 180.0 / (np.pi * db.body.semimajor)
                gain = ARROW_FRACTION * (x1 - x0) / (longest * deg_per_m)
                u = here[:, 2] * deg_per_m / max(np.cos(lat0), 0.05) * gain
                v = here[:, 3] * deg_per_m * gain
                q = axis.quiver(here[:, 0], here[:, 1], u, v, angles="xy", scale_units="xy", scale=1.0,
                                color="C3", width=0.005, zorder=5)  # fmt: skip
                axis.quiverkey(q, 0.82, 0.04, longest * deg_per_m * gain, f"pair offset {longest:,.0f} m",
                               coordinates="axes", color="C3")  # fmt: skip
        axis.set_title(
            f"{report.good_points:,} points, {len(report.components)} component(s), "
            f"{len(report.weak_images)} image(s) < {report.min_points} points"
        )
    if hist is not None:
        d = sorted(report.depth.items())
        hist[0].bar([k for k, _ in d], [v for _, v in d], color="C0", width=0.8)
        hist[0].xaxis.get_major_locator().set_params(integer=True)
        hist[0].set_xlabel("depth (good measures per point)")
        hist[0].set_ylabel("points")
        reg = m["status"] == "ok"
        shift = np.hypot(m["shift_x"][reg], m["shift_y"][reg])
        hist[1].hist(shift[np.isfinite(shift)], bins=40, color="C1")
        hist[1].set_xlabel("registration shift from the a-priori position (px)")
        hist[2].hist(m["ncc"][reg][np.isfinite(m["ncc"][reg])], bins=40, color="C2")
        hist[2].set_xlabel("correlation peak of registered measures")
        for h in hist:
            h.grid(alpha=0.3, lw=0.5)
    if title:
        fig.suptitle(title)
    return fig


def save(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write *fig* to *path* (format from the extension), creating its folder; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


__all__ = ["ARROW_FRACTION", "MAX_PANELS", "footprints", "network", "save"]
