"""The network report on a network whose answers are known by construction: a group of overlapping
images split in two (an image without points), weak images, depth, density, registration statistics;
and the network map."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "db"))

from dbtest_network import empty_pairs, network_rows
from dbtest_records import make_record

from tiepoint import plot
from tiepoint.db import Database
from tiepoint.network import network_report


def _setup(db: Database) -> dict[str, int]:
    boxes = {
        "A": box(10.0, 0.0, 11.0, 1.0),
        "B": box(10.5, 0.0, 11.5, 1.0),
        "C": box(11.2, 0.0, 12.2, 1.0),  # overlaps B only
        "D": box(50.0, 0.0, 51.0, 1.0),
        "E": box(50.5, 0.0, 51.5, 1.0),
    }
    ids = db.write_images([make_record(f"/data/{k}.cub", g, name=k) for k, g in boxes.items()])
    db.update_overlaps()
    return dict(zip(boxes, ids, strict=True))


def test_report_counts_components_weak_images_and_density(db_url):
    with Database(db_url) as db:
        i = _setup(db)
        a, b, d, e = i["A"], i["B"], i["D"], i["E"]
        points = [[(a, k), (b, k)] for k in range(5)] + [[(d, k), (e, k)] for k in range(2)]
        db.write_network(network_rows(points), empty_pairs())
        # one A-B point loses a measure (ignored: the point is too); some measures registered
        db.execute_sql("UPDATE measures SET ignore = true, ignore_reason = 'low_ncc', status = 'low_ncc' "
                       "WHERE image_id = :b AND keypoint = 4", {"b": b})  # fmt: skip
        shifts = [(0, 0.3, 0.4, 0.9), (1, 0.6, 0.8, 0.7), (2, 0.0, 0.1, 0.8)]
        for k, dx, dy, ncc in shifts:
            sql = "UPDATE measures SET status = 'ok', shift_x = :dx, shift_y = :dy, ncc = :ncc "
            sql += "WHERE image_id = :b AND keypoint = :k"
            db.execute_sql(sql, {"b": b, "k": k, "dx": dx, "dy": dy, "ncc": ncc})
        db.refresh_points()
        report = network_report(db)
        areas = {(r[0], r[1]): r[2] for r in db.execute_sql(
            "SELECT a.name, b.name, p.area_km2 FROM pairs p JOIN images a ON a.id = p.image_a "
            "JOIN images b ON b.id = p.image_b")}  # fmt: skip
    assert (report.points, report.good_points, report.measures, report.good_measures) == (7, 6, 14, 12)
    assert report.depth == {2: 6}
    assert report.ignore_reasons == {"fewer than 2 good measures": 1}
    assert sorted(sorted(c) for c in report.components) == [["A", "B"], ["C"], ["D", "E"]]
    assert sorted(len(g) for g in report.groups) == [1, 2] and not report.connected
    assert sorted(im.name for im in report.weak_images) == ["C", "D", "E"]
    counts = {im.name: im.points for im in report.images}
    assert counts == {"A": 4, "B": 4, "C": 0, "D": 2, "E": 2}
    density = {(p.image_a, p.image_b): (p.points, p.density_per_km2) for p in report.pairs}
    assert density[("A", "B")] == (4, 4 / areas[("A", "B")])
    assert density[("B", "C")][0] == 0 and density[("D", "E")][0] == 2
    shift = np.hypot([0.3, 0.6, 0.0], [0.4, 0.8, 0.1])
    assert report.registration.statuses == {"ok": 3, "low_ncc": 1, "pending": 3, "reference": 7}
    assert report.registration.shift_px["median"] == np.median(shift)
    assert report.registration.shift_px["max"] == shift.max()
    assert report.registration.ncc["min"] == 0.7
    text = str(report)
    assert "1 group(s) split into several components" in text and "C: 0 points" in text
    html = report._repr_html_()
    assert "some groups are split" in html and '<td style="text-align:left">C</td>' in html


def test_network_map_draws_points_by_depth(db_url, tmp_path):
    with Database(db_url) as db:
        i = _setup(db)
        db.write_network(network_rows([[(i["A"], k), (i["B"], k)] for k in range(4)]), empty_pairs())
        fig = plot.network(db)
        path = plot.save(fig, tmp_path / "map.png")
        maps = [ax for ax in fig.axes if ax.get_xlabel().startswith("longitude")]
        assert len(maps) == 2  # two groups of overlapping images, two panels
        (drawn,) = [c.get_offsets() for c in maps[0].collections if c.get_label().startswith("points")]
        np.testing.assert_allclose(np.sort(drawn[:, 0]), np.linspace(10.1, 10.9, 4))
        x0, x1 = maps[0].get_xlim()
        assert x0 < 10.0 and 12.2 < x1 < 50.0  # the first panel shows the group of A, B and C
    assert path.stat().st_size > 10_000
