"""Maps of what the database holds, as matplotlib figures (shown inline in Jupyter, saved by the CLI).

Public API::

    footprints(db, ax=None, *, panels=None, overlaps=True, title=None) -> matplotlib.figure.Figure
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


def save(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write *fig* to *path* (format from the extension), creating its folder; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


__all__ = ["footprints", "save"]
