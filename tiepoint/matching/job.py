"""The per-pair match job: a :class:`~tiepoint.records.PairTask` in, a ``PairRecord`` out.

:func:`match_pair` is what a dispatcher runs on each worker, as :func:`tiepoint.ingest.ingest_image`
is for images: it runs the matching stage (:func:`tiepoint.matching.stage.main`: an up-to-date match
file is reused unless ``force``) and returns the pair's summary as a picklable record. It opens no
database connection and imports nothing of :mod:`tiepoint.db`; the dispatcher writes the record.
"""

from __future__ import annotations

import math
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiepoint.records import PairRecord, PairTask


def _finite(value: Any) -> float:
    return float("nan") if value is None else float(value)


def match_pair(task: PairTask, config: Any = None, force: bool = False) -> PairRecord:
    """Match one image pair.

    Parameters
    ----------
    task : PairTask
        What the dispatcher built from the database (paths, camera states, overlap, output file).
    config : Config, MatchingConfig, dict, path or None
        The configuration; its ``matching`` section is used.
    force : bool
        Match again even if ``task.output`` is up to date.

    Returns
    -------
    PairRecord
        Counts, inlier ratio, ground offset and residual statistics; ``extra`` holds ``timings``
        (seconds per step of this run), ``reused`` (the match file was up to date), ``n_verified``
        (inliers before thinning) and ``matcher`` (the matcher's diagnostics).

    Raises
    ------
    ConfigError, FeatureError, MatchingError, CameraError
        Naming the file or key and the problem.
    """
    from tiepoint.matching import stage
    from tiepoint.matching.store import read_header

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    cfg = stage.resolve_config(config)
    reused = not force and stage.is_current(task.output, task, cfg)
    path = stage.main(task, cfg, overwrite=force)
    summary = read_header(path)["summary"]
    offset = summary.get("offset_m")
    stats = {k: float(v) for k, v in summary.get("stats", {}).items() if isinstance(v, int | float)}
    timings = {} if reused else dict(summary.get("timings", {}))
    timings["total"] = time.perf_counter() - t0
    return PairRecord(
        key=task.key,
        image_a=task.image_a,
        image_b=task.image_b,
        path=str(Path(path).absolute()),
        method=str(summary["method"]),
        n_keypoints_a=int(summary["n_keypoints_a"]),
        n_keypoints_b=int(summary["n_keypoints_b"]),
        n_raw=int(summary["n_raw"]),
        n_matches=int(summary["n_matches"]),
        inlier_ratio=_finite(summary.get("inlier_ratio")),
        offset_m=None if offset is None else (float(offset[0]), float(offset[1]), float(offset[2])),
        offset_mad_m=None if summary.get("offset_mad_m") is None else float(summary["offset_mad_m"]),
        stats={k: v for k, v in stats.items() if not math.isnan(v)},
        started=started,
        finished=datetime.now(UTC),
        host=socket.gethostname(),
        extra={
            "timings": timings,
            "reused": reused,
            "n_verified": int(summary["n_verified"]),
            "matcher": dict(summary.get("info", {})),
        },
    )
