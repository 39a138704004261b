"""Footprints of the real CTX ISDs: validity, area, density, overlaps within and across ground groups."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import shapely
from fp_checks import grid_area, lonlat, membership, metric_hausdorff, pixel_size
from shapely.geometry import Polygon

from tiepoint.camera import from_isd
from tiepoint.footprint import compute_footprint, ellipsoid_area, footprint_xyz, latlon_footprint

EQUATOR = [
    "G02_019154_1800_XN_00N133W.crop",
    "N06_064753_1800_XN_00S133W.crop",
    "G02_019154_1800_XN_00N133W.ellipsoid.crop",
]
MID_NORTH = [
    "B10_013615_2178_XI_37N117W.crop",
    "K12_058001_2177_XI_37N117W.crop",
    "N12_067021_2177_XN_37N117W.crop",
]


@pytest.fixture(scope="module")
def cameras(ctx_isd_dir: Path) -> dict:
    return {name: from_isd(ctx_isd_dir / f"{name}.json") for name in EQUATOR + MID_NORTH}


@pytest.fixture(scope="module")
def footprints(cameras: dict) -> dict:
    return {name: latlon_footprint(cam) for name, cam in cameras.items()}


@pytest.mark.parametrize("name", EQUATOR + MID_NORTH)
def test_footprint_is_valid_and_matches_the_pixel_grid(name: str, cameras: dict, footprints: dict) -> None:
    cam, fp = cameras[name], footprints[name]
    assert isinstance(fp, Polygon) and fp.is_valid and fp.exterior.is_ccw
    xmin, ymin, xmax, ymax = fp.bounds
    assert 0.0 <= xmin < xmax <= 360.0 and -90.0 <= ymin < ymax <= 90.0
    # the four image corners are (almost exactly) vertices of the footprint
    corners = np.asarray(cam.image_to_ground([0, 0, cam.image_lines, cam.image_lines],
                                             [0, cam.image_samples, 0, cam.image_samples]))  # fmt: skip
    lon, lat = lonlat(corners)
    assert np.all(shapely.distance(fp.exterior, shapely.points(lon, lat)) < 1e-9)
    reference, covered = grid_area(cam)
    assert covered == 1.0
    assert ellipsoid_area(fp, cam.semimajor, cam.semiminor) == pytest.approx(reference, rel=0.01)
    inside, outside = membership(cam, fp)
    assert inside == 1.0 and outside == 1.0


@pytest.mark.parametrize("name", [EQUATOR[0], EQUATOR[2], MID_NORTH[2]])
def test_default_density_is_within_a_pixel_of_ten_times_denser(name: str, cameras: dict) -> None:
    cam = cameras[name]
    auto = compute_footprint(cam)
    per_edge = int(np.ceil(len(auto.boundary.image) / 4)) + 1
    dense = latlon_footprint(cam, points_per_edge=10 * per_edge)
    assert metric_hausdorff(auto.latlon, dense, cam.semimajor) < pixel_size(cam)


def _overlap_fraction(cam_a, cam_b, n: int = 41) -> float:
    """Fraction of image a's ground grid that image b sees (ground_to_image into b's extent)."""
    gl, gs = np.meshgrid(np.linspace(0, cam_a.image_lines, n), np.linspace(0, cam_a.image_samples, n))
    xyz = np.asarray(cam_a.image_to_ground(gl.ravel(), gs.ravel()))
    lines, samples = cam_b.ground_to_image(xyz)
    inside = (lines >= 0) & (lines <= cam_b.image_lines) & (samples >= 0) & (samples <= cam_b.image_samples)
    return float(inside.mean())


@pytest.mark.parametrize("group", [EQUATOR, MID_NORTH], ids=["equator", "mid_north"])
def test_overlaps_within_a_group_follow_the_camera_geometry(
    group: list, cameras: dict, footprints: dict
) -> None:
    for a, b in combinations(group, 2):
        seen = _overlap_fraction(cameras[a], cameras[b])
        fa, fb = footprints[a], footprints[b]
        if seen > 0.02:
            assert fa.intersects(fb)
            # the intersection's share of a's area agrees with the fraction of a's grid b sees
            assert fa.intersection(fb).area / fa.area == pytest.approx(seen, abs=0.06)
        elif seen == 0.0 and _overlap_fraction(cameras[b], cameras[a]) == 0.0:
            assert fa.intersection(fb).area < 0.01 * min(fa.area, fb.area)


def test_groups_do_not_intersect(footprints: dict) -> None:
    for a in EQUATOR:
        for b in MID_NORTH:
            assert not footprints[a].intersects(footprints[b])


def test_some_pairs_overlap(cameras: dict, footprints: dict) -> None:
    """The groups are groups: at least one pair in each overlaps by the camera geometry."""
    for group in (EQUATOR, MID_NORTH):
        assert any(_overlap_fraction(cameras[a], cameras[b]) > 0.02 for a, b in combinations(group, 2))


def test_xyz_footprint_is_on_the_ellipsoid_and_faces_out(cameras: dict) -> None:
    cam = cameras[EQUATOR[0]]
    poly = footprint_xyz(cam)
    xyz = np.asarray(poly.exterior.coords)
    assert poly.has_z and xyz.shape[0] >= 5
    on = (xyz[:, 0] ** 2 + xyz[:, 1] ** 2) / cam.semimajor**2 + xyz[:, 2] ** 2 / cam.semiminor**2
    assert np.allclose(on, 1.0, atol=1e-9)
    centre = xyz[:-1].mean(axis=0)
    normal = np.cross(xyz[:-1] - centre, np.roll(xyz[:-1], -1, axis=0) - centre).sum(axis=0)
    assert normal.dot(centre) > 0


def test_lon_domain_180_gives_negative_longitudes(cameras: dict, footprints: dict) -> None:
    cam = cameras[MID_NORTH[0]]
    fp180 = latlon_footprint(cam, lon_domain=180)
    assert fp180.bounds[2] < 0
    shifted = shapely.affinity.translate(fp180, 360.0)
    assert shifted.symmetric_difference(footprints[MID_NORTH[0]]).area < 1e-6 * shifted.area
