"""Footprints of synthetic cameras over the 0/360 meridian, a pole, the limb, and off the body."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from fp_checks import grid_area, lonlat, membership, metric_hausdorff, pixel_size
from shapely.geometry import MultiPolygon, Polygon

from tiepoint.camera import from_isd
from tiepoint.config import FootprintConfig, load_config
from tiepoint.errors import FootprintError
from tiepoint.footprint import compute_footprint, ellipsoid_area, latlon_footprint
from tiepoint.synthetic.isd import frame_isd, linescan_isd

KINDS = ["frame", "linescan"]


def camera(kind: str, lat: float, lon: float, altitude: float = 300e3, tilt: float = 0.0, **kw):
    """A frame camera (tilted north) or a northbound push-broom (rolled east) over lat/lon."""
    if kind == "frame":
        return from_isd(frame_isd(lat, lon, altitude, off_nadir=tilt, **kw))
    return from_isd(linescan_isd(lat, lon, altitude, roll=tilt, **kw))


def check_area(cam, footprint) -> None:
    reference, covered = grid_area(cam)
    assert covered == 1.0
    assert ellipsoid_area(footprint, cam.semimajor, cam.semiminor) == pytest.approx(reference, rel=0.01)


@pytest.mark.parametrize("kind", KINDS)
def test_footprint_over_the_prime_meridian_is_split_at_0_360(kind: str) -> None:
    cam = camera(kind, 5.0, 0.0)
    fp = latlon_footprint(cam)
    assert isinstance(fp, MultiPolygon) and fp.is_valid and len(fp.geoms) == 2
    west, east = sorted(fp.geoms, key=lambda p: p.bounds[0])
    assert west.bounds[0] == pytest.approx(0.0) and east.bounds[2] == pytest.approx(360.0)
    assert west.bounds[2] < 1.0 and east.bounds[0] > 359.0
    check_area(cam, fp)
    assert membership(cam, fp) == (1.0, 1.0)
    # the same footprint in -180..180 is one polygon covering the same ground
    fp180 = latlon_footprint(cam, config=FootprintConfig(longitude_domain=180))
    assert isinstance(fp180, Polygon) and fp180.bounds[0] < 0 < fp180.bounds[2]
    assert ellipsoid_area(fp180, cam.semimajor, cam.semiminor) == pytest.approx(
        ellipsoid_area(fp, cam.semimajor, cam.semiminor), rel=1e-9
    )
    assert membership(cam, fp180) == (1.0, 1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_footprint_over_180_is_split_only_in_the_180_domain(kind: str) -> None:
    cam = camera(kind, -20.0, 180.0)
    assert isinstance(latlon_footprint(cam), Polygon)
    fp = latlon_footprint(cam, config=load_config({"footprint": {"longitude_domain": 180}}))
    assert isinstance(fp, MultiPolygon) and len(fp.geoms) == 2
    assert membership(cam, fp) == (1.0, 1.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_footprint_containing_a_pole_is_closed_over_it(kind: str, pole: float) -> None:
    cam = camera(kind, pole, 30.0)
    for domain in (360, 180):
        fp = latlon_footprint(cam, lon_domain=domain)
        assert isinstance(fp, Polygon) and fp.is_valid and fp.exterior.is_ccw
        west = 0.0 if domain == 360 else -180.0
        assert fp.bounds[0] == pytest.approx(west) and fp.bounds[2] == pytest.approx(west + 360.0)
        assert (fp.bounds[3] if pole > 0 else -fp.bounds[1]) == pytest.approx(90.0)
        lons = np.linspace(west + 1, west + 359, 100)
        assert shapely.contains_xy(fp, lons, np.full(100, np.sign(pole) * 89.9)).all()
        assert membership(cam, fp) == (1.0, 1.0)
    check_area(cam, fp)


@pytest.mark.parametrize("kind", KINDS)
def test_footprint_near_but_not_over_a_pole_stays_off_it(kind: str) -> None:
    cam = camera(kind, 89.0, 200.0, altitude=100e3)  # ~10 km wide, 59 km from the pole
    fp = latlon_footprint(cam)
    assert fp.is_valid and fp.bounds[3] < 89.5
    check_area(cam, fp)
    assert membership(cam, fp) == (1.0, 1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_limb_view_footprint_is_the_on_body_part(kind: str) -> None:
    # from 3000 km the limb is ~32 degrees off nadir; the field of view is ~14 degrees wide
    cam = camera(kind, 10.0, 20.0, altitude=3000e3, tilt=31.5, focal_length=20.0)
    result = compute_footprint(cam)
    fp, boundary = result.latlon, result.boundary
    assert fp.is_valid and not fp.is_empty
    assert boundary.on_limb.sum() >= 16
    inside, _ = membership(cam, fp, margin=2.0)
    assert inside == 1.0
    # limb vertices see the ellipsoid at grazing incidence
    limb = boundary.on_limb
    sensor = np.asarray(cam.sensor_position(boundary.image[limb, 0], boundary.image[limb, 1]))
    rays = boundary.xyz[limb] - sensor
    normal = boundary.xyz[limb] / np.array([cam.semimajor**2, cam.semimajor**2, cam.semiminor**2])
    cos_e = np.abs(np.sum(rays * normal, axis=1)) / (
        np.linalg.norm(rays, axis=1) * np.linalg.norm(normal, axis=1)
    )
    assert cos_e.max() < 0.02
    # edge vertices of the footprint are on the image edge, limb vertices inside it
    img = boundary.image[~limb]
    on_edge = np.isclose(img[:, 0], 0) | np.isclose(img[:, 0], cam.image_lines)
    on_edge |= np.isclose(img[:, 1], 0) | np.isclose(img[:, 1], cam.image_samples)
    assert on_edge.all()


@pytest.mark.parametrize("kind", KINDS)
def test_image_fully_off_the_body_is_a_clear_error(kind: str, tmp_path: Path) -> None:
    isd = (frame_isd(10.0, 20.0, 3000e3, off_nadir=45.0) if kind == "frame"
           else linescan_isd(10.0, 20.0, 3000e3, roll=45.0))  # fmt: skip
    path = tmp_path / "off_body.json"
    path.write_text(json.dumps(isd))
    with pytest.raises(FootprintError, match="does not see the body") as info:
        latlon_footprint(from_isd(path), path=path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("kind", KINDS)
def test_configured_points_per_edge_is_used(kind: str) -> None:
    cam = camera(kind, -40.0, 100.0)
    fp = latlon_footprint(cam, config=FootprintConfig(points_per_edge=5))
    assert len(fp.exterior.coords) == 4 * 4 + 1
    lon, lat = lonlat(np.asarray(cam.image_to_ground([0.0], [0.0])))
    assert shapely.distance(fp.exterior, shapely.Point(lon[0], lat[0])) < 1e-9


def test_adaptive_sampling_follows_curved_edges_of_a_distorted_camera() -> None:
    cam = from_isd(frame_isd(30.0, 60.0, 300e3, radial_distortion=(0.0, 0.02, 0.0)))  # strong barrel
    auto = compute_footprint(cam)
    per_edge = len(auto.boundary.image) // 4 + 1
    dense = latlon_footprint(cam, points_per_edge=10 * per_edge)
    pixel = pixel_size(cam)
    assert metric_hausdorff(auto.latlon, dense, cam.semimajor) < pixel
    # the starting density alone is not enough here: refinement is what meets the criterion
    assert metric_hausdorff(latlon_footprint(cam, points_per_edge=9), dense, cam.semimajor) > pixel
    assert membership(cam, auto.latlon) == (1.0, 1.0)
    check_area(cam, auto.latlon)


def test_whole_disk_in_view_is_bounded_by_the_limb() -> None:
    radius, distance = 3396190.0, 20000e3
    cam = from_isd(frame_isd(60.0, 100.0, distance - radius, focal_length=10.0, pixel_pitch=0.02,
                             semimajor=radius, semiminor=radius))  # fmt: skip
    result = compute_footprint(cam)
    assert result.boundary.on_limb.all()  # no image edge sees the body
    fp = result.latlon
    assert isinstance(fp, Polygon) and fp.is_valid
    assert fp.bounds[3] == pytest.approx(90.0)  # the north pole is in view
    # the visible cap of a sphere seen from distance d: 2 pi R^2 (1 - R / d)
    cap = 2 * np.pi * radius**2 * (1 - radius / distance)
    assert ellipsoid_area(fp, radius, radius) == pytest.approx(cap, rel=0.01)
    assert membership(cam, fp, margin=2.0)[0] == 1.0


def test_limb_view_containing_a_pole_is_closed_over_it() -> None:
    cam = from_isd(frame_isd(80.0, 0.0, 3000e3, off_nadir=20.0, focal_length=5.0))
    result = compute_footprint(cam)
    fp = result.latlon
    assert result.boundary.on_limb.any()
    assert isinstance(fp, Polygon) and fp.is_valid
    assert fp.bounds[0] == pytest.approx(0.0) and fp.bounds[2] == pytest.approx(360.0)
    assert fp.bounds[3] == pytest.approx(90.0)
    assert membership(cam, fp, margin=2.0) == (1.0, 1.0)
