"""Exporting the network from the database and importing a jigsaw network back, checked against the
database, tiepoint's reader and the official ISIS .proto definitions (through the protobuf runtime);
and the ``tiepoint network``, ``export`` and ``import`` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cnet"))

from cnet_proto import decode_file, messages
from netstage_data import NAMES, config, copy_images, ingest_and_match

from tiepoint import cnet, network
from tiepoint.cli.main import app
from tiepoint.db import Database

MEASURE_TYPE = {"Candidate": 0, "Manual": 1, "RegisteredPixel": 2, "RegisteredSubPixel": 3}


@pytest.fixture
def built(matched, net_client) -> tuple[dict, Path]:
    cfg, folder = matched
    assert network.build(cfg, client=net_client, timeout=600).ok
    return cfg, folder


def _expected(db: Database, include_ignored: bool) -> dict[str, list[tuple]]:
    """Per point id: its measures (path, x, y, apriori_x, apriori_y, type, ignore, is reference), from
    SQL, ordered as the export orders them (by image id)."""
    where = "" if include_ignored else "WHERE NOT p.ignore AND NOT m.ignore"
    rows = db.execute_sql(
        "SELECT p.point_id, i.path, m.x, m.y, m.apriori_x, m.apriori_y, m.type, m.ignore, "
        "m.id = p.reference_measure_id FROM measures m JOIN points p ON p.id = m.point_id "
        f"JOIN images i ON i.id = m.image_id {where} ORDER BY p.id, m.image_id"
    )
    out: dict[str, list[tuple]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(tuple(r[1:]))
    return {k: v for k, v in out.items() if include_ignored or len(v) >= 2}


@pytest.mark.parametrize("version", [5, 2])
def test_export_matches_the_database_and_the_official_proto(built, tmp_path, version):
    cfg, _ = built
    db = Database(cfg["database"]["url"])
    try:
        out = tmp_path / "net.net"
        files = network.export_network(db, out, version=version)
        serial_path = {s: p for _, (s, p) in network.exchange.image_serials(db).items()}
        expected = _expected(db, include_ignored=False)
        n_db_points = db.execute_sql("SELECT count(*) FROM points")[0][0]
    finally:
        db.close()
    assert files == [out, out.with_suffix(".lis")]
    lis = out.with_suffix(".lis").read_text().splitlines()
    assert sorted(lis) == sorted({m[0] for ms in expected.values() for m in ms})
    net = cnet.read(out)
    assert net.n_points == len(expected) < n_db_points  # ignored points are left out
    assert net.header.target_name == "Mars"
    for point in net.points:
        want = expected[point.id]
        got = point.measures
        assert [serial_path[m.serial] for m in got] == [w[0] for w in want]
        for m, w in zip(got, want, strict=True):
            assert m.sample == w[1] + 1 and m.line == w[2] + 1  # x_opencv + 1 == sample, exactly
            assert m.apriori_sample == w[3] + 1 and m.apriori_line == w[4] + 1
            assert m.type == MEASURE_TYPE[w[5]] and m.ignore is None and m.chooser_name == "tiepoint"
        assert [w[7] for w in want].index(True) == point.reference_index
    # the official .proto, through the protobuf runtime, reads the same file
    header, points = decode_file(out.read_bytes(), messages(str(tmp_path)))
    assert len(points) == net.n_points
    assert header.networkId == "tiepoint" and header.targetName == "Mars"  # (ISIS leaves numPoints unset)
    for message in points:
        want = expected[message.id]
        assert [serial_path[m.serialnumber] for m in message.measures] == [w[0] for w in want]
        assert [m.sample for m in message.measures] == [w[1] + 1 for w in want]
        assert [m.line for m in message.measures] == [w[2] + 1 for w in want]
        assert [w[7] for w in want].index(True) == message.referenceIndex
        assert not message.ignore and all(not m.ignore for m in message.measures)
        registered = [m for m in message.measures if m.type == MEASURE_TYPE["RegisteredSubPixel"]]
        for m in registered:  # correlation and shift logged
            assert {log.doubleDataType for log in m.log} == {5, 7}


def test_export_with_ignored_and_to_asp(built, tmp_path):
    cfg, _ = built
    db = Database(cfg["database"]["url"])
    try:
        network.export_network(db, tmp_path / "all.net", include_ignored=True)
        expected = _expected(db, include_ignored=True)
        asp = network.export_network(db, tmp_path / "asp" / "run", format="asp")
        good = _expected(db, include_ignored=False)
        paths = dict(db.execute_sql("SELECT id, path FROM images"))
    finally:
        db.close()
    net = cnet.read(tmp_path / "all.net")
    assert net.n_points == len(expected)
    flags = {p.id: [m.ignore or False for m in p.measures] for p in net.points}
    assert flags == {k: [bool(m[6]) for m in v] for k, v in expected.items()}
    for point in net.points:  # the reference is one of the point's measures, in range
        assert 0 <= point.reference_index < len(point.measures)
    # ASP: one .match file per pair of images sharing good points, positions as in the database
    pairs: dict[tuple[str, str], list[tuple]] = {}
    for ms in good.values():
        for i in range(len(ms)):
            for j in range(i + 1, len(ms)):
                a, b = sorted([ms[i], ms[j]], key=lambda m: m[0])
                pairs.setdefault((Path(a[0]).stem, Path(b[0]).stem), []).append((a[1], a[2], b[1], b[2]))
    assert len(asp) == len(pairs) and set(paths)
    for path in asp:
        match = cnet.read_match(path)
        stems = path.name[len("run-") : -len(".match")].split("__")
        want = np.array(sorted(pairs[(stems[0], stems[1])]), dtype=np.float32)
        got = np.array(sorted(zip(match.x1, match.y1, match.x2, match.y2, strict=True)), dtype=np.float32)
        np.testing.assert_array_equal(got, want)


def test_import_of_a_jigsaw_network(built, tmp_path):
    cfg, _ = built
    db = Database(cfg["database"]["url"])
    try:
        out = tmp_path / "net.net"
        network.export_network(db, out)
        net = cnet.read(out)
        # what jigsaw would write: adjusted points, a rejected point, an ignored measure
        rng = np.random.default_rng(0)
        cols = net._points
        shift = rng.normal(0, 50.0, (net.n_points, 3))
        cols["adjusted_x"] = cols["apriori_x"] + shift[:, 0]
        cols["adjusted_y"] = cols["apriori_y"] + shift[:, 1]
        cols["adjusted_z"] = cols["apriori_z"] + shift[:, 2]
        cols["jigsaw_rejected"][0] = 1
        point1 = net.points[1]
        net._measures["ignore"][net.point_offsets[1]] = 1
        net._measures["sample_residual"][:] = 0.25
        adjusted = cnet.write(net, tmp_path / "adjusted.net")
        summary = network.import_network(db, adjusted)
        assert (summary.points, summary.matched, summary.unknown) == (net.n_points, net.n_points, 0)
        assert summary.adjusted == net.n_points and summary.ignored_points == 1
        assert summary.measures == net.n_measures and summary.ignored_measures == 1
        rows = db.execute_sql(
            "SELECT point_id, adjusted_x, adjusted_y, adjusted_z, ignore, ignore_reason FROM points "
            "WHERE adjusted_x IS NOT NULL ORDER BY point_id"
        )
        got = {r[0]: r[1:] for r in rows}
        for i, pid in enumerate(net.points.id):
            np.testing.assert_allclose(got[pid][:3], [cols["adjusted_x"][i], cols["adjusted_y"][i],
                                                      cols["adjusted_z"][i]])  # fmt: skip
        assert got[net.points.id[0]][3:] == (True, network.exchange.REJECTED)
        # the point with an ignored measure kept one good measure only if it had two: ignored then
        depth1 = len(point1.measures)
        assert got[point1.id][3] == (depth1 - 1 < 2)
        # the map position moved to the adjusted point (independent lon/lat)
        table = db.network_table(("point_id", "adjusted_x", "adjusted_y", "adjusted_z"), ())
        sel = np.isfinite(table.points["adjusted_x"])
        x, y, z = (table.points[k][sel] for k in ("adjusted_x", "adjusted_y", "adjusted_z"))
        np.testing.assert_allclose(table.points["lon"][sel], np.degrees(np.arctan2(y, x)) % 360, atol=1e-9)
        np.testing.assert_allclose(
            table.points["lat"][sel], np.degrees(np.arctan2(z, np.hypot(x, y))), atol=1e-9
        )
        residual = db.execute_sql("SELECT count(*) FROM measures WHERE sample_residual = 0.25")[0][0]
        assert residual == net.n_measures
        # importing the original (not ignored) network again restores what this import ignored
        network.import_network(db, out)
        assert (
            db.execute_sql(
                "SELECT count(*) FROM measures WHERE ignore_reason = :r",
                {"r": network.exchange.IMPORTED_IGNORE},
            )[0][0]
            == 0
        )
    finally:
        db.close()


def test_cli_network_export_import(tmp_path, ctx_groups, net_client):
    folder = copy_images(ctx_groups, tmp_path / "images", NAMES)
    cfg = config(f"sqlite:///{tmp_path / 'cli.gpkg'}")
    ingest_and_match(cfg, folder, net_client)
    path = tmp_path / "tiepoint.yml"
    path.write_text(yaml.safe_dump(cfg))
    runner = CliRunner()
    result = runner.invoke(app, ["network", "--no-subpixel", "-c", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "registration: not run (--no-subpixel)" in result.output and "pending" in result.output
    result = runner.invoke(app, ["network", "--png", str(tmp_path / "map.png"), "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert "every image has at least 3 good points" in result.output
    assert "each group is one component" in result.output
    assert (tmp_path / "map.png").stat().st_size > 10_000
    result = runner.invoke(app, ["status", "--kind", "register", "-c", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "succeeded" in result.output, result.output
    out = tmp_path / "export" / "net.net"
    result = runner.invoke(app, ["export", str(out), "--version", "2", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert cnet.read(out).n_points > 1000 and out.with_suffix(".lis").is_file()
    result = runner.invoke(app, ["export", str(tmp_path / "asp" / "run"), "--format", "asp", "-c", str(path)])
    assert result.exit_code == 0 and ".match" in result.output, result.output
    result = runner.invoke(app, ["export", str(out), "--version", "3", "-c", str(path)])
    assert result.exit_code == 2
    result = runner.invoke(app, ["import", str(out), "-c", str(path)])
    assert result.exit_code == 0 and "points matched by id (0 unknown)" in result.output, result.output
    result = runner.invoke(app, ["import", str(tmp_path / "missing.net"), "-c", str(path)])
    assert result.exit_code == 1 and "missing.net" in result.output
