"""Ground-gated matching: compare a keypoint only with those near its a-priori ground position.

Every keypoint carries the body-fixed ground point its a-priori camera gives it. Two images of the
same ground are off by the two cameras' pointing errors (CTX: hundreds of metres, nearly constant
over a crop, slowly varying over a long strip), so the match of a keypoint of a lies near the same
ground point plus an offset. Two passes, both with a scipy ``cKDTree`` on b's ground points:

1. **pilot**: up to ``pilot_size`` strong keypoints of a, spread over the image (grid thinning), are
   compared with every keypoint of b within ``ground_radius_m``; ratio test and mutual best give
   pilot matches, whose ground offsets b - a vote for the pair's offset (the offset with most
   neighbours within ``vote_radius_m``; it must stand out from chance, see :data:`VOTE_SIGNIFICANCE`).
   Pilot matches within ``offset_spread_m`` of it are kept. A failed pilot is retried once with
   :data:`PILOT_GROWTH` times more keypoints.
2. **fine**: each keypoint of a predicts its match at its ground point plus the median offset of its
   ``neighbours`` nearest kept pilot matches (so a slowly varying offset is followed, as on a long
   line-scan strip); candidates are the ``max_candidates`` keypoints of b nearest that prediction
   within the fine radius (``residual_radius_m``, or ``residual_sigmas`` robust sigmas of the pilot
   residuals if larger). Descriptor distance (L2 or Hamming), ratio test and mutual best among
   these candidates give the raw matches.

If fewer than ``min_matches`` result, the radius is widened once (``widen`` x) and then, with
``fallback``, the pair is matched without gating (the ``bf`` plug-in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tiepoint.errors import MatchingError
from tiepoint.matching.matchers import Matcher as _Base
from tiepoint.matching.matchers import Matches, MatchSide, positive
from tiepoint.matching.select import nearest_from_pairs, select
from tiepoint.matching.thin import grid_thin

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

MAD_TO_SIGMA = 1.4826
VOTE_SIGNIFICANCE = 5.0
"""The winning pilot offset needs this many times the votes it would get by chance (pilot offsets
spread evenly over the search disk), else the radius failed: when the true offset lies outside the
radius the pilot's chance matches share no offset (measured: 2.4x chance; true offsets: 9x to 10^4x)."""
PILOT_GROWTH = 4
"""A failed pilot is tried once more with this many times ``pilot_size`` keypoints before the radius is
widened (ORB across a 1.8x scale change: 4 agreeing pilot matches of 500, 46 of 2000)."""


class Matcher(_Base):
    """Ground-gated descriptor matching (needs ground coordinates on both sides)."""

    name = "gated"
    needs_ground = True
    default_conf: ClassVar[dict[str, Any]] = {
        "ground_radius_m": 1000.0,  # a-priori search radius; CTX pointing is off by ~150-850 m (95 %)
        "ratio": 0.8,  # Lowe's ratio test among the candidates
        "mutual": True,  # keep a match only if each is the other's best among the candidates
        "pilot_size": 500,  # keypoints of a matched within the whole radius to find the offset
        "vote_radius_m": 30.0,  # pilot offsets this close vote for each other
        "offset_spread_m": 150.0,  # pilot offsets kept around the winner (how much it may vary)
        "neighbours": 15,  # kept pilot matches whose median offset predicts a keypoint's match
        "residual_radius_m": 40.0,  # smallest fine radius around the predicted position
        "residual_sigmas": 5.0,  # fine radius: at least this many robust sigmas of pilot residuals
        "max_candidates": 32,  # nearest keypoints of b to the prediction compared at most
        "min_pilot": 8,  # fewer kept pilot matches: this radius failed
        "min_matches": 30,  # fewer raw matches: widen the radius, then fall back
        "widen": 3.0,  # radius factor of the second try
        "fallback": True,  # match without gating when the widened radius fails too
    }

    def _check(self) -> None:
        p = self.params
        positive(p, "ground_radius_m", "ratio", "vote_radius_m", "offset_spread_m", "residual_radius_m",
                 "residual_sigmas", "widen")  # fmt: skip
        for name in ("pilot_size", "neighbours", "max_candidates", "min_pilot", "min_matches"):
            if isinstance(p[name], bool) or not isinstance(p[name], int) or p[name] < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {p[name]!r}")
        if not isinstance(p["mutual"], bool) or not isinstance(p["fallback"], bool):
            raise ValueError("mutual and fallback must be true or false")

    def match(self, a: MatchSide, b: MatchSide) -> Matches:
        """Gated matches of ``a`` against ``b``; see the module docstring for the fallbacks."""
        if a.xyz is None or b.xyz is None:
            raise MatchingError("gated matching needs ground coordinates (cameras) for both images")
        from scipy.spatial import cKDTree  # here: validating parameters must not load scipy

        p = self.params
        if len(a) == 0 or len(b) == 0:
            return Matches.empty("gated")
        tree_b = cKDTree(b.xyz)
        tried = []
        attempts = ((p["ground_radius_m"], "gated"), (p["ground_radius_m"] * p["widen"], "gated-widened"))
        for radius, method in attempts:
            found = self._within(a, b, tree_b, float(radius), method)
            if len(found) >= p["min_matches"]:
                return found
            tried.append(found)
        if p["fallback"]:
            from tiepoint.matching.matchers.bf import Matcher as BruteForce

            found = BruteForce({"ratio": p["ratio"], "mutual": p["mutual"]}).match(a, b)
            found.info.update({f"widened_{k}": v for k, v in tried[-1].info.items()})
            return found
        return max(tried, key=len)

    def _pilot(self, a: MatchSide, b: MatchSide, tree_b: cKDTree, radius: float, size: int, info: dict):
        """Pilot matches within ``radius`` of ``size`` strong, spread keypoints of a: (a's ground points,
        offsets b - a) of those agreeing with the winning offset, or None if no offset stands out."""
        from scipy.spatial import cKDTree

        p = self.params
        pilot = grid_thin(a.x, a.y, -a.response.astype(np.float64), size)
        pairs = cKDTree(a.xyz[pilot]).sparse_distance_matrix(tree_b, radius, output_type="ndarray")
        qi, cj = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp)
        dist = a.descriptors.pairs(b.descriptors, pilot[qi], cj)
        nearest = nearest_from_pairs(qi, cj, dist, len(pilot), len(b))
        index, _, _ = select(nearest, float(p["ratio"]), bool(p["mutual"]))
        info.update(pilot=float(len(pilot)), pilot_candidates=len(qi) / max(len(pilot), 1),
                    pilot_matches=float(len(index)))  # fmt: skip
        if len(index) < p["min_pilot"]:
            return None
        from_a = a.xyz[pilot[index[:, 0]]]
        offsets = b.xyz[index[:, 1]] - from_a
        votes = cKDTree(offsets).query_ball_point(offsets, float(p["vote_radius_m"]), return_length=True)
        chance = len(offsets) * (float(p["vote_radius_m"]) / radius) ** 2
        info.update(pilot_votes=float(np.max(votes)), pilot_votes_chance=chance)
        if np.max(votes) < max(p["min_pilot"], VOTE_SIGNIFICANCE * chance):
            return None  # no offset stands out
        winner = offsets[int(np.argmax(votes))]
        near_winner = np.linalg.norm(offsets - winner, axis=1) <= float(p["vote_radius_m"])
        mode = np.median(offsets[near_winner], axis=0)
        kept = np.linalg.norm(offsets - mode, axis=1) <= float(p["offset_spread_m"])
        info.update(pilot_kept=float(kept.sum()), offset_x_m=float(mode[0]), offset_y_m=float(mode[1]),
                    offset_z_m=float(mode[2]))  # fmt: skip
        return (from_a[kept], offsets[kept]) if kept.sum() >= p["min_pilot"] else None

    def _within(self, a: MatchSide, b: MatchSide, tree_b: cKDTree, radius: float, method: str) -> Matches:
        from scipy.spatial import cKDTree

        p = self.params
        info: dict[str, float] = {"radius_m": radius}
        # 1. pilot: strong, spread keypoints of a against all of b within the radius; with too few
        # distinctive ones (binary descriptors across a scale change), once more with PILOT_GROWTH x more
        anchors = self._pilot(a, b, tree_b, radius, int(p["pilot_size"]), info)
        if anchors is None and len(a) > p["pilot_size"]:
            anchors = self._pilot(a, b, tree_b, radius, int(p["pilot_size"]) * PILOT_GROWTH, info)
        if anchors is None:
            return Matches.empty(method, info)
        anchors, anchor_offsets = anchors
        # 2. fine: each keypoint of a near its predicted position in b, from the local pilot offsets
        k = min(int(p["neighbours"]), len(anchors))
        _, nn = cKDTree(anchors).query(a.xyz, k=k)
        local = np.median(anchor_offsets[nn.reshape(len(a), k)], axis=1)
        _, nn_self = cKDTree(anchors).query(anchors, k=k)
        residual = np.linalg.norm(anchor_offsets - np.median(anchor_offsets[nn_self.reshape(-1, k)], axis=1),
                                  axis=1)  # fmt: skip
        sigma = MAD_TO_SIGMA * float(np.median(residual))
        fine = min(max(float(p["residual_radius_m"]), float(p["residual_sigmas"]) * sigma), radius)
        kmax = min(int(p["max_candidates"]), len(b))
        _, cand = tree_b.query(a.xyz + local, k=kmax, distance_upper_bound=fine)
        cand = cand.reshape(len(a), kmax)
        valid = cand < len(b)
        qi = np.nonzero(valid)[0]
        cj = cand[valid].astype(np.intp)
        dist = a.descriptors.pairs(b.descriptors, qi, cj)
        nearest = nearest_from_pairs(qi, cj, dist, len(a), len(b))
        index, distance, ratio = select(nearest, float(p["ratio"]), bool(p["mutual"]))
        info.update(fine_radius_m=fine, pilot_sigma_m=sigma, candidates_per_keypoint=len(qi) / len(a))
        return Matches(index, distance, ratio, method, info)
