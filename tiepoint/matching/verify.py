"""Geometric verification of raw matches, valid for line scanners (no global F or H over a strip).

Pairs with cameras (ground coordinates on both sides), :func:`verify`:

1. **ground offset**: the body-fixed offset ``xyz_b - xyz_a`` of every match; its median and MAD
   over the pair are recorded (the pointing-error diagnostic), and a match is rejected when its
   offset is farther from the median offset of its ``ground_neighbours`` nearest matches than
   ``max(ground_mad_factor * 1.4826 * MAD, ground_floor_m)`` (the local median follows an offset that
   drifts along a long strip);
2. **local image model**: image a is cut into ``tile_px`` tiles; for each tile an ``affine`` or
   ``homography`` map a -> b is fitted with OpenCV's USAC MAGSAC on the surviving matches of the
   tile (of its 3 x 3 neighbourhood when the tile alone has fewer than ``3 * min_inliers``), and the
   tile's matches within ``ransac_px`` of it are inliers. A tile whose model has fewer than
   ``min_inliers`` inliers keeps none.

Pairs without cameras, :func:`verify` with ``xyz_a = xyz_b = None``: one ``image_model`` for the
whole pair, a fundamental matrix (Sampson distance; stereo frames with relief: the Apollo pair's
matches scatter by up to ~5 px around any homography) checked against a coarse homography
(``image_planar_px``), or a homography alone; the residuals to a least-squares homography of the
inliers are recorded either way.

Either way a pair with fewer than ``min_inliers`` inliers in all keeps none, so images that do not
overlap give no matches rather than a few chance ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tiepoint.config import VerificationConfig
from tiepoint.errors import MatchingError

MAD_TO_SIGMA = 1.4826


@dataclass(slots=True, eq=False)
class Verification:
    """The verdict on each raw match, and what the pair's geometry looked like."""

    inlier: np.ndarray
    """(N,) bool."""
    residual_px: np.ndarray
    """(N,) float32 distance (px, in image b) to the fitted model; NaN where no model was fitted."""
    ground_residual_m: np.ndarray
    """(N,) float32 distance of the ground offset from its local median (m); NaN without cameras."""
    offset_m: tuple[float, float, float] | None
    """Median body-fixed offset b - a of the inliers (m); None without cameras."""
    offset_mad_m: float | None
    """Median distance of the inliers' offsets from it (m)."""
    stats: dict[str, float] = field(default_factory=dict)
    """Counts and residual statistics (``residual_px_median``, ``residual_px_p90``, ...)."""


def _fit(
    src: np.ndarray, dst: np.ndarray, model: str, cfg: VerificationConfig, threshold: float | None = None
) -> np.ndarray | None:
    """The model (2x3 affine, 3x3 homography or fundamental matrix) fitted with USAC MAGSAC at
    ``threshold`` px (default ``cfg.ransac_px``), or None when it cannot be fitted."""
    import cv2  # here: importing the package (a configuration check) must not load OpenCV

    src32, dst32 = src.astype(np.float32), dst.astype(np.float32)
    thr = cfg.ransac_px if threshold is None else threshold
    try:
        if model == "affine":
            m, _ = cv2.estimateAffine2D(src32, dst32, method=cv2.USAC_MAGSAC, ransacReprojThreshold=thr,
                                        maxIters=cfg.max_iters, confidence=cfg.confidence)  # fmt: skip
        elif model == "homography":
            m, _ = cv2.findHomography(src32, dst32, cv2.USAC_MAGSAC, thr, maxIters=cfg.max_iters,
                                      confidence=cfg.confidence)  # fmt: skip
        else:
            m, _ = cv2.findFundamentalMat(src32, dst32, cv2.USAC_MAGSAC, thr, cfg.confidence, cfg.max_iters)
            m = None if m is None else m[:3]
    except cv2.error:
        return None
    return None if m is None or not np.all(np.isfinite(m)) else m


def residuals(model: np.ndarray, src: np.ndarray, dst: np.ndarray, kind: str) -> np.ndarray:
    """Per-match residual (px) of ``dst`` under ``model``: transfer error for affine/homography,
    Sampson distance for a fundamental matrix."""
    ones = np.ones((len(src), 1))
    if kind == "affine":
        return np.linalg.norm(src @ model[:, :2].T + model[:, 2] - dst, axis=1)
    hs, hd = np.hstack([src, ones]), np.hstack([dst, ones])
    if kind == "homography":
        p = hs @ model.T
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.linalg.norm(p[:, :2] / p[:, 2:3] - dst, axis=1)
        return np.where(np.isfinite(out), out, np.inf)
    fx, ftx = hs @ model.T, hd @ model  # F x and F^T x'
    num = np.einsum("ij,ij->i", hd, fx) ** 2
    den = fx[:, 0] ** 2 + fx[:, 1] ** 2 + ftx[:, 0] ** 2 + ftx[:, 1] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.where(den > 0, num / den, np.inf))


def _ground_step(xyz_a: np.ndarray, xyz_b: np.ndarray, cfg: VerificationConfig):
    """(keep mask, residual to the local median offset (m), global median offset, MAD)."""
    from scipy.spatial import cKDTree

    offsets = xyz_b - xyz_a
    median = np.median(offsets, axis=0)
    mad = float(np.median(np.linalg.norm(offsets - median, axis=1)))
    k = min(cfg.ground_neighbours, len(offsets))
    _, nn = cKDTree(xyz_a).query(xyz_a, k=k)
    local = np.median(offsets[nn.reshape(len(offsets), k)], axis=1)
    residual = np.linalg.norm(offsets - local, axis=1)
    tolerance = max(cfg.ground_mad_factor * MAD_TO_SIGMA * float(np.median(residual)), cfg.ground_floor_m)
    return residual <= tolerance, residual, median, mad, tolerance


def _tile_models(xa, ya, src, dst, candidate, cfg: VerificationConfig, stats: dict[str, float]):
    """Residuals (px) of the candidate matches to their tile's local model; inf where none fits."""
    res = np.full(len(xa), np.nan)
    tx = np.floor(xa / cfg.tile_px).astype(np.int64)
    ty = np.floor(ya / cfg.tile_px).astype(np.int64)
    idx = np.flatnonzero(candidate)
    width = int(tx.max() - tx.min()) + 3 if len(xa) else 1
    key = (ty - ty.min() + 1) * width + (tx - tx.min() + 1)
    order = idx[np.argsort(key[idx], kind="stable")]
    keys_sorted = key[order]
    tiles, starts, counts = np.unique(keys_sorted, return_index=True, return_counts=True)
    where = dict(zip(tiles.tolist(), zip(starts.tolist(), counts.tolist(), strict=True), strict=True))
    fitted = failed = 0
    for tile, (start, count) in where.items():  # one model per tile: a loop over tiles, not matches
        own = order[start : start + count]
        fit_on = own
        if count < 3 * cfg.min_inliers:
            parts = [where.get(tile + dy * width + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            fit_on = np.concatenate([order[s : s + c] for s, c in filter(None, parts)])
        model = _fit(src[fit_on], dst[fit_on], cfg.model, cfg) if len(fit_on) >= cfg.min_inliers else None
        if model is None or np.sum(residuals(model, src[fit_on], dst[fit_on], cfg.model) <= cfg.ransac_px) < (
            cfg.min_inliers
        ):
            res[own] = np.inf
            failed += 1
            continue
        res[own] = residuals(model, src[own], dst[own], cfg.model)
        fitted += 1
    stats.update(tiles=float(len(where)), tiles_fitted=float(fitted), tiles_failed=float(failed))
    return res


def _image_model(src: np.ndarray, dst: np.ndarray, cfg: VerificationConfig, stats: dict[str, float]):
    """Residuals (px) to one model for the whole pair (no cameras); NaN when it cannot be fitted.

    With a fundamental matrix the residual is the Sampson distance, and matches farther than
    ``image_planar_px`` from one (coarse) homography get inf: the ground seen from orbit is nearly a
    plane, so parallax beyond that is implausible, and a fundamental matrix alone can be fitted to
    ~7-14 of a hundred random matches.
    """
    res = np.full(len(src), np.nan)
    if len(src) < cfg.min_inliers:
        return res
    model = _fit(src, dst, cfg.image_model, cfg)
    if model is None:
        return res
    res = residuals(model, src, dst, cfg.image_model)
    if cfg.image_model == "fundamental" and cfg.image_planar_px is not None:
        plane = _fit(src, dst, "homography", cfg, cfg.image_planar_px)
        off_plane = np.ones(len(src), bool) if plane is None else (
            residuals(plane, src, dst, "homography") > cfg.image_planar_px)  # fmt: skip
        res[off_plane] = np.inf
        stats["off_plane"] = float(off_plane.sum())
    return res


def verify(
    xa: np.ndarray,
    ya: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    xyz_a: np.ndarray | None = None,
    xyz_b: np.ndarray | None = None,
    config: VerificationConfig | None = None,
) -> Verification:
    """Verify raw matches ``(xa, ya) <-> (xb, yb)`` (OpenCV pixels), with ground positions if known.

    Parameters
    ----------
    xa, ya, xb, yb : (N,) arrays
        Matched positions in images a and b.
    xyz_a, xyz_b : (N, 3) arrays, optional
        Their a-priori body-fixed ground positions (m). Both or neither.
    config : VerificationConfig, optional

    Returns
    -------
    Verification

    Raises
    ------
    MatchingError
        The arrays disagree in length, or only one side has ground positions.
    """
    cfg = config or VerificationConfig()
    xa, ya, xb, yb = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (xa, ya, xb, yb))
    n = len(xa)
    if not (len(ya) == len(xb) == len(yb) == n):
        raise MatchingError(
            f"matched positions disagree in length: {len(xa)}, {len(ya)}, {len(xb)}, {len(yb)}"
        )
    if (xyz_a is None) != (xyz_b is None):
        raise MatchingError("ground positions are needed for both images or neither")
    ground = xyz_a is not None
    stats: dict[str, float] = {"raw": float(n)}
    gres = np.full(n, np.nan)
    candidate = np.ones(n, bool)
    offset, mad = None, None
    if ground and n:
        xyz_a, xyz_b = (
            np.asarray(xyz_a, np.float64).reshape(n, 3),
            np.asarray(xyz_b, np.float64).reshape(n, 3),
        )
        candidate, gres, _, _, tol = _ground_step(xyz_a, xyz_b, cfg)
        stats.update(ground_rejected=float(n - candidate.sum()), ground_tolerance_m=tol)
    src, dst = np.column_stack([xa, ya]), np.column_stack([xb, yb])
    if not candidate.any():
        res = np.full(n, np.nan)
    elif ground:
        res = _tile_models(xa, ya, src, dst, candidate, cfg, stats)
    else:
        res = _image_model(src, dst, cfg, stats)
    inlier = candidate & (res <= cfg.ransac_px)
    stats["model_rejected"] = float(candidate.sum() - inlier.sum())
    if inlier.sum() < cfg.min_inliers:
        stats["too_few_inliers"] = float(inlier.sum())
        inlier[:] = False
    if ground and inlier.any():
        off = xyz_b[inlier] - xyz_a[inlier]
        med = np.median(off, axis=0)
        offset = (float(med[0]), float(med[1]), float(med[2]))
        mad = float(np.median(np.linalg.norm(off - med, axis=1)))
        stats.update(ground_residual_m_median=float(np.median(gres[inlier])),
                     ground_residual_m_p90=float(np.percentile(gres[inlier], 90)))  # fmt: skip
    if inlier.any():
        r = res[inlier]
        stats.update(residual_px_median=float(np.median(r)), residual_px_p90=float(np.percentile(r, 90)),
                     residual_px_max=float(r.max()))  # fmt: skip
    if not ground and inlier.sum() >= 4:  # how far from one plane: a least-squares homography on the inliers
        import cv2

        h, _ = cv2.findHomography(src[inlier].astype(np.float32), dst[inlier].astype(np.float32), 0)
        if h is not None:
            r = residuals(h, src[inlier], dst[inlier], "homography")
            stats.update(homography_residual_px_median=float(np.median(r)),
                         homography_residual_px_p90=float(np.percentile(r, 90)))  # fmt: skip
    stats["verified"] = float(inlier.sum())
    res = np.where(np.isfinite(res), res, np.nan).astype(np.float32)
    return Verification(inlier, res, gres.astype(np.float32), offset, mad, stats)
