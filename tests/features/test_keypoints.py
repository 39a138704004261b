"""Keypoints container and pixel conventions, checked against blobs with analytic centres."""

from __future__ import annotations

import numpy as np
import pytest
from feature_images import texture
from scipy.spatial import cKDTree

from tiepoint.features import Keypoints, extract, from_camera_coords, to_camera_coords, to_isis_coords


def blobs(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs (sigma 3 px) at random sub-pixel centres; centres in OpenCV (x, y)."""
    rng = np.random.default_rng(seed)
    lines, samples = np.mgrid[0:360, 0:360]
    centres = []
    image = np.zeros(lines.shape)
    for cy in range(30, 330, 40):
        for cx in range(30, 330, 40):
            x, y = cx + rng.uniform(-0.5, 0.5), cy + rng.uniform(-0.5, 0.5)
            centres.append((x, y))
            image += np.exp(-((samples - x) ** 2 + (lines - y) ** 2) / (2 * 3.0**2))
    return image * 1000, np.array(centres)


def test_sift_positions_follow_opencv_pixel_centres() -> None:
    image, centres = blobs()
    kps = extract(image)
    dist, idx = cKDTree(np.c_[kps.x, kps.y]).query(centres)
    assert dist.max() < 0.1  # every blob found at its centre
    assert abs(np.mean(kps.x[idx] - centres[:, 0])) < 0.02  # no systematic shift
    assert abs(np.mean(kps.y[idx] - centres[:, 1])) < 0.02


def test_without_precise_upscale_sift_is_biased() -> None:
    # the reason the default enables it: OpenCV's plain upscale shifts keypoints by +1/4 px
    image, centres = blobs()
    kps = extract(image, {"params": {"enable_precise_upscale": False}})
    _, idx = cKDTree(np.c_[kps.x, kps.y]).query(centres)
    assert np.mean(kps.x[idx] - centres[:, 0]) > 0.15


def test_camera_and_isis_conventions() -> None:
    x, y = np.array([0.0, 10.25]), np.array([0.0, 3.5])
    lines, samples = to_camera_coords(x, y)
    np.testing.assert_array_equal(lines, y + 0.5)  # pixel (0,0)'s centre is (0.5, 0.5) in USGSCSM
    np.testing.assert_array_equal(samples, x + 0.5)
    back_x, back_y = from_camera_coords(lines, samples)
    np.testing.assert_array_equal(back_x, x)
    np.testing.assert_array_equal(back_y, y)
    isis_s, isis_l = to_isis_coords(x, y)
    np.testing.assert_array_equal(isis_s, x + 1)
    np.testing.assert_array_equal(isis_l, y + 1)


def test_keypoints_validates_lengths_and_selects() -> None:
    n = 5
    kp = Keypoints(np.arange(n), np.arange(n) * 2, np.ones(n), np.ones(n), np.zeros(n), np.zeros(n),
                   np.arange(n * 4, dtype=np.uint8).reshape(n, 4), "sift")  # fmt: skip
    assert len(kp) == n and kp.x.dtype == np.float64 and kp.size.dtype == np.float32
    sub = kp.select(np.array([3, 1]))
    np.testing.assert_array_equal(sub.y, [6.0, 2.0])
    np.testing.assert_array_equal(sub.descriptors[0], kp.descriptors[3])
    assert kp.bbox() == (0.0, 0.0, 4.0, 8.0)
    with pytest.raises(ValueError, match="disagree"):
        Keypoints(np.arange(3), np.arange(2), *(np.ones(3),) * 3, np.zeros(3), np.zeros((3, 4)), "sift")


def test_collector_matches_concatenate_then_take() -> None:
    from tiepoint.features.collect import KeypointCollector

    rng = np.random.default_rng(1)

    def part(n: int) -> Keypoints:
        response = rng.integers(0, 6, n).astype(float)  # many ties: the earlier keypoint wins
        return Keypoints(
            *rng.normal(size=(2, n)), response, *rng.normal(size=(2, n)), rng.integers(0, 9, n),
            rng.integers(0, 255, (n, 8)), "sift",
        )  # fmt: skip

    parts = [part(7), part(0), part(12), part(3), part(30), part(9)]
    everything = Keypoints.concatenate(parts)
    for cap in (0, 1, 5, 10, 40, 100):
        collector = KeypointCollector(parts[0], cap)
        for p in parts:
            collector.add(p)
        got = collector.result()
        if cap and cap < len(everything):
            keep = np.zeros(len(everything), bool)
            keep[np.argsort(-everything.response, kind="stable")[:cap]] = True
        else:
            keep = np.ones(len(everything), bool)
        want = everything.select(keep)
        for name in ("x", "y", "response", "size", "angle", "octave", "descriptors"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        with pytest.raises(RuntimeError):
            collector.add(parts[0])


def test_keep_heap_is_set_once_and_changes_no_keypoint() -> None:
    # glibc's malloc thresholds (a speed matter only): set on this Linux/glibc machine, idempotent;
    # the keypoints do not depend on them
    import sys

    from tiepoint.features import allocator

    data = texture((200, 260), seed=8)
    before = extract(data, {"tile_threshold": 1, "tile_size": 128})
    assert allocator.keep_heap() is sys.platform.startswith("linux")
    assert allocator.keep_heap() is allocator.keep_heap()
    after = extract(data, {"tile_threshold": 1, "tile_size": 128})
    np.testing.assert_array_equal(before.x, after.x)
    np.testing.assert_array_equal(before.descriptors, after.descriptors)
