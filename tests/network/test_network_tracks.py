"""Tracks: multi-image points from pair matches, checked against simulated networks with known points.

The truth is the simulator's (``tiepoint.synthetic.matches``): which true point each keypoint belongs
to. Guarantees are checked on every result, including adversarial match graphs.
"""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.network import NetworkError, build_tracks, extend_tracks, image_ground_offsets
from tiepoint.synthetic.matches import simulate_matches


def assert_guarantees(point, image, keypoint, depth=None):
    """Each keypoint in at most one point, one measure per image per point, >= 2 measures per point."""
    point, image, keypoint = (np.asarray(v, np.int64) for v in (point, image, keypoint))
    nodes = image * 2**32 + keypoint
    assert len(np.unique(nodes)) == len(nodes), "a keypoint is in two points"
    per_image = point * 2**31 + image
    assert len(np.unique(per_image)) == len(per_image), "a point has two measures in one image"
    counts = np.bincount(point) if len(point) else np.zeros(0, int)
    assert (counts[np.unique(point)] >= 2).all(), "a point with fewer than two measures"
    if depth is not None:
        np.testing.assert_array_equal(counts, depth)


def true_points(sim, image, keypoint):
    """The simulator's point of each (image, keypoint)."""
    keys = sim.image * 2**32 + sim.keypoint
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], np.asarray(image) * 2**32 + np.asarray(keypoint))
    return sim.point[order][pos]


def purity(sim, tracks):
    """Fraction of output points whose measures all come from one true point."""
    tp = true_points(sim, tracks.image, tracks.keypoint)
    lo = np.full(tracks.n_points, np.iinfo(np.int64).max)
    hi = np.full(tracks.n_points, -1)
    np.minimum.at(lo, tracks.point, tp)
    np.maximum.at(hi, tracks.point, tp)
    return float(np.mean(lo == hi))


def canonical(tracks):
    """The points as a set of frozensets of (image, keypoint), for comparing results."""
    groups = np.split(np.stack([tracks.image, tracks.keypoint], 1), tracks.offsets[1:-1])
    return {frozenset(map(tuple, g.tolist())) for g in groups}


def test_clean_matches_give_exactly_the_true_points():
    sim = simulate_matches(3000, n_images=40, depth=(2, 6))
    t = build_tracks(sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score)
    assert_guarantees(t.point, t.image, t.keypoint, t.depth)
    assert t.n_points == 3000 and t.n_measures == len(sim.point)
    assert purity(sim, t) == 1.0
    # each output point is exactly one true point
    tp = true_points(sim, t.image, t.keypoint)
    np.testing.assert_array_equal(np.bincount(tp), np.bincount(sim.point))
    assert np.all(np.diff(t.point) >= 0)  # sorted by point
    assert t.stats.conflicting_components == 0 and t.stats.trimmed == 0


def test_a_keypoint_matched_in_several_pairs_is_one_measure_of_one_point():
    """AutoCNet's duplicate: A-B and A-C matches of one keypoint of A made two points."""
    t = build_tracks([1, 1, 2], [7, 7, 3], [2, 3, 3], [3, 9, 9])
    assert t.n_points == 1
    assert sorted(zip(t.image.tolist(), t.keypoint.tolist(), strict=True)) == [(1, 7), (2, 3), (3, 9)]


def test_result_does_not_depend_on_match_order_or_direction():
    sim = simulate_matches(2000, n_images=30, wrong=0.03, keep=0.8, seed=3)
    args = (sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score)
    t1 = build_tracks(*args)
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(sim.image_a))
    t2 = build_tracks(sim.image_b[perm], sim.kp_b[perm], sim.image_a[perm], sim.kp_a[perm], sim.score[perm])
    for name in ("point", "image", "keypoint", "depth"):
        np.testing.assert_array_equal(getattr(t1, name), getattr(t2, name))


def test_duplicated_matches_change_nothing():
    sim = simulate_matches(1000, n_images=20, wrong=0.02, seed=4)
    args = [sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score]
    t1 = build_tracks(*args)
    t2 = build_tracks(*[np.concatenate([v, v[::3]]) for v in args])
    assert canonical(t1) == canonical(t2)


def test_a_stray_match_between_two_points_is_cut_and_both_survive():
    # two complete three-image points and one wrong match from the first to the second
    e = np.array(
        [(1, 1, 2, 1), (1, 1, 3, 1), (2, 1, 3, 1), (1, 2, 2, 2), (1, 2, 3, 2), (2, 2, 3, 2), (3, 1, 1, 2)]
    )
    t = build_tracks(e[:, 0], e[:, 1], e[:, 2], e[:, 3])
    assert canonical(t) == {frozenset({(1, 1), (2, 1), (3, 1)}), frozenset({(1, 2), (2, 2), (3, 2)})}
    assert t.stats.conflicting_components == 1 and t.stats.cut == 1 and t.stats.trimmed == 0


def test_conflicts_keep_the_best_supported_keypoint_then_the_best_score():
    # image 1 keypoints 5 and 6 both matched into one chain; 6 has two matches, 5 one
    t = build_tracks([1, 1, 1, 2], [5, 6, 6, 4], [2, 2, 3, 3], [4, 4, 8, 8])
    assert_guarantees(t.point, t.image, t.keypoint)
    assert (1, 6) in canonical(t).pop()
    # equal support: the lower score wins
    t = build_tracks([1, 1], [5, 6], [2, 2], [4, 4], score=[0.5, 0.2])
    assert canonical(t) == {frozenset({(1, 6), (2, 4)})}
    t = build_tracks([1, 1], [5, 6], [2, 2], [4, 4], score=[0.2, 0.5])
    assert canonical(t) == {frozenset({(1, 5), (2, 4)})}
    # no score: the lower keypoint row
    t = build_tracks([1, 1], [6, 5], [2, 2], [4, 4])
    assert canonical(t) == {frozenset({(1, 5), (2, 4)})}


@pytest.mark.parametrize(
    "edges",
    [
        # a star: one keypoint matched to five keypoints of one image
        [(1, 0, 2, k) for k in range(5)],
        # complete bipartite between two images
        [(1, i, 2, j) for i in range(4) for j in range(4)],
        # a zig-zag chain through two images
        [(1, i, 2, i) for i in range(6)] + [(2, i, 1, i + 1) for i in range(5)],
        # every keypoint of three images matched to every other
        [(a, i, b, j) for a, b in ((1, 2), (1, 3), (2, 3)) for i in range(3) for j in range(3)],
        # a clique across five images with two keypoints each
        [(a, i, b, j) for a in range(5) for b in range(a + 1, 5) for i in range(2) for j in range(2)],
    ],
    ids=["star", "bipartite", "zigzag", "three-image-complete", "five-image-clique"],
)
def test_adversarial_graphs_keep_the_guarantees(edges):
    e = np.array(edges)
    t = build_tracks(e[:, 0], e[:, 1], e[:, 2], e[:, 3])
    assert_guarantees(t.point, t.image, t.keypoint, t.depth)
    assert t.n_points >= 1


def test_random_graphs_keep_the_guarantees():
    rng = np.random.default_rng(7)
    for trial in range(20):
        n = int(rng.integers(1, 400))
        ia, ib = rng.integers(0, 6, n), rng.integers(0, 6, n)
        ok = ia != ib
        ka, kb = rng.integers(0, 8, n), rng.integers(0, 8, n)
        score = rng.random(n) if trial % 2 else None
        t = build_tracks(ia[ok], ka[ok], ib[ok], kb[ok], None if score is None else score[ok])
        assert_guarantees(t.point, t.image, t.keypoint, t.depth)


def test_wrong_matches_without_ground_leave_almost_all_points_pure():
    sim = simulate_matches(5000, n_images=40, wrong=0.02, wrong_distance_m=100.0, seed=5)
    t = build_tracks(sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score)
    assert_guarantees(t.point, t.image, t.keypoint, t.depth)
    assert t.stats.conflicting_components > 50
    assert purity(sim, t) >= 0.99
    assert t.n_points >= 0.95 * 5000


def test_ground_offsets_recover_the_images_pointing_offsets():
    sim = simulate_matches(4000, n_images=30, offset_m=300.0, noise_m=3.0, wrong=0.01, seed=6)
    images, offsets = image_ground_offsets(sim.image_a, sim.image_b, sim.ground_a, sim.ground_b)
    np.testing.assert_array_equal(images, np.arange(30))
    truth = sim.image_offset - sim.image_offset.mean(axis=0)  # known up to one common shift
    assert np.abs(offsets - offsets.mean(axis=0) - truth).max() < 2.0


def test_ground_check_cuts_wrong_matches_and_keeps_the_points():
    sim = simulate_matches(5000, n_images=40, wrong=0.02, offset_m=300.0, seed=8)
    far = sim.wrong & (np.linalg.norm(sim.ground_a - sim.ground_b, axis=1) > 500.0)
    assert far.sum() > 0.5 * sim.wrong.sum()
    t = build_tracks(
        sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score, sim.ground_a, sim.ground_b, max_spread_m=50.0
    )
    assert_guarantees(t.point, t.image, t.keypoint, t.depth)
    assert t.stats.ground_cut >= far.sum() * 0.99
    assert purity(sim, t) >= 0.999
    assert t.n_points >= 0.995 * 5000
    assert np.nanmax(t.spread_m) <= 50.0


def test_raw_ground_spread_would_drop_everything_without_the_offsets():
    """The pointing offsets (300 m) dwarf the tolerance; the offset correction is what makes it usable."""
    sim = simulate_matches(2000, n_images=20, offset_m=300.0, noise_m=2.0, seed=9)
    t = build_tracks(
        sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, None, sim.ground_a, sim.ground_b, max_spread_m=30.0
    )
    assert t.n_points == 2000
    raw = np.linalg.norm(sim.ground_a - sim.ground_b, axis=1)
    assert np.median(raw) > 200.0


def test_a_drifting_chain_is_dropped_by_its_spread():
    # five images, one keypoint each, chained by matches of 20 m each: a 80 m long "point"
    n = 5
    ia, ib = np.arange(n - 1), np.arange(1, n)
    pos = np.zeros((n, 3))
    pos[:, 0] = 3.4e6
    pos[:, 1] = 20.0 * np.arange(n)
    # a second, compact point in the same images fixes the images' offsets at zero
    rng = np.random.default_rng(0)
    extra = 3.4e6 * np.array([1.0, 0.01, 0.0])
    ga = np.concatenate([pos[ia], np.repeat(extra[None], 40, 0) + rng.normal(0, 0.5, (40, 3))])
    gb = np.concatenate([pos[ib], np.repeat(extra[None], 40, 0) + rng.normal(0, 0.5, (40, 3))])
    pairs = rng.integers(0, n - 1, 40)
    image_a = np.concatenate([ia, pairs])
    image_b = np.concatenate([ib, pairs + 1])
    kp_a = np.concatenate([np.zeros(n - 1, int), np.arange(1, 41)])
    kp_b = np.concatenate([np.zeros(n - 1, int), np.arange(1, 41)])
    t = build_tracks(image_a, kp_a, image_b, kp_b, None, ga, gb, max_spread_m=30.0)
    assert (0, 0) not in {(i, k) for i, k in zip(t.image.tolist(), t.keypoint.tolist(), strict=True)}
    assert t.stats.spread_dropped >= 1
    loose = build_tracks(image_a, kp_a, image_b, kp_b, None, ga, gb, max_spread_m=100.0)
    assert (0, 0) in {(i, k) for i, k in zip(loose.image.tolist(), loose.keypoint.tolist(), strict=True)}


def test_matches_with_an_off_body_end_are_ignored():
    ga = np.array([[3.4e6, 0, 0], [np.nan] * 3, [3.4e6, 0, 0]])
    gb = np.array([[3.4e6, 1, 0], [3.4e6, 0, 0], [3.4e6, 0, 1]])
    t = build_tracks([1, 1, 2], [0, 1, 0], [2, 3, 3], [0, 0, 0], None, ga, gb)
    assert t.stats.matches_without_ground == 1
    assert (1, 1) not in set(zip(t.image.tolist(), t.keypoint.tolist(), strict=True))


def test_empty_input_gives_empty_tracks():
    t = build_tracks(np.empty(0, int), np.empty(0, int), np.empty(0, int), np.empty(0, int))
    assert t.n_points == 0 and t.n_measures == 0 and t.offsets.tolist() == [0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"image_a": [1, 2], "kp_a": [0, 0], "image_b": [1, 3], "kp_b": [1, 1]},
            "match 0 joins image 1 to itself",
        ),
        ({"image_a": [1], "kp_a": [0, 1], "image_b": [2], "kp_b": [1]}, "kp_a has 2 values"),
        ({"image_a": [-1], "kp_a": [0], "image_b": [2], "kp_b": [1]}, r"image_a\[0\] = -1"),
        ({"image_a": [1.5], "kp_a": [0], "image_b": [2], "kp_b": [1]}, "image_a must hold integers"),
        ({"image_a": [1], "kp_a": [0], "image_b": [2], "kp_b": [1], "ground_a": [[0, 0, 0]]}, "ground"),
        (
            {
                "image_a": [1],
                "kp_a": [0],
                "image_b": [2],
                "kp_b": [1],
                "ground_a": [0, 0],
                "ground_b": [0, 0],
            },
            r"ground_a must have shape \(1, 3\)",
        ),
        ({"image_a": [1], "kp_a": [0], "image_b": [2], "kp_b": [1], "score": [0.1, 0.2]}, "score must have"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(NetworkError, match=message):
        build_tracks(**kwargs)


# ------------------------------------------------------------------------------------------ extend


def _subset(sim, mask):
    return {
        k: getattr(sim, k)[mask]
        for k in ("image_a", "kp_a", "image_b", "kp_b", "score", "ground_a", "ground_b")
    }


def test_extending_with_new_images_adds_measures_and_never_touches_existing_points():
    sim = simulate_matches(3000, n_images=30, depth=(2, 6), seed=11)
    old = (sim.image_a < 20) & (sim.image_b < 20)
    first = build_tracks(**_subset(sim, old))
    ids = first.point * 10 + 7  # database-like ids
    upd = extend_tracks(ids, first.image, first.keypoint, **_subset(sim, ~old))
    # existing points only gain measures, in images they had none in
    assert set(upd.added_point.tolist()) <= set(ids.tolist())
    all_point = np.concatenate([ids, upd.added_point, 10**9 + upd.new.point])
    all_image = np.concatenate([first.image, upd.added_image, upd.new.image])
    all_kp = np.concatenate([first.keypoint, upd.added_keypoint, upd.new.keypoint])
    assert_guarantees(all_point, all_image, all_kp)
    # against the truth: the union is exactly the true points
    tp = true_points(sim, all_image, all_kp)
    _, dense = np.unique(all_point, return_inverse=True)
    lo = np.full(dense.max() + 1, 10**9)
    hi = np.full(dense.max() + 1, -1)
    np.minimum.at(lo, dense, tp)
    np.maximum.at(hi, dense, tp)
    assert (lo == hi).all()
    assert len(all_point) == len(sim.point)
    assert len(np.unique(all_point)) == 3000
    assert (upd.added_image >= 20).all()


def test_extend_refuses_merges_and_respects_occupied_images():
    # existing: point 100 = {(1,0), (2,0)}, point 200 = {(1,1), (2,1)}
    point, image, kp = [100, 100, 200, 200], [1, 2, 1, 2], [0, 0, 1, 1]
    # (3,0) matches both points' measures at the same distance: contested, joins neither;
    # (1,0)-(2,1) would merge the points: refused; (4,0)-(1,0) joins 100; (2,5)-(4,0) adds a second
    # measure in image 2 to point 100: not added; (5,0)-(6,0) is a new point
    upd = extend_tracks(
        point, image, kp,
        image_a=[3, 3, 1, 4, 2, 5],
        kp_a=[0, 0, 0, 0, 5, 0],
        image_b=[1, 2, 2, 1, 4, 6],
        kp_b=[0, 1, 1, 0, 0, 0],
    )  # fmt: skip
    assert upd.stats.merges_refused == 1
    assert upd.stats.contested == 1
    added = set(
        zip(upd.added_point.tolist(), upd.added_image.tolist(), upd.added_keypoint.tolist(), strict=True)
    )
    assert added == {(100, 4, 0)}
    assert canonical(upd.new) == {frozenset({(5, 0), (6, 0)})}


def test_extend_with_no_existing_points_is_build():
    sim = simulate_matches(1500, n_images=20, wrong=0.02, seed=12)
    args = _subset(sim, np.ones(len(sim.image_a), bool))
    built = build_tracks(**args, max_spread_m=50.0)
    upd = extend_tracks(np.empty(0, int), np.empty(0, int), np.empty(0, int), **args, max_spread_m=50.0)
    assert len(upd.added_point) == 0
    assert canonical(upd.new) == canonical(built)


def test_extend_rejects_an_invalid_existing_network():
    with pytest.raises(NetworkError, match="two measures in image 1"):
        extend_tracks([5, 5], [1, 1], [0, 1], [1], [2], [2], [0])
    with pytest.raises(NetworkError, match="keypoint 0 of image 1 more than once"):
        extend_tracks([5, 6], [1, 1], [0, 0], [1], [2], [2], [0])


def test_the_simulator_tells_the_truth():
    """The truth the other tests rely on: correct matches join measures of one point, wrong ones not."""
    sim = simulate_matches(500, n_images=12, wrong=0.1, seed=13)
    pa = true_points(sim, sim.image_a, sim.kp_a)
    pb = true_points(sim, sim.image_b, sim.kp_b)
    np.testing.assert_array_equal(pa != pb, sim.wrong)
    assert sim.wrong.sum() == round(0.1 * (~sim.wrong).sum())
    assert (sim.image_a != sim.image_b).all()
    assert_guarantees(sim.point, sim.image, sim.keypoint)
    # ground positions: the point, plus the image's offset, plus noise of a few metres
    expected = sim.xyz[pa] + sim.image_offset[sim.image_a]
    assert np.abs(sim.ground_a - expected).max() < 30.0
