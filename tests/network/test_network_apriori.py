"""A-priori points against synthetic truth: known ground points seen by real CTX cameras and by
convergent synthetic frame cameras, projected into each image with the cameras."""

from __future__ import annotations

import json

import numpy as np
import pytest
from netdata import CTX_DIR, G02, N06

from tiepoint.camera import from_isd
from tiepoint.config import AprioriConfig
from tiepoint.network import NetworkError, apriori_points
from tiepoint.pixels import from_camera_coords, to_camera_coords
from tiepoint.synthetic.isd import frame_isd


def observe(cameras, xyz, kept=None):
    """Measures (point, image, x, y) of every ground point seen inside at least two of the images, and
    those points (their indices into *xyz* are appended to *kept* if given)."""
    point, image, xs, ys = [], [], [], []
    for img, cam in cameras.items():
        x, y = from_camera_coords(*cam.ground_to_image(xyz))
        inside = (x > 0) & (y > 0) & (x < cam.image_samples - 1) & (y < cam.image_lines - 1)
        point.append(np.flatnonzero(inside))
        image.append(np.full(inside.sum(), img))
        xs.append(x[inside])
        ys.append(y[inside])
    point, image, x, y = (np.concatenate(v) for v in (point, image, xs, ys))
    keep = np.bincount(point, minlength=len(xyz)) >= 2
    sel = keep[point]
    dense = np.cumsum(keep) - 1
    if kept is not None:
        kept.extend(np.flatnonzero(keep).tolist())
    return dense[point[sel]], image[sel], x[sel], y[sel], xyz[keep]


@pytest.fixture(scope="module")
def stereo():
    """Three frame cameras over (0N, 10E): nadir, and 15 deg off-nadir from the south-west and east."""
    isds = {
        7: frame_isd(0.0, 10.0, 400e3, lines=500, samples=500),
        3: frame_isd(-0.7, 9.3, 400e3, lines=500, samples=500, look_at=(0.0, 10.0)),
        9: frame_isd(0.0, 11.0, 420e3, lines=500, samples=500, look_at=(0.0, 10.0)),
    }
    return {k: from_isd(v) for k, v in isds.items()}


def _ground(camera, n, heights, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(50, camera.image_samples - 50, n), rng.uniform(50, camera.image_lines - 50, n)
    return camera.image_to_ground(*to_camera_coords(x, y), height=heights)


def test_rays_recover_ground_points_at_any_height(stereo):
    heights = np.random.default_rng(1).uniform(-2000, 3000, 300)
    kept = []
    point, image, x, y, truth = observe(stereo, _ground(stereo[7], 300, heights), kept)
    ap = apriori_points(point, image, x, y, stereo)
    assert (ap.source == "rays").all()
    assert np.linalg.norm(ap.xyz - truth, axis=1).max() < 0.01
    assert ap.ray_rms_m.max() < 0.01
    # near the equator the camera's "height" (radii a + h, b + h) is the geodetic height
    np.testing.assert_allclose(ap.height_m, heights[kept], atol=0.5)


def test_convergence_of_two_rays_is_the_angle_between_them(stereo):
    cams = {7: stereo[7], 9: stereo[9]}
    point, image, x, y, _ = observe(cams, _ground(stereo[7], 50, 0.0))
    ap = apriori_points(point, image, x, y, cams)
    looks = {k: c.look_direction(*to_camera_coords(x[image == k], y[image == k])) for k, c in cams.items()}
    angle = np.degrees(np.arccos(np.clip((looks[7] * looks[9]).sum(axis=1), -1, 1)))
    np.testing.assert_allclose(ap.convergence_deg, angle, atol=1e-6)
    assert angle.min() > 5


def test_the_reference_is_the_most_nadir_measure(stereo):
    point, image, x, y, truth = observe(stereo, _ground(stereo[7], 200, 0.0, seed=2))
    ap = apriori_points(point, image, x, y, stereo)
    assert (image[ap.reference] == 7).all()
    assert (point[ap.reference] == np.arange(len(truth))).all()
    # emission angles, computed here from the sensor positions and the ellipsoid normal
    cam_pos = np.empty((len(x), 3))
    for k, cam in stereo.items():
        sel = image == k
        cam_pos[sel] = cam.sensor_position(*to_camera_coords(x[sel], y[sel]))
    a, b = stereo[7].semimajor, stereo[7].semiminor
    normal = truth[point] / np.array([a * a, a * a, b * b])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    view = cam_pos - truth[point]
    view /= np.linalg.norm(view, axis=1, keepdims=True)
    expected = np.degrees(np.arccos((normal * view).sum(axis=1)))
    np.testing.assert_allclose(ap.emission_deg, expected, atol=1e-6)
    assert np.median(expected[image == 3]) > 5


def test_real_ctx_cameras_intersect_on_the_ellipsoid():
    cams = {
        1: from_isd(CTX_DIR / f"{G02}.json"),
        2: from_isd(CTX_DIR / f"{N06}.json"),
        3: from_isd(CTX_DIR / "G02_019154_1800_XN_00N133W.ellipsoid.crop.json"),
    }
    for h in (0.0, 800.0):
        point, image, x, y, truth = observe(cams, _ground(cams[1], 400, h, seed=3))
        assert len(truth) > 100
        ap = apriori_points(point, image, x, y, cams)
        # G02 and its full image share an orbit: their rays are parallel; N06's cross them
        with_n06 = np.bincount(point[image == 2], minlength=len(truth)) > 0
        assert with_n06.sum() > 100 and (~with_n06).sum() > 100
        assert (ap.source[with_n06] == "rays").all()
        assert (ap.convergence_deg[with_n06] > 6).all()
        assert np.linalg.norm(ap.xyz[with_n06] - truth[with_n06], axis=1).max() < 0.01
        np.testing.assert_allclose(ap.height_m[with_n06], h, atol=0.01)
        assert (ap.source[~with_n06] == "average_of_measures").all()
        assert (ap.convergence_deg[~with_n06] < 0.1).all()


def test_nearly_parallel_rays_fall_back_to_the_mean_of_the_measures():
    # two nadir cameras 200 m apart: rays converge by ~0.03 deg
    cams = {
        1: from_isd(frame_isd(0.0, 10.0, 400e3, lines=400, samples=400)),
        2: from_isd(frame_isd(0.0, 10.0034, 400e3, lines=400, samples=400)),
    }
    point, image, x, y, truth = observe(cams, _ground(cams[1], 100, 0.0, seed=4))
    ap = apriori_points(point, image, x, y, cams)
    assert (ap.source == "average_of_measures").all()
    assert (ap.convergence_deg < 0.1).all()
    assert np.linalg.norm(ap.xyz - truth, axis=1).max() < 0.01  # on the ellipsoid, the mean is the point
    # given ground points (the keypoint files' positions): their mean, NaN ones left out
    rng = np.random.default_rng(5)
    ground = truth[point] + rng.normal(0, 5, (len(point), 3))
    ground[::7] = np.nan
    ap = apriori_points(point, image, x, y, cams, ground=ground)
    finite = np.isfinite(ground[:, 0])
    expected = np.stack(
        [np.bincount(point[finite], ground[finite, k]) / np.bincount(point[finite]) for k in range(3)], axis=1
    )
    has = np.bincount(point[finite], minlength=len(truth)) > 0
    np.testing.assert_allclose(ap.xyz[has], expected[has], atol=1e-6)
    # no finite ground at all: no source
    ap = apriori_points(point, image, x, y, cams, ground=np.full_like(ground, np.nan))
    assert (ap.source == "none").all() and np.isnan(ap.xyz).all()
    # a smaller convergence limit accepts the rays
    ap = apriori_points(point, image, x, y, cams, AprioriConfig(min_convergence_deg=0.001))
    assert (ap.source == "rays").all()


def test_intersections_far_from_the_ellipsoid_fall_back(stereo):
    point, image, x, y, _ = observe(stereo, _ground(stereo[7], 50, 500.0, seed=6))
    ap = apriori_points(point, image, x, y, stereo, AprioriConfig(max_height_m=100.0))
    assert (ap.source == "average_of_measures").all()


def test_inconsistent_cameras_show_in_the_ray_distances_and_fall_back(stereo):
    point, image, x, y, _ = observe(stereo, _ground(stereo[7], 50, 0.0, seed=7))
    consistent = apriori_points(point, image, x, y, stereo)
    assert (consistent.source == "rays").all()
    assert consistent.ray_rms_m.max() < 0.01 and consistent.height_error_m.max() < 0.1
    moved = dict(stereo)
    isd = frame_isd(-0.7, 9.3, 400e3, lines=500, samples=500, look_at=(0.0, 10.002))  # ~120 m pointing error
    moved[3] = from_isd(json.loads(json.dumps(isd)))
    ap = apriori_points(point, image, x, y, moved)
    assert (ap.ray_rms_m > 20).all()
    # the intersections would slide along the lines of sight by far more than the miss: not used
    assert (ap.height_error_m > 250).all()
    assert (ap.source == "average_of_measures").all()
    assert (
        apriori_points(point, image, x, y, moved, AprioriConfig(max_height_error_m=1e5)).source == "rays"
    ).all()


def test_bad_input_is_a_clear_error(stereo):
    with pytest.raises(NetworkError, match="no camera for image 5"):
        apriori_points([0, 0], [7, 5], [1.0, 2.0], [1.0, 2.0], stereo)
    with pytest.raises(NetworkError, match="every index used"):
        apriori_points([0, 0, 2, 2], [7, 3, 7, 3], np.ones(4), np.ones(4), stereo)
    with pytest.raises(NetworkError, match="one length"):
        apriori_points([0, 0], [7, 3], [1.0], [1.0, 2.0], stereo)
    with pytest.raises(NetworkError, match=r"ground must have shape \(2, 3\)"):
        apriori_points([0, 0], [7, 3], [1.0, 1.0], [1.0, 2.0], stereo, ground=np.zeros((2, 2)))
    empty = apriori_points(np.empty(0, int), np.empty(0, int), np.empty(0), np.empty(0), stereo)
    assert empty.xyz.shape == (0, 3)
