"""Multi-image points (tracks) from verified pair matches, with no duplicates by construction.

Pure numpy/scipy, no I/O. A node is one keypoint of one image, ``(image id, keypoint-file row)``;
every verified match is an edge. :func:`build_tracks` makes points in one global pass:

1. **Union-find.** Nodes are numbered with :func:`numpy.unique` over ``image << 32 | row`` and the
   connected components of the match graph come from :func:`scipy.sparse.csgraph.connected_components`.
   AutoCNet keyed its points by image *pair*, so a keypoint matched in A-B and in A-C started two
   points; here it is one node, so it is in one point.
2. **Ground consistency** (when ground positions are given: body-fixed xyz of both ends of each
   match, from the keypoint files). The raw positions of one ground point differ between images by
   their pointing errors (hundreds of metres for CTX), so each image's ground offset is estimated
   first from the median offsets of its pairs (:func:`image_ground_offsets`) and subtracted. A match
   whose two ends are then farther apart than ``max_spread_m`` joins two different ground points and
   is cut before it can merge them.
3. **Split, then trim, where a component holds two keypoints of one image** (a wrong match chained
   two ground points together). Split: inside such a component, a match that no third keypoint
   confirms (no triangle: no keypoint matched to both ends) is cut, provided some match of the
   component is confirmed; inside a well-matched point every match is confirmed by the point's other
   measures, while a stray match between two points is not, so both points survive whole. Trim:
   conflicts left (points seen in two images only have no triangles) keep, per image, the
   best-supported keypoint: the most matches inside the component, then the lower mean match score
   (a descriptor distance or ratio: lower is better), then the lower keypoint row; the components are
   recomputed without the others, so the remainder splits where a removed keypoint was the only link.
   Support was chosen over clustering by ground position because it needs no ground at all, and the
   ground check of step 2 already separates what ground positions can tell apart.
4. **Spread.** With ground positions, a point whose offset-corrected positions lie farther than
   ``max_spread_m`` from their mean is dropped (a chain of individually short matches).
5. **At least two images.** Components left with one keypoint are dropped.

Guarantees (tested, also on adversarial graphs): each ``(image, keypoint)`` is in at most one point,
each point has at most one measure per image, and each point has at least two measures. The result
depends only on the set of matches, not on their order or direction.

:func:`extend_tracks` does the same for new matches against existing points without touching them:
new keypoints join the nearest existing point in the match graph (breadth-first from all existing
points at once; a keypoint equally near two points joins neither), existing measures always win a
same-image conflict, matches that would merge two existing points are refused, and the rest make
new points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tiepoint.network.errors import NetworkError
from tiepoint.network.ground_offsets import image_ground_offsets

_KP_BITS = 32
_KP_MASK = (1 << _KP_BITS) - 1
_MAX_IMAGE_ID = (1 << 31) - 1


@dataclass(frozen=True, slots=True)
class TrackStats:
    """What :func:`build_tracks` / :func:`extend_tracks` did with the matches, for the report."""

    matches: int = 0
    """Matches given."""
    matches_without_ground: int = 0
    """Matches ignored because an end's ground position is not finite (off-body keypoint)."""
    nodes: int = 0
    """Distinct ``(image, keypoint)`` of the usable matches."""
    ground_cut: int = 0
    """Matches whose ends' offset-corrected ground positions are farther apart than ``max_spread_m``."""
    conflicting_components: int = 0
    """Components that held two keypoints of one image."""
    cut: int = 0
    """Matches cut in those components because no third keypoint confirmed them."""
    trimmed: int = 0
    """Keypoints removed to leave one per image in such components."""
    spread_dropped: int = 0
    """Points (or, when extending, sets of new measures) dropped for their ground spread."""
    contested: int = 0
    """New keypoints equally near two existing points (extending only); they join neither."""
    merges_refused: int = 0
    """Matches between measures of two different existing points (extending only)."""


@dataclass(frozen=True, slots=True)
class Tracks:
    """Points as column arrays: measure ``i`` is keypoint ``keypoint[i]`` of image ``image[i]`` in
    point ``point[i]``.

    Measures are sorted by point, then image. Points are numbered ``0 .. n_points - 1`` in the order of
    their smallest ``(image, keypoint)``.
    """

    point: np.ndarray
    """(M,) int64 point index of each measure."""
    image: np.ndarray
    """(M,) int64 image id."""
    keypoint: np.ndarray
    """(M,) int64 keypoint-file row."""
    depth: np.ndarray
    """(P,) int64 measures per point (>= 2)."""
    spread_m: np.ndarray
    """(P,) float64 largest distance (m) of an offset-corrected ground position from the point's mean;
    NaN without ground positions."""
    stats: TrackStats = field(default_factory=TrackStats)

    @property
    def n_points(self) -> int:
        return len(self.depth)

    @property
    def n_measures(self) -> int:
        return len(self.point)

    @property
    def offsets(self) -> np.ndarray:
        """(P + 1,) measures of point ``p`` are ``offsets[p]:offsets[p + 1]``."""
        return np.concatenate([[0], np.cumsum(self.depth)]).astype(np.int64)


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """What :func:`extend_tracks` adds: measures for existing points, and new points."""

    added_point: np.ndarray
    """(K,) int64 id of the existing point each added measure joins."""
    added_image: np.ndarray
    """(K,) int64."""
    added_keypoint: np.ndarray
    """(K,) int64."""
    new: Tracks
    """New points, numbered from 0 (the caller gives them ids)."""
    stats: TrackStats = field(default_factory=TrackStats)


# ------------------------------------------------------------------------------------------ inputs


def _ids(name: str, values: object, n: int | None, limit: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise NetworkError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise NetworkError(f"{name} has {len(arr)} values, expected {n} (one per match)")
    if arr.size == 0:
        return np.empty(0, np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise NetworkError(f"{name} must hold integers, got {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    bad = np.flatnonzero((arr < 0) | (arr > limit))
    if len(bad):
        raise NetworkError(f"{name}[{bad[0]}] = {arr[bad[0]]} is outside 0..{limit}")
    return arr


def _xyz(name: str, values: object, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n, 3):
        raise NetworkError(f"{name} must have shape ({n}, 3) (body-fixed x, y, z per match), got {arr.shape}")
    return arr


def _node_keys(image: np.ndarray, keypoint: np.ndarray) -> np.ndarray:
    return (image << _KP_BITS) | keypoint


@dataclass(slots=True)
class _Matches:
    """Validated match arrays as node keys."""

    key_a: np.ndarray
    key_b: np.ndarray
    image_a: np.ndarray
    image_b: np.ndarray
    score: np.ndarray
    ground_a: np.ndarray | None
    ground_b: np.ndarray | None
    given: int
    without_ground: int


def _matches(image_a, kp_a, image_b, kp_b, score, ground_a, ground_b) -> _Matches:
    ia = _ids("image_a", image_a, None, _MAX_IMAGE_ID)
    n = len(ia)
    ib = _ids("image_b", image_b, n, _MAX_IMAGE_ID)
    ka = _ids("kp_a", kp_a, n, _KP_MASK)
    kb = _ids("kp_b", kp_b, n, _KP_MASK)
    same = np.flatnonzero(ia == ib)
    if len(same):
        raise NetworkError(f"match {same[0]} joins image {ia[same[0]]} to itself")
    if score is None:
        sc = np.zeros(n)
    else:
        sc = np.asarray(score, dtype=np.float64)
        if sc.shape != (n,):
            raise NetworkError(f"score must have shape ({n},) (one per match), got {sc.shape}")
        sc = np.where(np.isfinite(sc), sc, np.inf)  # a missing score ranks last
    if (ground_a is None) != (ground_b is None):
        raise NetworkError("give ground positions for both ends (ground_a and ground_b) or for neither")
    ga = gb = None
    dropped = 0
    if ground_a is not None:
        ga, gb = _xyz("ground_a", ground_a, n), _xyz("ground_b", ground_b, n)
        ok = np.isfinite(ga).all(axis=1) & np.isfinite(gb).all(axis=1)
        dropped = int(n - ok.sum())
        if dropped:
            ia, ib, ka, kb, sc, ga, gb = (v[ok] for v in (ia, ib, ka, kb, sc, ga, gb))
    return _Matches(_node_keys(ia, ka), _node_keys(ib, kb), ia, ib, sc, ga, gb, n, dropped)


# ------------------------------------------------------------------------------------------ graph


@dataclass(slots=True)
class _Graph:
    key: np.ndarray
    """(n,) sorted node keys."""
    lo: np.ndarray
    """(e,) edges as node indices, lo < hi, distinct."""
    hi: np.ndarray
    score: np.ndarray
    """(e,) lowest score of the edge's matches (0 for the links between an existing point's measures)."""
    ground: np.ndarray | None
    """(n, 3) offset-corrected ground positions, NaN where unknown."""
    fixed: np.ndarray
    """(n,) int64 dense index of the existing point a node is a measure of, or -1."""


def _graph(m: _Matches, ext_keys: np.ndarray, ext_point: np.ndarray, with_spread: bool) -> tuple[_Graph, int]:
    """The match graph; existing measures of the points it touches are linked point by point."""
    n = len(m.key_a)
    match_keys = np.concatenate([m.key_a, m.key_b])
    touched_keys = np.empty(0, np.int64)
    if len(ext_keys):
        order = np.argsort(ext_keys)
        ek, ep = ext_keys[order], ext_point[order]
        pos = np.clip(np.searchsorted(ek, match_keys), 0, len(ek) - 1)
        touched = np.unique(ep[pos[ek[pos] == match_keys]])
        touched_keys = ext_keys[np.isin(ext_point, touched)]
    keys, inv = np.unique(np.concatenate([match_keys, touched_keys]), return_inverse=True)
    a, b = inv[:n], inv[n : 2 * n]
    fixed = np.full(len(keys), -1, np.int64)
    if len(touched_keys):
        fixed[inv[2 * n :]] = ext_point[np.isin(ext_point, touched)]
    # matches between two existing measures add nothing (same point) or would merge two points
    both = (fixed[a] >= 0) & (fixed[b] >= 0)
    refused = int(np.count_nonzero(both & (fixed[a] != fixed[b])))
    ea, eb, score = a[~both], b[~both], m.score[~both]
    # links between consecutive measures of each touched existing point keep it in one component
    t = np.flatnonzero(fixed >= 0)
    t = t[np.argsort(fixed[t], kind="stable")]
    same = fixed[t[1:]] == fixed[t[:-1]]
    la, lb = t[:-1][same], t[1:][same]
    lo = np.concatenate([np.minimum(ea, eb), np.minimum(la, lb)])
    hi = np.concatenate([np.maximum(ea, eb), np.maximum(la, lb)])
    escore = np.concatenate([score, np.zeros(len(la))])
    ekey, einv = np.unique(lo * len(keys) + hi, return_inverse=True)
    best = np.full(len(ekey), np.inf)
    np.minimum.at(best, einv, escore)
    ground = None
    if with_spread and m.ground_a is not None:
        images, offsets = image_ground_offsets(m.image_a, m.image_b, m.ground_a, m.ground_b)
        ground = np.full((len(keys), 3), np.nan)
        ground[a] = m.ground_a
        ground[b] = m.ground_b
        known = np.flatnonzero(np.isfinite(ground[:, 0]))
        ground[known] -= offsets[np.searchsorted(images, keys[known] >> _KP_BITS)]
    return _Graph(keys, ekey // len(keys), ekey % len(keys), best, ground, fixed), refused


def _components(n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Component label of each of *n* nodes, numbered in the order of each component's first node."""
    if n == 0:
        return np.empty(0, np.int64)
    graph = sp.coo_matrix((np.ones(len(lo), np.int8), (lo, hi)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1 if n else 0, n, np.int64)
    np.minimum.at(first, labels, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]


def _propagate(g: _Graph) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first labels from all existing points at once: (label per node or -1, contested)."""
    label = g.fixed.copy()
    contested = np.zeros(len(label), bool)
    lo, hi = g.lo, g.hi
    while True:
        open_ = (label[lo] < 0) & ~contested[lo] | (label[hi] < 0) & ~contested[hi]
        lo, hi = lo[open_], hi[open_]
        to_hi = (label[lo] >= 0) & (label[hi] < 0) & ~contested[hi]
        to_lo = (label[hi] >= 0) & (label[lo] < 0) & ~contested[lo]
        target = np.concatenate([hi[to_hi], lo[to_lo]])
        if not len(target):
            return label, contested
        proposed = np.concatenate([label[lo[to_hi]], label[hi[to_lo]]])
        low = np.full(len(label), np.iinfo(np.int64).max)
        high = np.full(len(label), -1, np.int64)
        np.minimum.at(low, target, proposed)
        np.maximum.at(high, target, proposed)
        target = np.unique(target)
        tie = low[target] != high[target]
        contested[target[tie]] = True
        label[target[~tie]] = low[target[~tie]]


def _conflicts(comp: np.ndarray, image: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Alive nodes that share their (component, image) with another alive node."""
    idx = np.flatnonzero(alive)
    order = idx[np.argsort(comp[idx], kind="stable")]  # node order is image-major: (comp, image) order
    c, im = comp[order], image[order]
    dup = (c[1:] == c[:-1]) & (im[1:] == im[:-1])
    out = np.zeros(len(comp), bool)
    out[order[1:][dup]] = True
    out[order[:-1][dup]] = True
    return out


def _cut_unsupported(lo: np.ndarray, hi: np.ndarray, comp: np.ndarray, conflicted: np.ndarray) -> np.ndarray:
    """Edges to keep: in conflicting components, matches that no third keypoint confirms are cut.

    An edge's support is the number of keypoints matched to both of its ends (triangles). Inside a
    well-matched point every edge has the point's depth minus two; a wrong match joining two points
    has none. Components where no edge has support (pairs and chains) are left to the trimming.
    """
    keep = np.ones(len(lo), bool)
    in_c = np.flatnonzero(conflicted[comp[lo]])
    if not len(in_c):
        return keep
    nodes, local = np.unique(np.concatenate([lo[in_c], hi[in_c]]), return_inverse=True)
    sl, sh = local[: len(in_c)], local[len(in_c) :]
    adj = sp.coo_matrix((np.ones(2 * len(in_c)), (np.r_[sl, sh], np.r_[sh, sl])), shape=(len(nodes),) * 2)
    adj = adj.tocsr()
    common = (adj @ adj).multiply(adj).tocsr()
    support = np.asarray(common[sl, sh]).ravel()
    ec = comp[lo[in_c]]
    best = np.zeros(int(comp.max()) + 1)
    np.maximum.at(best, ec, support)
    keep[in_c[(support == 0) & (best[ec] > 0)]] = False
    return keep


def _one_per_image(
    comp: np.ndarray, image: np.ndarray, alive: np.ndarray, priority: tuple[np.ndarray, ...]
) -> np.ndarray:
    """Keep, in each (component, image) group of alive nodes, the node first in *priority* order.

    *priority* holds lexsort keys, most significant last, lower first. Returns the new alive mask.
    """
    cand = np.flatnonzero(_conflicts(comp, image, alive))
    if not len(cand):
        return alive
    ranked = cand[np.lexsort((*(p[cand] for p in priority), image[cand], comp[cand]))]
    rc, ri = comp[ranked], image[ranked]
    loser = np.zeros(len(ranked), bool)
    loser[1:] = (rc[1:] == rc[:-1]) & (ri[1:] == ri[:-1])
    out = alive.copy()
    out[ranked[loser]] = False
    return out


def _spread(comp: np.ndarray, ground: np.ndarray, n_comp: int) -> np.ndarray:
    """Largest distance of a node's ground from its component's mean (NaN where none is known)."""
    known = np.isfinite(ground[:, 0])
    c, gr = comp[known], ground[known]
    count = np.bincount(c, minlength=n_comp)
    mean = np.stack([np.bincount(c, weights=gr[:, k], minlength=n_comp) for k in range(3)], axis=1)
    mean /= np.maximum(count, 1)[:, None]
    dist = np.linalg.norm(gr - mean[c], axis=1)
    out = np.full(n_comp, -np.inf)
    np.maximum.at(out, c, dist)
    out[count == 0] = np.nan
    return out


def _solve(g: _Graph, max_spread_m: float | None) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Resolve the graph into points.

    Returns the point label of each node (-1: in no point; labels are dense and ordered by each
    point's first node), whether each label holds existing measures, and counts for the stats.
    """
    n = len(g.key)
    image = g.key >> _KP_BITS
    lo, hi, score = g.lo, g.hi, g.score
    alive = np.ones(n, bool)
    counts = {
        "ground_cut": 0,
        "contested": 0,
        "conflicting_components": 0,
        "cut": 0,
        "trimmed": 0,
        "spread_dropped": 0,
    }
    existing = g.fixed >= 0
    if g.ground is not None and max_spread_m is not None:
        # a match whose ends lie farther apart than the tolerance (after the images' offsets) joins
        # two ground points: cut it before it merges them
        long = np.linalg.norm(g.ground[lo] - g.ground[hi], axis=1) > max_spread_m
        counts["ground_cut"] = int(np.count_nonzero(long))
        lo, hi, score = lo[~long], hi[~long], score[~long]
        g = _Graph(g.key, lo, hi, score, g.ground, g.fixed)
    if existing.any():
        label, contested = _propagate(g)
        counts["contested"] = int(np.count_nonzero(contested))
        # new keypoints linked to an existing point only through contested ones join nothing
        comp0 = _components(n, lo, hi)
        near_existing = np.zeros(int(comp0.max()) + 1, bool)
        near_existing[comp0[existing]] = True
        alive = ~contested & ~((label < 0) & near_existing[comp0])
        keep = (label[lo] == label[hi]) & alive[lo] & alive[hi]
        lo, hi, score = lo[keep], hi[keep], score[keep]
    comp = _components(n, lo, hi)
    conflicted_nodes = _conflicts(comp, image, alive)
    if conflicted_nodes.any():
        conflicted = np.zeros(int(comp.max()) + 1, bool)
        conflicted[comp[conflicted_nodes]] = True
        counts["conflicting_components"] = int(np.count_nonzero(conflicted))
        keep = _cut_unsupported(lo, hi, comp, conflicted)
        counts["cut"] = int(len(keep) - np.count_nonzero(keep))
        lo, hi, score = lo[keep], hi[keep], score[keep]
        comp = _components(n, lo, hi)
        # per (component, image): existing measures first, then most matches, lowest score, lowest row
        degree = np.bincount(lo, minlength=n) + np.bincount(hi, minlength=n)
        mean_score = (np.bincount(lo, score, n) + np.bincount(hi, score, n)) / np.maximum(degree, 1)
        before = int(alive.sum())
        alive = _one_per_image(comp, image, alive, (g.key, mean_score, -degree, (~existing).astype(np.int8)))
        counts["trimmed"] = before - int(alive.sum())
        keep = alive[lo] & alive[hi]
        comp = _components(n, lo[keep], hi[keep])
    n_comp = int(comp.max()) + 1 if n else 0
    size = np.bincount(comp[alive], minlength=n_comp)
    new_size = np.bincount(comp[alive & ~existing], minlength=n_comp)
    has_existing = np.zeros(n_comp, bool)
    has_existing[comp[alive & existing]] = True
    # a new point needs two measures; an existing point takes any number of new ones
    wanted = np.where(has_existing, new_size > 0, size >= 2)
    if g.ground is not None and max_spread_m is not None:
        spread = _spread(comp[alive], g.ground[alive], n_comp)
        too_wide = wanted & (spread > max_spread_m)
        counts["spread_dropped"] = int(np.count_nonzero(too_wide))
        wanted &= ~too_wide
    member = alive & wanted[comp] & (~existing | has_existing[comp])
    # dense labels in the order of each point's first node
    used = np.flatnonzero(wanted)
    relabel = np.full(n_comp, -1, np.int64)
    relabel[used] = np.arange(len(used))
    label = np.where(member, relabel[comp], -1)
    return label, has_existing[used], counts


def _tracks(keys: np.ndarray, label: np.ndarray, ground: np.ndarray | None, stats: TrackStats) -> Tracks:
    """Column arrays of the nodes with a label >= 0, sorted by point then image."""
    sel = np.flatnonzero(label >= 0)
    order = sel[np.argsort(label[sel], kind="stable")]  # keys are sorted: image order within a point
    point = label[order]
    n_points = int(point.max()) + 1 if len(point) else 0
    depth = np.bincount(point, minlength=n_points).astype(np.int64)
    spread = np.full(n_points, np.nan)
    if ground is not None and len(point):
        spread = _spread(point, ground[order], n_points)
    return Tracks(
        point.astype(np.int64),
        (keys[order] >> _KP_BITS).astype(np.int64),
        (keys[order] & _KP_MASK).astype(np.int64),
        depth,
        spread,
        stats,
    )


def _stats(m: _Matches, n_nodes: int, refused: int, counts: dict[str, int]) -> TrackStats:
    return TrackStats(
        matches=m.given,
        matches_without_ground=m.without_ground,
        nodes=n_nodes,
        merges_refused=refused,
        **counts,
    )


# ------------------------------------------------------------------------------------------ public


def build_tracks(
    image_a: np.ndarray,
    kp_a: np.ndarray,
    image_b: np.ndarray,
    kp_b: np.ndarray,
    score: np.ndarray | None = None,
    ground_a: np.ndarray | None = None,
    ground_b: np.ndarray | None = None,
    *,
    max_spread_m: float | None = None,
) -> Tracks:
    """Multi-image points from verified pair matches (see the module docstring for the rules).

    Parameters
    ----------
    image_a, kp_a, image_b, kp_b : (N,) int
        Each match joins keypoint-file row ``kp_a[i]`` of image ``image_a[i]`` to row ``kp_b[i]`` of
        image ``image_b[i]`` (ids >= 0; the order of the two ends does not matter).
    score : (N,) float, optional
        Match quality, lower is better (descriptor distance or ratio); breaks ties between keypoints
        of one image with equal support. Non-finite scores rank last.
    ground_a, ground_b : (N, 3) float, optional
        Body-fixed ground positions (m) of both ends (the keypoint files' ``/ground/{x,y,z}``).
        Matches with a non-finite end are ignored (off-body keypoints).
    max_spread_m : float, optional
        Drop points whose offset-corrected ground positions lie farther than this from their mean;
        None: no spread check (the spread is still reported when ground positions are given).

    Returns
    -------
    Tracks

    Raises
    ------
    NetworkError
        Malformed input: arrays of different lengths, negative or non-integer ids, a match joining an
        image to itself, ground arrays not ``(N, 3)``.
    """
    m = _matches(image_a, kp_a, image_b, kp_b, score, ground_a, ground_b)
    g, refused = _graph(m, np.empty(0, np.int64), np.empty(0, np.int64), m.ground_a is not None)
    label, _, counts = _solve(g, max_spread_m)
    return _tracks(g.key, label, g.ground, _stats(m, len(g.key), refused, counts))


def extend_tracks(
    point: np.ndarray,
    image: np.ndarray,
    keypoint: np.ndarray,
    image_a: np.ndarray,
    kp_a: np.ndarray,
    image_b: np.ndarray,
    kp_b: np.ndarray,
    score: np.ndarray | None = None,
    ground_a: np.ndarray | None = None,
    ground_b: np.ndarray | None = None,
    *,
    max_spread_m: float | None = None,
) -> TrackUpdate:
    """Add new matches to existing points without changing them; make new points from the rest.

    Existing measures are never removed or moved: a new keypoint joins the existing point nearest to
    it in the match graph (a keypoint equally near two points joins neither), only if that point has
    no measure in its image yet and it wins the same-image rules of :func:`build_tracks` against other
    new keypoints; a match between measures of two different existing points is refused (points are
    never merged); keypoints already measured are never used again. New keypoints not connected to
    any existing point form new points exactly as :func:`build_tracks` would.

    Parameters
    ----------
    point, image, keypoint : (M,) int
        The existing measures (point ids are any integers >= 0, e.g. database ids).
    image_a, kp_a, image_b, kp_b, score, ground_a, ground_b, max_spread_m :
        As for :func:`build_tracks`. With *max_spread_m*, new measures whose point (with the existing
        measures that appear in the new matches) spreads wider are not added.

    Returns
    -------
    TrackUpdate

    Raises
    ------
    NetworkError
        Malformed input, or existing measures that break the rules (a keypoint in two points, two
        measures of one image in a point).
    """
    ep = _ids("point", point, None, np.iinfo(np.int64).max)
    ei = _ids("image", image, len(ep), _MAX_IMAGE_ID)
    ek = _ids("keypoint", keypoint, len(ep), _KP_MASK)
    ext_keys = _node_keys(ei, ek)
    uniq, counts_k = np.unique(ext_keys, return_counts=True)
    if (counts_k > 1).any():
        key = uniq[np.argmax(counts_k > 1)]
        raise NetworkError(
            f"existing measures use keypoint {key & _KP_MASK} of image {key >> _KP_BITS} more than once"
        )
    point_ids, dense = np.unique(ep, return_inverse=True)
    pi = dense * (_MAX_IMAGE_ID + 1) + ei
    uniq, counts_p = np.unique(pi, return_counts=True)
    if (counts_p > 1).any():
        bad = uniq[np.argmax(counts_p > 1)]
        raise NetworkError(
            f"existing point {point_ids[bad // (_MAX_IMAGE_ID + 1)]} has two measures in image "
            f"{bad % (_MAX_IMAGE_ID + 1)}"
        )
    m = _matches(image_a, kp_a, image_b, kp_b, score, ground_a, ground_b)
    g, refused = _graph(m, ext_keys, dense.astype(np.int64), m.ground_a is not None)
    label, has_existing, counts = _solve(g, max_spread_m)
    stats = _stats(m, len(g.key), refused, counts)
    labelled = np.flatnonzero(label >= 0)
    joins_existing = np.zeros(len(label), bool)
    joins_existing[labelled] = has_existing[label[labelled]]
    # the existing point (dense index) behind each label that holds one
    point_of_label = np.full(len(has_existing), -1, np.int64)
    own = labelled[g.fixed[labelled] >= 0]
    point_of_label[label[own]] = g.fixed[own]
    added = np.flatnonzero(joins_existing & (g.fixed < 0))
    added_point = point_of_label[label[added]]
    order = np.argsort(added_point, kind="stable")
    added, added_point = added[order], added_point[order]
    # new points: the labels without existing measures, renumbered from 0 in the same order
    new_number = np.cumsum(~has_existing) - 1
    new_label = np.full(len(label), -1, np.int64)
    fresh = labelled[~joins_existing[labelled]]
    new_label[fresh] = new_number[label[fresh]]
    return TrackUpdate(
        point_ids[added_point].astype(np.int64),
        (g.key[added] >> _KP_BITS).astype(np.int64),
        (g.key[added] & _KP_MASK).astype(np.int64),
        _tracks(g.key, new_label, g.ground, stats),
        stats,
    )


__all__ = ["TrackStats", "TrackUpdate", "Tracks", "build_tracks", "extend_tracks"]
