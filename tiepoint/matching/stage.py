"""The matching stage: a :class:`~tiepoint.records.PairTask` in, a match file out (hloc's ``main`` habit).

:func:`main` skips a pair whose match file is up to date (:func:`is_current`: each keypoint file's
image content hash, settings, extractor, parameters, count and creation time as recorded, the same
matching settings, overlap and cameras) unless ``overwrite``;
otherwise :func:`compute` runs the pair and :func:`tiepoint.matching.store.write_matches` writes it
atomically. The steps (CONTROL_NETWORKS.md section 6.1, steps 1-4):

1. keypoints of each image inside the overlap buffered by the a-priori radius
   (:func:`tiepoint.matching.inputs.load_side`);
2. raw matches: the configured matcher (``gated`` by default; ``bf`` when a camera or the keypoints'
   ground coordinates are missing);
3. geometric verification (:func:`tiepoint.matching.verify.verify`);
4. thinning of the verified matches to ``per_km2`` over the overlap, at most ``max_matches``
   (:func:`tiepoint.matching.thin.grid_thin`); every verified match stays in the file, flagged.

No database is touched: this is what runs on a worker.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.config import JobConfig, MatchingConfig, load_job_config
from tiepoint.errors import MatchingError
from tiepoint.matching.inputs import load_side
from tiepoint.matching.matchers import Matcher, load_matcher
from tiepoint.matching.store import MatchFile, MatchTable, read_header, write_matches
from tiepoint.matching.thin import grid_thin, thinning_target
from tiepoint.matching.verify import verify
from tiepoint.records import PairTask
from tiepoint.timings import timed

SOURCE_KEYS = ("content_hash", "settings", "extractor", "params", "count", "created")
"""Keypoint-file attributes recorded per side; a change in any makes the match file stale."""


def resolve_config(
    config: JobConfig | MatchingConfig | dict[str, Any] | str | os.PathLike[str] | None,
) -> MatchingConfig:
    """The :class:`MatchingConfig` of a whole configuration (Config, dict, YAML path or None) or itself.

    Raises
    ------
    ConfigError
        The configuration is invalid (the message names the key).
    """
    if isinstance(config, MatchingConfig):
        return config
    return load_job_config(config).matching


def settings(config: MatchingConfig) -> dict[str, Any]:
    """What determines a match file's content besides its inputs: the matcher with all its parameters,
    verification and thinning."""
    matcher = load_matcher(config.matcher.name, config.matcher.params)
    return {
        "matcher": {"name": matcher.name, "params": matcher.params},
        "verification": config.verification.model_dump(),
        "thinning": config.thinning.model_dump(),
    }


def task_digest(task: PairTask) -> str:
    """Hash of the task's inputs other than the keypoint files: images, overlap and camera states."""
    h = hashlib.sha256()
    for part in (task.image_a, task.image_b, task.camera_a or "", task.camera_b or ""):
        h.update(part.encode())
        h.update(b"\0")
    h.update(b"" if task.overlap is None else task.overlap.wkb)
    return h.hexdigest()


def _source(path: str | os.PathLike[str], attrs: dict[str, Any]) -> dict[str, Any]:
    return {"path": str(Path(path).absolute()), **{k: attrs.get(k) for k in SOURCE_KEYS}}


def _roundtrip(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=str))


def is_current(path: str | os.PathLike[str], task: PairTask, config: MatchingConfig) -> bool:
    """Whether ``path`` holds this task's matches with these settings, computed from the keypoint
    files as they are now (content hash, settings, count and creation time of each); a missing or
    unreadable file, or a missing keypoint file, is not current."""
    from tiepoint.errors import TiepointError
    from tiepoint.features.store import read_header as read_keypoint_header

    try:
        attrs = read_header(path)
        now_a, _ = read_keypoint_header(task.keypoints_a)
        now_b, _ = read_keypoint_header(task.keypoints_b)
        wanted = _roundtrip(settings(config))
    except TiepointError:
        return False
    return (
        attrs.get("image_a") == str(task.image_a)
        and attrs.get("image_b") == str(task.image_b)
        and attrs.get("task_digest") == task_digest(task)
        and attrs.get("matching") == wanted
        and attrs.get("source_a") == _roundtrip(_source(task.keypoints_a, now_a))
        and attrs.get("source_b") == _roundtrip(_source(task.keypoints_b, now_b))
    )


def _ellipsoid(task: PairTask) -> tuple[float, float] | None:
    """The body's radii (m) from side a's camera state, or None without cameras."""
    if task.camera_a is None or task.camera_b is None:
        return None
    from tiepoint.camera import from_state

    cam = from_state(task.camera_a)
    return float(cam.semimajor), float(cam.semiminor)


def _a_priori_radius(matcher: Matcher) -> float:
    from tiepoint.matching.matchers.gated import Matcher as Gated

    return float(matcher.params.get("ground_radius_m", Gated.default_conf["ground_radius_m"]))


def compute(task: PairTask, config: MatchingConfig) -> MatchFile:
    """Match, verify and thin one pair (in memory; nothing is written).

    Raises
    ------
    FeatureError
        A keypoint file is missing or unreadable (named).
    MatchingError, CameraError
        The two keypoint files cannot be compared (different extractors), or a camera state is bad.
    """
    from tiepoint.features.store import read_header as read_keypoint_header

    timings: dict[str, float] = {}
    with timed(timings, "load"):
        matcher = load_matcher(config.matcher.name, config.matcher.params)
        head_a, ground_a = read_keypoint_header(task.keypoints_a)
        head_b, ground_b = read_keypoint_header(task.keypoints_b)
        if head_a.get("extractor") != head_b.get("extractor"):
            raise MatchingError(
                f"cannot match {head_b.get('extractor')} keypoints with the "
                f"{head_a.get('extractor')} keypoints of {task.keypoints_a}: extract both images with one "
                "extractor",
                task.keypoints_b,
            )
        radii = _ellipsoid(task)
        use_ground = radii is not None and ground_a and ground_b
        if matcher.needs_ground and not use_ground:
            from tiepoint.matching.matchers.bf import Matcher as BruteForce

            matcher = BruteForce({k: matcher.params[k] for k in ("ratio", "mutual")})
        buffer_m = _a_priori_radius(matcher)
        semimajor = radii[0] if radii else None
        overlap = task.overlap if use_ground else None
        a = load_side(task.keypoints_a, overlap, buffer_m, semimajor, use_ground)
        b = load_side(task.keypoints_b, overlap, buffer_m, semimajor, use_ground)
    with timed(timings, "match"):
        raw = matcher.match(a.view, b.view)
    with timed(timings, "verify"):
        ia, ib = raw.index[:, 0], raw.index[:, 1]
        ver = verify(
            a.view.x[ia], a.view.y[ia], b.view.x[ib], b.view.y[ib],
            a.view.xyz[ia] if use_ground else None, b.view.xyz[ib] if use_ground else None,
            config.verification,
        )  # fmt: skip
    with timed(timings, "thin"):
        rows = np.column_stack([a.view.rows[ia], b.view.rows[ib]])
        raw_table = MatchTable(rows, raw.distance, raw.ratio, ver.ground_residual_m, ver.residual_px)
        verified = raw_table.select(ver.inlier)
        area_km2 = None
        if use_ground and overlap is not None and radii is not None:
            from tiepoint.footprint.area import ellipsoid_area

            area_km2 = ellipsoid_area(overlap, *radii) / 1e6
        target = thinning_target(area_km2, config.thinning.per_km2, config.thinning.max_matches)
        kept = np.ones(len(verified), bool)
        if config.thinning.enabled and len(verified) > target:
            kept[:] = False
            kept[grid_thin(a.view.x[ia][ver.inlier], a.view.y[ia][ver.inlier], verified.ratio, target)] = True
    n_raw = len(raw_table)
    summary = {
        "method": raw.method,
        "n_keypoints_a": len(a.view),
        "n_keypoints_b": len(b.view),
        "n_raw": n_raw,
        "n_verified": len(verified),
        "n_matches": int(kept.sum()),
        "inlier_ratio": len(verified) / n_raw if n_raw else float("nan"),
        "offset_m": ver.offset_m,
        "offset_mad_m": ver.offset_mad_m,
        "overlap_km2": area_km2,
        "thinning_target": target,
        "stats": ver.stats,
        "info": raw.info,
        "timings": timings,
    }
    attrs = {
        "key": task.key,
        "image_a": str(task.image_a),
        "image_b": str(task.image_b),
        "source_a": _source(task.keypoints_a, a.attrs),
        "source_b": _source(task.keypoints_b, b.attrs),
        "matching": settings(config),
        "task_digest": task_digest(task),
        "method": raw.method,
        "summary": summary,
    }
    return MatchFile(raw_table, ver.inlier, verified, kept, attrs)


def main(
    task: PairTask,
    config: JobConfig | MatchingConfig | dict[str, Any] | str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Match one pair and store the result in ``task.output``.

    Parameters
    ----------
    task : PairTask
        Both images, their keypoint files and camera states (None: image space), the lon/lat overlap
        (None: whole images) and the output match file.
    config : Config, MatchingConfig, dict, path or None
        The configuration (its ``matching`` section is used).
    overwrite : bool
        Match again even if ``task.output`` is up to date.

    Returns
    -------
    Path
        The match file.

    Raises
    ------
    ConfigError, FeatureError, MatchingError, CameraError
        Naming the file or key and the problem.
    """
    cfg = resolve_config(config)
    out = Path(task.output)
    if not overwrite and is_current(out, task, cfg):
        return out
    return write_matches(out, compute(task, cfg))
