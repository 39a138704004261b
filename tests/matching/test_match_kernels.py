"""The matching kernels against independent implementations and closed forms.

Distances against scipy's ``cdist`` and unpacked bits; the ratio/mutual selection against a plain
loop; brute force against OpenCV's BFMatcher; thinning against its definition; verification and
gated matching on simulated strips whose truth is known (a smoothly warped 20,000-line "line scan"
where no single homography holds, and a ground offset drifting by 200 m along it).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from tiepoint.config import VerificationConfig
from tiepoint.errors import MatchingError
from tiepoint.matching import grid_thin, load_matcher, verify
from tiepoint.matching.descriptors import Descriptors
from tiepoint.matching.matchers import MatchSide
from tiepoint.matching.select import nearest_from_pairs, select

RNG = np.random.default_rng(42)


def _sift_like(n: int, rng=RNG) -> np.ndarray:
    return np.clip(rng.gamma(0.6, 30.0, (n, 128)), 0, 255).round().astype(np.uint8)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_l2_distances_equal_cdist(dtype):
    a = _sift_like(300).astype(dtype) / (1 if dtype == np.uint8 else 512.0)
    b = _sift_like(200).astype(dtype) / (1 if dtype == np.uint8 else 512.0)
    a, b = a.astype(dtype), b.astype(dtype)
    expected = cdist(a.astype(np.float64), b.astype(np.float64))
    da, db = Descriptors(a, "l2"), Descriptors(b, "l2")
    np.testing.assert_allclose(da.dense(db), expected, rtol=1e-4, atol=1e-3)
    i, j = RNG.integers(0, 300, 5000), RNG.integers(0, 200, 5000)
    np.testing.assert_allclose(da.pairs(db, i, j), expected[i, j], rtol=1e-5, atol=1e-4)


def test_hamming_distances_equal_counted_bits():
    a = RNG.integers(0, 256, (150, 32), dtype=np.uint8)
    b = RNG.integers(0, 256, (120, 32), dtype=np.uint8)
    bits_a, bits_b = np.unpackbits(a, axis=1).astype(bool), np.unpackbits(b, axis=1).astype(bool)
    expected = (bits_a[:, None, :] != bits_b[None, :, :]).sum(axis=2)
    da, db = Descriptors(a, "hamming"), Descriptors(b, "hamming")
    np.testing.assert_array_equal(da.dense(db), expected)
    i, j = RNG.integers(0, 150, 3000), RNG.integers(0, 120, 3000)
    np.testing.assert_array_equal(da.pairs(db, i, j), expected[i, j])
    assert cv2.norm(a[3], b[7], cv2.NORM_HAMMING) == expected[3, 7]


def test_descriptor_mismatches_are_clear_errors():
    with pytest.raises(MatchingError, match="norm"):
        Descriptors(np.zeros((2, 4), np.uint8), "cosine")
    with pytest.raises(MatchingError, match="packed uint8"):
        Descriptors(np.zeros((2, 4), np.float32), "hamming")
    with pytest.raises(MatchingError, match="different extractors"):
        sift, orb = (
            Descriptors(np.zeros((2, 128), np.uint8), "l2"),
            Descriptors(np.zeros((2, 32), np.uint8), "hamming"),
        )
        sift.pairs(orb, [0], [0])


def _naive_select(query, cand, dist, nq, nc, ratio, mutual):
    """The ratio test and mutual check written as plain loops (the reference)."""
    per_q = {
        q: sorted((d, c) for qq, c, d in zip(query, cand, dist, strict=True) if qq == q) for q in range(nq)
    }
    per_c = {c: min(((d, q) for q, cc, d in zip(query, cand, dist, strict=True) if cc == c), default=None)
             for c in range(nc)}  # fmt: skip
    out = []
    for q, lst in per_q.items():
        if not lst:
            continue
        d1, c1 = lst[0]
        d2 = lst[1][0] if len(lst) > 1 else np.inf
        if not d1 < ratio * d2:
            continue
        if mutual and per_c[c1][1] != q:
            continue
        out.append((q, c1))
    return out


@pytest.mark.parametrize("mutual", [True, False])
@pytest.mark.parametrize(("nq", "nc", "npairs"), [(60, 50, 600), (300, 400, 1500)], ids=["dense", "sorted"])
def test_ratio_and_mutual_selection_equal_the_plain_loop(mutual, nq, nc, npairs):
    """Both reductions: a dense matrix when the pairs fill >= 2 % of it, sorting otherwise."""
    rng = np.random.default_rng(7)
    q_all, c_all = rng.integers(0, nq, npairs), rng.integers(0, nc, npairs)
    pairs = {(int(q), int(c)) for q, c in zip(q_all, c_all, strict=True)}
    query, cand = (np.array(v) for v in zip(*sorted(pairs), strict=True))
    dist = rng.uniform(0, 100, len(query)).astype(np.float32)  # distinct: no ties
    index, _, r = select(nearest_from_pairs(query, cand, dist, nq, nc), 0.8, mutual)
    assert sorted(map(tuple, index.tolist())) == _naive_select(query, cand, dist, nq, nc, 0.8, mutual)
    assert index.dtype == np.int32 and index.shape[1] == 2
    assert np.all(r < 0.8)
    empty = select(
        nearest_from_pairs(np.empty(0, int), np.empty(0, int), np.empty(0, np.float32), 3, 3), 0.8, True
    )
    assert empty[0].shape == (0, 2)


def _side(desc, norm="l2", xy=None, xyz=None):
    n = len(desc)
    xy = np.zeros((n, 2)) if xy is None else xy
    return MatchSide(np.arange(n, dtype=np.int32), xy[:, 0], xy[:, 1], np.ones(n, np.float32),
                     Descriptors(desc, norm), xyz)  # fmt: skip


@pytest.mark.parametrize("norm", ["l2", "hamming"])
def test_exact_brute_force_equals_opencv_bfmatcher(norm):
    if norm == "l2":
        a = _sift_like(700)
        b = np.concatenate(
            [np.clip(a[:400] + RNG.normal(0, 8, (400, 128)), 0, 255).astype(np.uint8), _sift_like(500)]
        )
    else:
        a = RNG.integers(0, 256, (700, 32), dtype=np.uint8)
        flips = np.packbits(RNG.random((400, 256)) < 0.08, axis=1)
        b = np.concatenate([a[:400] ^ flips, RNG.integers(0, 256, (500, 32), dtype=np.uint8)])
    got = load_matcher("bf", {"mutual": False}).match(_side(a, norm), _side(b, norm))
    cv_norm = cv2.NORM_L2 if norm == "l2" else cv2.NORM_HAMMING
    fa, fb = (a.astype(np.float32), b.astype(np.float32)) if norm == "l2" else (a, b)
    knn = cv2.BFMatcher(cv_norm).knnMatch(fa, fb, k=2)
    expected = {(m.queryIdx, m.trainIdx) for m, s in knn if m.distance < 0.8 * s.distance}
    assert set(map(tuple, got.index.tolist())) == expected
    true_found = np.sum(got.index[:, 0] == got.index[:, 1]) if len(got) else 0
    assert true_found >= 380
    flann = load_matcher("bf", {"mutual": False, "algorithm": "flann"}).match(_side(a, norm), _side(b, norm))
    assert len(set(map(tuple, flann.index.tolist())) & expected) >= 0.9 * len(expected)


def test_grid_thinning_keeps_the_best_point_of_each_cell_and_about_the_target():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1000, 5000), rng.uniform(0, 500, 5000)
    x[:2000], y[:2000] = rng.uniform(0, 100, 2000), rng.uniform(0, 100, 2000)  # a dense cluster
    score = rng.random(5000)
    keep = grid_thin(x, y, score, 300)
    assert 270 <= len(keep) <= 300
    assert len(np.unique(keep)) == len(keep)
    # even: the cluster (2 % of the area, 40 % of the points) keeps about its share of the area
    in_cluster = np.sum((x[keep] < 100) & (y[keep] < 100))
    assert in_cluster <= 0.1 * len(keep)
    assert np.array_equal(grid_thin(x, y, score, 10**6), np.arange(5000))
    assert len(grid_thin(x, y, score, 0)) == 0
    # of two points in one cell, the better-scored one survives
    keep2 = grid_thin(np.array([0.0, 0.1, 500.0]), np.array([0.0, 0.1, 500.0]), np.array([0.9, 0.1, 0.5]), 2)
    assert keep2.tolist() == [1, 2]


def _warped_strip(n=4000, outliers=400, seed=5):
    """A 1000 x 20000 px 'line scan': b = a warped by a smooth along-track drift (no homography fits),
    matches with 0.3 px noise, and gross outliers."""
    rng = np.random.default_rng(seed)
    xa, ya = rng.uniform(0, 1000, n), rng.uniform(0, 20000, n)
    t = ya / 20000.0
    xb = 0.98 * xa + 40.0 + 60.0 * np.sin(2.5 * np.pi * t) + 0.002 * xa * t
    yb = 1.02 * ya - 15.0 + 30.0 * t**2
    xb, yb = xb + rng.normal(0, 0.3, n), yb + rng.normal(0, 0.3, n)
    bad = rng.choice(n, outliers, replace=False)
    xb[bad] += rng.uniform(5, 80, outliers) * rng.choice([-1, 1], outliers)
    yb[bad] += rng.uniform(5, 80, outliers) * rng.choice([-1, 1], outliers)
    truth = np.ones(n, bool)
    truth[bad] = False
    return xa, ya, xb, yb, truth


def test_local_models_verify_a_long_warped_strip_where_no_global_model_holds():
    xa, ya, xb, yb, truth = _warped_strip()
    src, dst = np.column_stack([xa, ya]).astype(np.float32), np.column_stack([xb, yb]).astype(np.float32)
    _, global_inliers = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 1.5)
    assert global_inliers.sum() < 0.5 * truth.sum()  # one homography for the strip fails
    xyz_a = np.column_stack([xa * 6.0, ya * 6.0, np.zeros_like(xa)])  # flat ground, 6 m pixels
    xyz_b = xyz_a + np.array([300.0, -100.0, 0.0])
    v = verify(xa, ya, xb, yb, xyz_a, xyz_b, VerificationConfig())
    assert np.sum(v.inlier & truth) >= 0.98 * truth.sum()
    assert np.sum(v.inlier & ~truth) == 0
    assert v.stats["tiles"] >= 20 and v.stats["tiles_failed"] == 0
    assert v.offset_m == pytest.approx((300.0, -100.0, 0.0), abs=1e-6)
    assert v.residual_px.dtype == np.float32 and np.nanmax(v.residual_px[v.inlier]) <= 1.5


def test_ground_step_follows_a_drifting_offset_and_rejects_far_offsets():
    xa, ya, xb, yb, _ = _warped_strip(outliers=0)
    xyz_a = np.column_stack([xa * 6.0, ya * 6.0, np.zeros_like(xa)])
    drift = np.column_stack([300.0 + 200.0 * ya / 20000.0, np.zeros_like(ya), np.zeros_like(ya)])
    xyz_b = xyz_a + drift + np.random.default_rng(1).normal(0, 2.0, xyz_a.shape)
    wrong = np.arange(0, len(xa), 50)  # 2 %: right in the image, 150 m off on the ground
    xyz_b[wrong, 1] += 150.0
    v = verify(xa, ya, xb, yb, xyz_a, xyz_b, VerificationConfig())
    assert not v.inlier[wrong].any()
    rest = np.setdiff1d(np.arange(len(xa)), wrong)
    assert v.inlier[rest].mean() >= 0.99  # a global median +- 3 MAD would cut the strip's ends
    assert np.nanmedian(v.ground_residual_m[rest]) < 5.0


def test_image_space_verification_needs_enough_consistent_matches():
    rng = np.random.default_rng(9)
    xa, ya = rng.uniform(0, 500, (2, 100))
    xb, yb = rng.uniform(0, 500, (2, 100))  # chance matches of unrelated images
    assert not verify(xa, ya, xb, yb).inlier.any()
    h = np.array([[1.02, 0.05, 20.0], [-0.03, 0.97, -11.0], [1e-5, 2e-5, 1.0]])
    p = np.column_stack([xa, ya, np.ones(100)]) @ h.T
    hx, hy = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
    for model in ("fundamental", "homography"):
        v = verify(xa, ya, hx, hy, config=VerificationConfig(image_model=model))
        assert v.inlier.all() and v.offset_m is None
        assert np.isnan(v.ground_residual_m).all()
    with pytest.raises(MatchingError, match="both images or neither"):
        verify(xa, ya, hx, hy, np.zeros((100, 3)), None)


def _strip_sides(n=6000, shared=3000, drift_m=200.0, seed=11):
    """Two keypoint sets along a 6 x 60 km strip whose a-priori offset drifts from 300 m to 300 + drift."""
    rng = np.random.default_rng(seed)
    true_a = np.column_stack([rng.uniform(0, 6000, n), rng.uniform(0, 60000, n)])
    others = np.column_stack([rng.uniform(0, 6000, n - shared), rng.uniform(0, 60000, n - shared)])
    true_b = np.concatenate([true_a[:shared], others])
    desc_a = _sift_like(n, rng)
    noisy = np.clip(desc_a[:shared] + rng.normal(0, 6, (shared, 128)), 0, 255).astype(np.uint8)
    desc_b = np.concatenate([noisy, _sift_like(n - shared, rng)])
    offset = np.column_stack([300.0 + drift_m * true_b[:, 1] / 60000.0, np.zeros(n)])

    def xyz(en):
        return np.column_stack([en, np.full(len(en), 3396190.0)])  # a flat patch is enough for the tree

    def to_b(t):
        return t / 6.0 * 1.01 + 3.0

    side_a = _side(desc_a, xy=true_a / 6.0, xyz=xyz(true_a))
    side_b = _side(desc_b, xy=to_b(true_b), xyz=xyz(true_b + offset))
    return side_a, side_b, shared, to_b(true_a)


def test_gated_matching_finds_the_true_pairs_along_a_drifting_strip():
    a, b, shared, a_in_b = _strip_sides()
    m = load_matcher("gated").match(a, b)
    assert m.method == "gated"
    correct = m.index[:, 0] == m.index[:, 1]
    found = np.sum(correct & (m.index[:, 0] < shared))
    assert found >= 0.99 * shared
    v = verify(a.x[m.index[:, 0]], a.y[m.index[:, 0]], b.x[m.index[:, 1]], b.y[m.index[:, 1]],
               a.xyz[m.index[:, 0]], b.xyz[m.index[:, 1]])  # fmt: skip
    assert np.sum(v.inlier & correct) >= 0.98 * shared
    # a keypoint of a that b did not see may meet another keypoint of b right where it should be: a
    # geometrically right match; none may be more than 1.5 px from the truth
    err = np.hypot(*(np.column_stack([b.x, b.y])[m.index[:, 1]] - a_in_b[m.index[:, 0]]).T)
    assert np.all(err[v.inlier] < 1.5)


def test_matcher_parameters_are_checked_by_name():
    with pytest.raises(MatchingError, match=r"unknown gated matcher parameter\(s\) \['radius'\]"):
        load_matcher("gated", {"radius": 5})
    with pytest.raises(MatchingError, match="ground_radius_m must be a number > 0"):
        load_matcher("gated", {"ground_radius_m": -1})
    with pytest.raises(MatchingError, match="algorithm"):
        load_matcher("bf", {"algorithm": "faiss"})
    with pytest.raises(MatchingError, match="unknown matcher 'lightglue'"):
        load_matcher("lightglue")
    with pytest.raises(MatchingError, match="ground coordinates"):
        load_matcher("gated").match(_side(_sift_like(5)), _side(_sift_like(5)))
