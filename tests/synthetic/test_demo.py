"""The demo end to end (small renders): real LocalCluster, real GeoPackage, real cubes, a real network
checked against the renderer's truth cameras and the official ISIS .proto definitions."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from typer.testing import CliRunner

from tiepoint import cnet
from tiepoint.camera import from_isd
from tiepoint.camera.discovery import find_camera
from tiepoint.cli.main import app
from tiepoint.demo import GROUPS
from tiepoint.pixels import from_isis_coords
from tiepoint.synthetic import true_correspondence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cnet"))

from cnet_proto import decode_file, messages

ARGS = ["--scale", "0.3", "--full-scale", "0.15", "--workers", "2"]


def _lonlat_outline(cube) -> shapely.Polygon:
    """The image outline on the ground, from its camera alone (independent of the footprint code)."""
    cam = find_camera(cube)
    t = np.linspace(0.0, 1.0, 9)[:-1]
    L, S = cam.image_lines, cam.image_samples
    lines = np.concatenate([0 * t, t * L, L + 0 * t, (1 - t) * L])
    samples = np.concatenate([t * S, S + 0 * t, (1 - t) * S, 0 * t])
    xyz = cam.image_to_ground(lines, samples)
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0])) % 360
    lat = np.degrees(np.arcsin(xyz[:, 2] / np.linalg.norm(xyz, axis=1)))
    return shapely.Polygon(np.column_stack([lon, lat]))


def _errors_from_the_file(net: cnet.ControlNetwork, cubes: dict[str, Path]) -> np.ndarray:
    """Pixel errors of every non-reference measure of an exported network, from the file alone: where
    the point's reference measure lands through the truth cameras (``<stem>.truth.json``)."""
    serial = np.asarray([str(s) for s in net.measures.serial])
    x, y = from_isis_coords(net.measures.sample, net.measures.line)
    ref = net.point_offsets[:-1] + net.points.reference_index
    ref_of = np.repeat(ref, np.diff(net.point_offsets))
    rows = np.flatnonzero(ref_of != np.arange(len(serial)))
    truth = {s: from_isd(str(cubes[s].with_suffix(".truth.json"))) for s in set(serial)}
    errors = np.empty(len(rows))
    for k, j in enumerate(rows):
        r = ref_of[j]
        xt, yt = true_correspondence(truth[serial[r]], truth[serial[j]], x[r : r + 1], y[r : r + 1])
        errors[k] = np.hypot(x[j] - xt[0], y[j] - yt[0])
    return errors


def test_demo_from_images_to_a_control_network(tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), *ARGS]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    names = {im["name"] for im in summary["images"]}
    assert names == {n for group in GROUPS.values() for n in group}
    assert summary["failed"] == [] and summary["pointing_error_m"] == 300
    assert all(im["keypoints"] > 0 and im["area_km2"] > 0 for im in summary["images"])
    for png in ("footprints.png", "network.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in names:
        assert name in result.output
    # the overlaps the database found are those of the camera outlines
    outlines = {n: _lonlat_outline(out / "images" / f"{n}.cub") for n in names}
    expected = {
        tuple(sorted((a, b)))
        for a, b in itertools.combinations(sorted(names), 2)
        if outlines[a].intersection(outlines[b]).area > 1e-8
    }
    found = {tuple(sorted((a, b))) for a, b, _, _ in summary["overlaps"]}
    assert found == expected and len(found) == 5
    assert ("B10_013615_2178_XI_37N117W.crop", "K12_058001_2177_XI_37N117W.crop") not in found

    # the network: no duplicates, one component per group, no weak image, sub-pixel against the truth
    net_summary = summary["network"]
    assert net_summary["duplicates"] == 0 and net_summary["weak_images"] == []
    assert net_summary["components"] == net_summary["groups"] == 2
    assert net_summary["rms_px"] <= 0.2 and net_summary["worse_than_1px"] < 0.01
    assert net_summary["apriori_rms_px"] > net_summary["rms_px"]

    # the exported file, read by tiepoint and decoded with the official .proto, says the same
    net = cnet.read(out / "network.net")
    assert (net.n_points, net.n_measures) == (net_summary["good_points"], net_summary["good_measures"])
    _, points = decode_file((out / "network.net").read_bytes(), messages(str(tmp_path / "proto")))
    assert len(points) == net.n_points and sum(len(p.measures) for p in points) == net.n_measures
    listed = [Path(p) for p in (out / "network.lis").read_text().splitlines()]
    cubes = {cnet.serial_number(p): p for p in listed}
    assert set(net.serials()) == set(cubes) and all(p.is_file() for p in listed)
    errors = _errors_from_the_file(net, cubes)
    assert len(errors) == net.n_measures - net.n_points
    assert np.sqrt(np.mean(errors**2)) <= 0.2 and np.mean(errors > 1.0) < 0.01

    # every command works on the demo's database through the configuration it wrote
    status = CliRunner().invoke(app, ["status", "-c", str(out / "tiepoint.yml")])
    assert status.exit_code == 0, status.output
    assert all(f"{kind}:" in status.output for kind in ("ingest", "match", "register"))

    # a second run reuses the cubes and the database: every stage has nothing left to do
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "images").glob("*.cub")}
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert {p: p.stat().st_mtime_ns for p in (out / "images").glob("*.cub")} == mtimes
    second = json.loads((out / "summary.json").read_text())
    assert second["overlaps"] == summary["overlaps"]
    assert {k: second["network"][k] for k in ("points", "measures", "rms_px")} == {
        k: net_summary[k] for k in ("points", "measures", "rms_px")
    }
