"""The network stage end to end on real components: synthetic CTX groups with a 300 m pointing error
(truth cameras known), ingested and matched on a LocalCluster, then points, dispatched registration and
the report, on a GeoPackage and on PostGIS; quality against the renderer's truth."""

from __future__ import annotations

import numpy as np
from netstage_data import FULL, GROUPS, NAMES, config, copy_images, ingest_and_match

from tiepoint import network
from tiepoint.db import Database
from tiepoint.features import read_positions
from tiepoint.synthetic.truth import measure_errors


def _db(cfg: dict) -> Database:
    return Database(cfg["database"]["url"])


def test_network_quality_against_the_truth(matched, net_client):
    cfg, _ = matched
    result = network.build(cfg, client=net_client, timeout=600)
    assert result.ok, str(result)
    report = result.report
    db = _db(cfg)
    try:
        # registration: against the true correspondence of each point's reference measure
        errors = measure_errors(db)
        err = errors.registered[errors.status == "ok"]
        assert len(err) >= 1000
        rms = errors.rms()
        print(f"registered {len(err)}: RMS {rms:.3f} px, > 1 px {errors.worse_than(1.0):.4f}, a-priori RMS "
              f"{errors.rms('apriori'):.3f} px")  # fmt: skip
        assert rms <= 0.2
        assert errors.worse_than(1.0) < 0.01
        assert errors.rms("apriori") > rms  # registration improved on the keypoints
        # no duplicates: the unique constraints and a count that does not rely on them
        dup = db.execute_sql(
            "SELECT (SELECT count(*) FROM measures), "
            "(SELECT count(*) FROM (SELECT DISTINCT image_id, keypoint FROM measures) k), "
            "(SELECT count(*) FROM (SELECT DISTINCT point_id, image_id FROM measures) p)"
        )[0]
        assert dup[0] == dup[1] == dup[2]
        # every overlapping image with >= 3 good points, one component per group of overlapping images
        assert report.weak_images == []
        assert {im.name for im in report.images} == set(NAMES)
        assert len(report.groups) == 2 and report.connected
        assert sorted(sorted(c) for c in report.components) == sorted(sorted(g) for g in GROUPS.values())
        # every point's reference measure is one of its own, not ignored; good points have >= 2 good measures
        bad = db.execute_sql(
            "SELECT count(*) FROM points p LEFT JOIN measures r ON r.id = p.reference_measure_id "
            "WHERE r.id IS NULL OR r.point_id <> p.id OR r.status <> 'reference' OR r.ignore"
        )[0][0]
        assert bad == 0
        few = db.execute_sql(
            "SELECT count(*) FROM points p WHERE NOT p.ignore AND "
            "(SELECT count(*) FROM measures m WHERE m.point_id = p.id AND NOT m.ignore) < 2"
        )[0][0]
        assert few == 0
    finally:
        db.close()


def test_measures_keep_their_keypoint_positions_and_failures_are_ignored(matched, net_client):
    cfg, _ = matched
    network.build(cfg, client=net_client, timeout=600)
    db = _db(cfg)
    try:
        table = db.network_table(
            ("ignore", "ignore_reason", "depth"),
            ("image_id", "keypoint", "x", "y", "apriori_x", "apriori_y", "status", "ignore", "ignore_reason"),
        )
        m, p = table.measures, table.points
        files = dict(db.execute_sql("SELECT image_id, path FROM keypoints"))
        for image_id, path in files.items():  # one keypoint file per image
            xs, ys, _ = read_positions(path)
            sel = m["image_id"] == image_id
            np.testing.assert_array_equal(m["apriori_x"][sel], xs[m["keypoint"][sel]])
            np.testing.assert_array_equal(m["apriori_y"][sel], ys[m["keypoint"][sel]])
        failed = ~np.isin(m["status"], ["ok", "reference", "pending"])
        assert failed.any() and (m["status"] == "ok").any()
        assert m["ignore"][failed].all() and (m["ignore_reason"][failed] == m["status"][failed]).all()
        np.testing.assert_array_equal(m["x"][failed], m["apriori_x"][failed])
        np.testing.assert_array_equal(m["y"][failed], m["apriori_y"][failed])
        assert not m["ignore"][m["status"] == "ok"].any()
        # points left with fewer than 2 good measures are ignored, not deleted
        good = np.bincount(table.point_index()[~m["ignore"]], minlength=table.n_points)
        np.testing.assert_array_equal(p["ignore"], good < 2)
        np.testing.assert_array_equal(p["depth"], np.bincount(table.point_index(), minlength=table.n_points))
        assert p["ignore"].any()
    finally:
        db.close()


def _rows(db: Database) -> tuple[dict, dict]:
    points = db.execute_sql(
        "SELECT id, point_id, apriori_x, apriori_y, apriori_z, reference_measure_id FROM points"
    )
    measures = db.execute_sql(
        "SELECT id, point_id, image_id, keypoint, x, y, apriori_x, apriori_y FROM measures"
    )
    return {r[0]: tuple(r) for r in points}, {r[0]: tuple(r) for r in measures}


def test_adding_images_adds_points_without_touching_the_others(tmp_path, ctx_groups, db_url, net_client):
    first = [GROUPS["equator"][0], GROUPS["equator"][1], GROUPS["north"][0], GROUPS["north"][2]]
    folder = copy_images(ctx_groups, tmp_path / "images", NAMES)
    cfg = config(db_url)
    ingest_and_match(cfg, folder, net_client, first)
    network.build(cfg, subpixel=False)
    db = _db(cfg)
    try:
        before_points, before_measures = _rows(db)
        ingest_and_match(cfg, folder, net_client)  # K12 and the full image join: their pairs are matched
        result = network.build(cfg, subpixel=False)
        assert result.points.pairs == 2 and result.points.new_points > 100
        after_points, after_measures = _rows(db)
        assert all(after_points[k] == v for k, v in before_points.items())
        assert all(after_measures[k] == v for k, v in before_measures.items())
        assert len(after_points) == len(before_points) + result.points.new_points
        assert (
            len(after_measures)
            == len(before_measures) + result.points.new_measures + result.points.added_measures
        )
        again = network.build(cfg, subpixel=False)  # nothing new: nothing changes
        assert again.points.pairs == 0 and again.report.points == len(after_points)
        names = {im.name for im in result.report.images}
        assert {FULL, GROUPS["north"][1]} <= names
    finally:
        db.close()


def test_no_subpixel_leaves_measures_pending_for_a_later_run(matched, net_client):
    cfg, _ = matched
    off = network.build(cfg, subpixel=False)
    assert off.registration.skipped and off.report.registration.registered == 0
    assert off.report.registration.pending == off.report.measures - off.report.points
    disabled = network.build({**cfg, "network": {"registration": {"enabled": False}}})
    assert (
        disabled.registration.skipped
        and disabled.report.registration.pending == off.report.registration.pending
    )
    db = _db(cfg)
    try:
        waiting = db.execute_sql("SELECT count(DISTINCT image_id) FROM measures WHERE status = 'pending'")[0][
            0
        ]
    finally:
        db.close()
    on = network.build(cfg, client=net_client, timeout=600)
    assert waiting >= 3 and on.registration.queued == waiting and on.report.registration.pending == 0
    assert on.report.registration.registered > 0.6 * off.report.registration.pending
    html = on._repr_html_()  # what a notebook shows
    assert "Network build ok" in html and "Control network" in html and f"{on.report.good_points:,}" in html
    again = network.build(cfg, client=net_client, force_registration=True, timeout=600)
    assert again.registration.queued == waiting
    assert again.report.registration.statuses == on.report.registration.statuses  # same input, same result


def test_an_unreadable_match_file_is_reported_and_retried(matched, net_client):
    cfg, _ = matched
    db = _db(cfg)
    try:
        path = db.execute_sql("SELECT path FROM pairs WHERE status = 'matched' ORDER BY key")[0][0]
    finally:
        db.close()
    saved = open(path, "rb").read()  # noqa: SIM115
    with open(path, "wb") as f:
        f.write(b"not HDF5")
    result = network.build(cfg, subpixel=False)
    assert not result.ok and len(result.points.failed_pairs) == 1 and path in result.points.failed_pairs[0][1]
    with open(path, "wb") as f:
        f.write(saved)
    result = network.build(cfg, subpixel=False)
    assert result.ok and result.points.pairs == 1 and result.points.new_points > 0


def test_a_registration_job_on_an_unreadable_image_fails_naming_it(matched, net_client):
    cfg, folder = matched
    network.build(cfg, subpixel=False)
    victim = folder / f"{GROUPS['north'][1]}.cub"  # K12: its jobs, and N12's where K12 is a reference
    data = victim.read_bytes()
    victim.write_bytes(data[:2000])  # a truncated cube
    result = network.build(cfg, client=net_client, timeout=600)
    db = _db(cfg)
    try:
        failed = set(result.registration.failed)
        assert failed, str(result)
        from tiepoint.dispatch.ledger import Ledger

        ledger = Ledger(db)
        for key in failed:
            attempts = ledger.attempts("register", key)
            assert len(attempts) == 2 and attempts[-1]["state"] == "failed"  # maxfailures 2
            assert str(victim.name) in attempts[-1]["error"]
    finally:
        db.close()
