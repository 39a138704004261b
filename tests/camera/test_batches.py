"""The vectorized models work in cache-sized chunks: a point's answer must not depend on its batch."""

from __future__ import annotations

import numpy as np

import tiepoint.camera as cam
from tiepoint.camera.base import CHUNK


def test_results_independent_of_batch_and_chunk_boundaries(ctx_isd_dir):
    model = cam.from_isd(ctx_isd_dir / "G02_019154_1800_XN_00N133W.ellipsoid.crop.json")
    rng = np.random.default_rng(3)
    n = 2 * CHUNK + 123  # three chunks, the last one partial
    lines = rng.uniform(0, model.image_lines, n)
    samples = rng.uniform(0, model.image_samples, n)
    heights = rng.uniform(-4000, 4000, n)
    ground = model.image_to_ground(lines, samples, heights)
    back_l, back_s = model.ground_to_image(ground)
    # the same points in another order and in small batches give bit-identical answers
    perm = rng.permutation(n)
    again = model.image_to_ground(lines[perm], samples[perm], heights[perm])
    np.testing.assert_array_equal(again, ground[perm])
    shuffled = model.ground_to_image(ground[perm])
    np.testing.assert_array_equal(shuffled[0], back_l[perm])
    np.testing.assert_array_equal(shuffled[1], back_s[perm])
    for i in (0, CHUNK - 1, CHUNK, n - 1):
        np.testing.assert_array_equal(model.image_to_ground(lines[i], samples[i], heights[i])[0], ground[i])
        one = model.ground_to_image(ground[i])
        assert (one[0][0], one[1][0]) == (back_l[i], back_s[i])
    # and they are right: the round trip closes
    np.testing.assert_allclose(back_l, lines, atol=1e-3, rtol=0)
    np.testing.assert_allclose(back_s, samples, atol=1e-3, rtol=0)
    # sensor positions and look vectors (also chunked) agree with the intersection
    pos = model.sensor_position(lines, samples)
    look = model.look_direction(lines, samples)
    along = (ground - pos) / np.linalg.norm(ground - pos, axis=1, keepdims=True)
    np.testing.assert_allclose(along, look, atol=1e-9)


def test_rays_that_miss_are_nan_in_any_chunk(ctx_isd_dir):
    model = cam.from_isd(ctx_isd_dir / "G02_019154_1800_XN_00N133W.crop.json")
    n = CHUNK + 10
    lines = np.full(n, 500.0)
    samples = np.full(n, 500.0)
    heights = np.zeros(n)
    heights[[3, CHUNK + 5]] = 1e9  # an ellipsoid that swallows the sensor: the ray starts inside it
    lines[[7, CHUNK + 2]] = np.nan
    ground = model.image_to_ground(lines, samples, heights)
    bad = np.zeros(n, bool)
    bad[[3, CHUNK + 5, 7, CHUNK + 2]] = True
    assert np.isnan(ground[bad]).all() and np.isfinite(ground[~bad]).all()
