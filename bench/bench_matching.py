"""Benchmark ground-gated matching + verification against OpenCV brute force and FLANN, on one core.

A simulated CTX-like pair: 20,000 keypoints per image over a 10 x 10 km patch of Mars (200 per
km^2, 5 m pixels; ``--side-km`` changes it), half of them seen in both images. Each keypoint has a
true ground point; the a-priori cameras put image a's ground 150 m and image b's 150 m the other
way, so the pair's a-priori offset is 300 m. Descriptors are SIFT-like 128-D uint8 (gamma-distributed
values), the shared keypoints' descriptors in b are a's plus Gaussian noise; image positions come
from the true ground through a different affine map per image (rotated 12 deg, scaled 1.05) plus
0.3 px noise.

Rows (each the median of --repeat runs, all in this process, BLAS/OpenCV limited to one thread):
  gated + verify   tiepoint's ``gated`` matcher then ``verify`` (ground offset + local affine tiles)
  gated only       the matcher alone
  cv2 BF           cv2.BFMatcher(NORM_L2).knnMatch(k=2) + ratio 0.8 (the baseline)
  cv2 FLANN        cv2.FlannBasedMatcher (kd-trees 4, checks 32) knnMatch(k=2) + ratio 0.8
Recall = true pairs found / 10,000; false = matches that are not the simulated pair; >1.5px = matches
whose keypoint in b lies farther than 1.5 px from where a's keypoint truly is in b.

Usage: .venv/bin/python bench/bench_matching.py [--n 20000] [--side-km 10] [--repeat 3] [--skip-bf]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy loads its BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

R_MARS = 3396190.0
PIXEL_M = 5.0


def _tangent_frame(lat: float, lon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    la, lo = np.radians(lat), np.radians(lon)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    return up, east, np.cross(up, east)


def simulate(n: int, side: float = 10000.0, seed: int = 0, offset_m: float = 300.0) -> dict[str, np.ndarray]:
    """Two keypoint sets with a-priori ground positions, descriptors, image positions and the truth."""
    rng = np.random.default_rng(seed)
    up, east, north = _tangent_frame(10.0, 200.0)
    shared = n // 2

    def ground(en: np.ndarray) -> np.ndarray:
        p = R_MARS * up + en[:, :1] * east + en[:, 1:] * north
        return p / np.linalg.norm(p, axis=1, keepdims=True) * R_MARS

    true_a = rng.uniform(0, side, (n, 2))
    true_b = np.concatenate([true_a[:shared], rng.uniform(0, side, (n - shared, 2))])
    desc_a = np.clip(rng.gamma(0.6, 30.0, (n, 128)), 0, 255)
    desc_b = np.concatenate([desc_a[:shared] + rng.normal(0, 6.0, (shared, 128)),
                             np.clip(rng.gamma(0.6, 30.0, (n - shared, 128)), 0, 255)])  # fmt: skip
    direction = rng.uniform(0, 2 * np.pi)
    err = 0.5 * offset_m * np.array([np.cos(direction), np.sin(direction)])
    order_b = rng.permutation(n)  # b's keypoints in another order
    angle = np.radians(12.0)
    rot = 1.05 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    img_a = true_a / PIXEL_M + rng.normal(0, 0.3, (n, 2))
    to_b = lambda t: (t - side / 2) @ rot.T / PIXEL_M + side / 2 / PIXEL_M  # noqa: E731
    img_b = to_b(true_b) + rng.normal(0, 0.3, (n, 2))
    truth_b = np.empty(n, np.intp)
    truth_b[order_b] = np.arange(n)  # truth_b[i]: b's row of the keypoint at b-index i before shuffling
    return {
        "xyz_a": ground(true_a - err), "xyz_b": ground(true_b + err)[order_b],
        "desc_a": np.round(desc_a).astype(np.uint8),
        "desc_b": np.round(np.clip(desc_b, 0, 255)).astype(np.uint8)[order_b],
        "img_a": img_a, "img_b": img_b[order_b], "response": rng.uniform(0.01, 0.1, n).astype(np.float32),
        "true_pairs": np.column_stack([np.arange(shared), truth_b[:shared]]),
        "a_in_b": to_b(true_a),  # where each keypoint of a truly is in image b
    }  # fmt: skip


def _score(pairs: np.ndarray, sim: dict[str, np.ndarray]) -> tuple[float, int, int]:
    """Recall of the simulated pairs, matches that are not one, and matches whose keypoint in b lies
    more than 1.5 px from the true position of a's keypoint (a chance neighbour within 1.5 px is a
    geometrically right match although not the simulated one)."""
    pairs = np.asarray(pairs).reshape(-1, 2)
    truth = set(map(tuple, sim["true_pairs"].tolist()))
    found = set(map(tuple, pairs.tolist()))
    far = np.linalg.norm(sim["img_b"][pairs[:, 1]] - sim["a_in_b"][pairs[:, 0]], axis=1) > 1.5
    return len(found & truth) / len(truth), len(found - truth), int(far.sum())


def run_gated(sim: dict[str, np.ndarray], verify_too: bool) -> np.ndarray:
    from tiepoint.config import VerificationConfig
    from tiepoint.matching import load_matcher, verify
    from tiepoint.matching.descriptors import Descriptors
    from tiepoint.matching.matchers import MatchSide

    n = len(sim["xyz_a"])

    def side(k: str) -> MatchSide:
        img = sim[f"img_{k}"]
        return MatchSide(np.arange(n, dtype=np.int32), img[:, 0], img[:, 1], sim["response"],
                         Descriptors(sim[f"desc_{k}"], "l2"), sim[f"xyz_{k}"])  # fmt: skip

    a, b = side("a"), side("b")
    raw = load_matcher("gated").match(a, b)
    if not verify_too:
        return raw.index
    i, j = raw.index[:, 0], raw.index[:, 1]
    v = verify(a.x[i], a.y[i], b.x[j], b.y[j], a.xyz[i], b.xyz[j], VerificationConfig())
    return raw.index[v.inlier]


def _ratio_pairs(knn: list, ratio: float = 0.8) -> np.ndarray:
    # OpenCV returns DMatch objects: one pass over them is the baseline's own cost
    rows = [
        (m[0].queryIdx, m[0].trainIdx) for m in knn if len(m) == 2 and m[0].distance < ratio * m[1].distance
    ]
    return np.array(rows, dtype=np.intp).reshape(-1, 2)


def run_bf(sim: dict[str, np.ndarray]) -> np.ndarray:
    a, b = sim["desc_a"].astype(np.float32), sim["desc_b"].astype(np.float32)
    return _ratio_pairs(cv2.BFMatcher(cv2.NORM_L2).knnMatch(a, b, k=2))


def run_flann(sim: dict[str, np.ndarray]) -> np.ndarray:
    a, b = sim["desc_a"].astype(np.float32), sim["desc_b"].astype(np.float32)
    flann = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 32})
    return _ratio_pairs(flann.knnMatch(a, b, k=2))


def _timed(fn, repeat: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="keypoints per image")
    parser.add_argument("--side-km", type=float, default=10.0, help="side of the square ground patch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-bf", action="store_true", help="leave out the slow brute-force baseline")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sim = simulate(args.n, args.side_km * 1000.0)
    run_gated(simulate(2000, seed=1), True)  # warm up imports and caches
    rows = [("gated + verify", lambda: run_gated(sim, True)), ("gated only", lambda: run_gated(sim, False)),
            ("cv2 FLANN", lambda: run_flann(sim))]  # fmt: skip
    if not args.skip_bf:
        rows.insert(2, ("cv2 BF", lambda: run_bf(sim)))
    results = []
    for name, fn in rows:
        seconds, pairs = _timed(fn, 1 if name == "cv2 BF" else args.repeat)
        results.append((name, seconds, len(pairs), *_score(pairs, sim)))
    base = next((r[1] for r in results if r[0] == "cv2 BF"), None)
    density = args.n / args.side_km**2
    print(f"{args.n} x {args.n} keypoints over {args.side_km:g} x {args.side_km:g} km "
          f"({density:.0f} per km^2), 300 m a-priori offset, one thread; median of {args.repeat} runs "
          "(BF: 1)")  # fmt: skip
    print(
        f"{'method':<16} {'seconds':>8} {'vs BF':>7} {'matches':>8} {'recall':>7} {'false':>6} {'>1.5px':>7}"
    )
    for name, seconds, count, recall, false, far in results:
        ratio = f"{seconds / base:7.3f}" if base else "      -"
        print(f"{name:<16} {seconds:8.3f} {ratio} {count:8d} {recall:7.4f} {false:6d} {far:7d}")


if __name__ == "__main__":
    main()
