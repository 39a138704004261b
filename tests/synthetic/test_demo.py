"""The demo end to end (small renders): real LocalCluster, real GeoPackage, real cubes."""

from __future__ import annotations

import itertools
import json

import numpy as np
import shapely
from typer.testing import CliRunner

from tiepoint.camera.discovery import find_camera
from tiepoint.cli.main import app
from tiepoint.demo import GROUPS


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


def test_demo_renders_ingests_summarizes_and_maps(tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--scale", "0.12", "--full-scale", "0.03", "--workers", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    names = {im["name"] for im in summary["images"]}
    assert names == {n for group in GROUPS.values() for n in group}
    assert summary["failed"] == []
    assert all(im["keypoints"] > 0 and im["area_km2"] > 0 for im in summary["images"])
    assert (out / "footprints.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in names:
        assert name in result.output
    # the overlaps the database found are those of the camera outlines
    outlines = {n: _lonlat_outline(out / "images" / f"{n}.cub") for n in names}
    expected = {
        tuple(sorted((a, b)))
        for a, b in itertools.combinations(sorted(names), 2)
        if outlines[a].intersection(outlines[b]).area > 1e-8
    }
    found = {tuple(sorted((a, b))) for a, b, _ in summary["overlaps"]}
    assert found == expected
    assert ("B10_013615_2178_XI_37N117W.crop", "K12_058001_2177_XI_37N117W.crop") not in found
    assert len(found) == 5
    # a second run reuses the cubes and the database
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "images").glob("*.cub")}
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "already in the database" in again.output
    assert {p: p.stat().st_mtime_ns for p in (out / "images").glob("*.cub")} == mtimes
    assert json.loads((out / "summary.json").read_text())["overlaps"] == summary["overlaps"]
