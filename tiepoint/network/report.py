"""The network report: is the control network usable, before a day in jigsaw or bundle_adjust?

:func:`network_report` reads the ``points``, ``measures``, ``images`` and ``pairs`` tables once and
computes, with column arrays:

- points and measures (good ones: not ignored, and a measure of an ignored point is not good);
- the depth histogram: good points by their number of good measures;
- the connected components of the image graph (two images are joined by a good point measured in
  both): a disconnected network is the commonest silent failure of a bundle adjustment;
- per image, its good points; images with fewer than :data:`MIN_POINTS` are flagged, never dropped
  (images with overlaps but no point at all included);
- per overlapping pair, its good points, their density over the overlap (per km^2) and the pair's
  ground offset (the pointing error between the two images, from matching);
- registration: measures per status, shift and correlation statistics of the registered ones.

``str(report)`` is the text ``tiepoint network`` prints; in Jupyter a report shows itself as HTML.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from tiepoint.db import Database

MIN_POINTS = 3
"""Images with fewer good points than this are flagged (a bundle adjustment cannot hold them)."""


@dataclass(frozen=True, slots=True)
class ImageReport:
    """One image in the network."""

    id: int
    name: str
    points: int
    """Good points with a good measure in this image."""
    measures: int
    """All its measures (ignored ones included)."""
    component: int
    """Index into :attr:`NetworkReport.components`; -1: in no good point."""


@dataclass(frozen=True, slots=True)
class PairReport:
    """One overlapping pair."""

    image_a: str
    image_b: str
    status: str
    """The pair's match status (``matched``, ``no_matches``, ``pending``, ``skipped``)."""
    area_km2: float
    points: int
    """Good points measured (well) in both images."""
    offset_m: float | None
    """Length of the pair's ground offset b - a (m) found by matching: the relative pointing error."""

    @property
    def density_per_km2(self) -> float:
        return self.points / self.area_km2 if self.area_km2 > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class RegistrationSummary:
    """Registration of the non-reference measures."""

    statuses: dict[str, int]
    """Measures per status (``pending``, ``reference``, ``ok``, ``low_ncc``, ...)."""
    shift_px: dict[str, float]
    """``median``, ``p90``, ``max`` of the registered measures' shifts from their a-priori positions."""
    ncc: dict[str, float]
    """``median``, ``p10``, ``min`` of their correlation peaks."""

    @property
    def registered(self) -> int:
        return self.statuses.get("ok", 0)

    @property
    def pending(self) -> int:
        return self.statuses.get("pending", 0)

    @property
    def failed(self) -> int:
        return sum(v for k, v in self.statuses.items() if k not in ("ok", "pending", "reference"))


@dataclass(frozen=True, slots=True)
class NetworkReport:
    """What :func:`network_report` found (see the module docstring)."""

    points: int
    good_points: int
    measures: int
    good_measures: int
    depth: dict[int, int]
    """Good points by number of good measures."""
    components: list[list[str]]
    """Image names of each connected component of the image graph (images joined by good points),
    largest first; an image in the network's pairs but in no good point is a component of its own."""
    groups: list[list[int]]
    """Each group of overlapping images (connected in the ``pairs`` graph): the indices of the
    components its images are in. One component per group is what a bundle adjustment needs."""
    images: list[ImageReport]
    pairs: list[PairReport]
    registration: RegistrationSummary
    min_points: int = MIN_POINTS
    ignore_reasons: dict[str, int] = field(default_factory=dict)
    """Ignored points per reason."""

    @property
    def weak_images(self) -> list[ImageReport]:
        """Images with fewer than :attr:`min_points` good points (flagged, not dropped)."""
        return [im for im in self.images if im.points < self.min_points]

    @property
    def connected(self) -> bool:
        """True if each group of overlapping images is one component of the image graph."""
        return all(len(g) <= 1 for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able values."""
        out = asdict(self)
        out["depth"] = {str(k): v for k, v in self.depth.items()}
        out["weak_images"] = [im.name for im in self.weak_images]
        return out

    def __str__(self) -> str:
        return "\n".join(report_lines(self))

    def _repr_html_(self) -> str:
        return report_html(self)


# ------------------------------------------------------------------------------------------ computing


def _stats(values: np.ndarray, names: dict[str, float]) -> dict[str, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return {}
    return {k: float(np.percentile(values, q)) for k, q in names.items()}


def _pair_counts(point: np.ndarray, image: np.ndarray, n_images: int) -> dict[tuple[int, int], int]:
    """Points shared by each image pair (image indices i < j), from good measures sorted by point."""
    if not len(point):
        return {}
    starts = np.flatnonzero(np.r_[True, point[1:] != point[:-1]])
    counts = np.diff(np.r_[starts, len(point)])
    keys = []
    for k in np.unique(counts[counts >= 2]):  # one vectorized step per depth
        first = starts[counts == k]
        block = image[first[:, None] + np.arange(k)]
        i, j = np.triu_indices(int(k), 1)
        a, b = block[:, i].ravel(), block[:, j].ravel()
        keys.append(np.minimum(a, b) * n_images + np.maximum(a, b))
    if not keys:
        return {}
    uniq, n = np.unique(np.concatenate(keys), return_counts=True)
    return {(int(u // n_images), int(u % n_images)): int(c) for u, c in zip(uniq, n, strict=True)}


def _labels(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label of each of *n* nodes of the graph with edges (a, b)."""
    graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def network_report(db: Database, min_points: int = MIN_POINTS) -> NetworkReport:
    """Read the network from *db* and summarize it (see the module docstring)."""
    table = db.network_table(
        ("ignore", "ignore_reason"), ("ignore", "status", "ncc", "shift_x", "shift_y"), lonlat=False
    )
    images = db.execute_sql("SELECT id, name FROM images ORDER BY id")
    image_ids = np.array([r[0] for r in images], dtype=np.int64)
    names = [r[1] for r in images]
    pairs = db.execute_sql(
        "SELECT image_a, image_b, status, area_km2, offset_x_m, offset_y_m, offset_z_m FROM pairs "
        "ORDER BY image_a, image_b"
    )
    p, m = table.points, table.measures
    n_img = len(image_ids)
    point_row = table.point_index()
    point_ok = ~p["ignore"]
    good = ~m["ignore"] & point_ok[point_row] if len(point_row) else np.zeros(0, bool)
    img = np.searchsorted(image_ids, m["image_id"])
    # depth of good points, counted in good measures
    good_count = np.bincount(point_row[good], minlength=len(point_ok))
    depth_values, depth_counts = np.unique(good_count[point_ok], return_counts=True)
    # per image: good points and all measures
    points_in = np.bincount(img[good], minlength=n_img)
    measures_in = np.bincount(img, minlength=n_img)
    # image graph: consecutive good measures of a point join their images; the overlap graph: pairs
    gp, gi = point_row[good], img[good]
    same = gp[1:] == gp[:-1]
    paired = np.zeros(n_img, bool)
    pa = pb = np.empty(0, np.int64)
    if pairs:
        ends = np.searchsorted(image_ids, np.array([(r[0], r[1]) for r in pairs], dtype=np.int64))
        pa, pb = ends[:, 0], ends[:, 1]
        paired[ends.ravel()] = True
    shown = np.flatnonzero((points_in > 0) | paired | (measures_in > 0))
    component = np.full(n_img, -1, np.int64)
    components: list[list[str]] = []
    groups: list[list[int]] = []
    if len(shown):
        labels = _labels(gi[:-1][same], gi[1:][same], n_img)[shown]
        uniq, sizes = np.unique(labels, return_counts=True)
        order = uniq[np.lexsort((uniq, -sizes))]
        rank = np.empty(labels.max() + 1, np.int64)
        rank[order] = np.arange(len(order))
        component[shown] = rank[labels]
        components = [[names[i] for i in shown[component[shown] == k]] for k in range(len(order))]
        overlap = _labels(pa, pb, n_img)[shown]
        for g in np.unique(overlap):
            members = shown[overlap == g]
            groups.append(sorted(set(component[members].tolist())))
    image_reports = [
        ImageReport(int(image_ids[i]), names[i], int(points_in[i]), int(measures_in[i]), int(component[i]))
        for i in shown
    ]
    shared = _pair_counts(gp, gi, n_img)
    pair_reports = []
    for ia, ib, status, area, ox, oy, oz in pairs:
        i, j = (int(v) for v in np.searchsorted(image_ids, [ia, ib]))
        offset = None if ox is None else float(np.linalg.norm([ox, oy, oz]))
        pair_reports.append(
            PairReport(names[i], names[j], status, float(area), shared.get((min(i, j), max(i, j)), 0), offset)
        )
    statuses, counts = np.unique(m["status"].astype(str), return_counts=True)
    ok = m["status"] == "ok"
    shift = np.hypot(m["shift_x"][ok], m["shift_y"][ok])
    registration = RegistrationSummary(
        {str(s): int(c) for s, c in zip(statuses, counts, strict=True)},
        _stats(shift, {"median": 50, "p90": 90, "max": 100}),
        _stats(m["ncc"][ok], {"median": 50, "p10": 10, "min": 0}),
    )
    reasons, rcounts = np.unique(p["ignore_reason"][p["ignore"]].astype(str), return_counts=True)
    return NetworkReport(
        points=table.n_points,
        good_points=int(point_ok.sum()),
        measures=table.n_measures,
        good_measures=int(good.sum()),
        depth={int(d): int(c) for d, c in zip(depth_values, depth_counts, strict=True)},
        components=components,
        groups=groups,
        images=image_reports,
        pairs=pair_reports,
        registration=registration,
        min_points=min_points,
        ignore_reasons={str(r): int(c) for r, c in zip(reasons, rcounts, strict=True)},
    )


# ------------------------------------------------------------------------------------------ text


def _fmt(stats: dict[str, float], unit: str = "") -> str:
    return ", ".join(f"{k} {v:.3g}{unit}" for k, v in stats.items()) or "none"


def report_lines(report: NetworkReport) -> list[str]:
    """The report as plain text lines."""
    r = report
    lines = [
        f"points: {r.good_points:,} good of {r.points:,}"
        + (
            f" (ignored: {', '.join(f'{n:,} {k}' for k, n in r.ignore_reasons.items())})"
            if r.ignore_reasons
            else ""
        ),
        f"measures: {r.good_measures:,} good of {r.measures:,}",
        "depth (good measures per good point): "
        + (", ".join(f"{d}: {n:,}" for d, n in sorted(r.depth.items())) or "none"),
    ]
    comps = r.components
    split = [g for g in r.groups if len(g) > 1]
    verdict = (
        "each group is one component"
        if not split
        else f"{len(split)} group(s) split into several components: a bundle adjustment cannot tie them"
    )
    lines.append(
        f"image graph: {len(comps)} connected component(s) for {len(r.groups)} group(s) of overlapping "
        f"images; {verdict}"
    )
    lines += [f"  {k + 1}: {len(c)} images: {', '.join(c[:6])}{' ...' if len(c) > 6 else ''}"
              for k, c in enumerate(comps)]  # fmt: skip
    weak = r.weak_images
    if weak:
        lines.append(f"images with fewer than {r.min_points} good points (flagged, not dropped): {len(weak)}")
        lines += [f"  {im.name}: {im.points} points, {im.measures} measures" for im in weak]
    else:
        lines.append(f"every image has at least {r.min_points} good points")
    if r.pairs:
        lines.append("overlaps: points, density, ground offset (pointing error between the two images):")
        for pr in r.pairs:
            offset = "" if pr.offset_m is None else f", offset {pr.offset_m:,.0f} m"
            lines.append(
                f"  {pr.image_a} & {pr.image_b}: {pr.points:,} points over {pr.area_km2:.3g} km^2 "
                f"({pr.density_per_km2:.3g}/km^2), {pr.status}{offset}"
            )
    reg = r.registration
    lines.append(
        "registration: " + ", ".join(f"{k} {v:,}" for k, v in sorted(reg.statuses.items())) + "; "
        f"shift px: {_fmt(reg.shift_px)}; ncc: {_fmt(reg.ncc)}"
    )
    return lines


# ------------------------------------------------------------------------------------------ HTML


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f'<th style="text-align:left">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:left">{escape(str(v))}</td>' for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report: NetworkReport) -> str:
    """The report as HTML (every value escaped), in the style of the job runners' reprs."""
    r = report
    reg = r.registration
    bad = "color:#c62828;font-weight:bold"
    comp_style = "" if r.connected else f' style="{bad}"'
    weak = r.weak_images
    rows = [
        ("Points", f"{r.good_points:,} good of {r.points:,}"),
        ("Measures", f"{r.good_measures:,} good of {r.measures:,}"),
        ("Depth", ", ".join(f"{d}: {n:,}" for d, n in sorted(r.depth.items())) or "none"),
        ("Registration", ", ".join(f"{k} {v:,}" for k, v in sorted(reg.statuses.items()))),
        ("Shift (px)", _fmt(reg.shift_px)),
        ("NCC", _fmt(reg.ncc)),
    ]
    settings = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{escape(k)}</th><td>{escape(v)}</td></tr>'
        for k, v in rows
    )
    comps = (
        f"<p{comp_style}>Image graph: {len(r.components)} connected component(s) for {len(r.groups)} "
        f"group(s) of overlapping images{'' if r.connected else ': some groups are split'}</p>"
    )
    comps += _table(["component", "images"], [[k + 1, ", ".join(c)] for k, c in enumerate(r.components)])
    if weak:
        weak_html = (
            f'<p style="{bad}">Images with fewer than {r.min_points} good points (flagged, not dropped): '
            f"{len(weak)}</p>"
            + _table(["image", "points", "measures"], [[im.name, im.points, im.measures] for im in weak])
        )
    else:
        weak_html = f"<p>Every image has at least {r.min_points} good points.</p>"
    pairs = _table(
        ["image a", "image b", "status", "km^2", "points", "per km^2", "offset m"],
        [
            [pr.image_a, pr.image_b, pr.status, f"{pr.area_km2:.3g}", pr.points, f"{pr.density_per_km2:.3g}",
             "" if pr.offset_m is None else f"{pr.offset_m:,.0f}"]
            for pr in r.pairs
        ],
    )  # fmt: skip
    return (
        '<div class="tiepoint-network">'
        '<div style="font-size:1.1em;font-weight:bold">Control network</div>'
        f'<table class="tiepoint-settings">{settings}</table>{comps}{weak_html}'
        f"<details><summary>Overlaps ({len(r.pairs)})</summary>{pairs}</details></div>"
    )


__all__ = [
    "MIN_POINTS",
    "ImageReport",
    "NetworkReport",
    "PairReport",
    "RegistrationSummary",
    "network_report",
]
