"""Small real job functions for the dispatcher tests (imported by the Dask workers).

A "tiny image" here is a JSON file: ``{"lines", "samples", "lon", "lat", ...}`` plus optional
behaviour keys read by :func:`tiny_job`:

- ``"fail": "message"`` -- raise an ImageError every time (a corrupt image);
- ``"kill_first": true`` -- SIGKILL the worker process on the first attempt (marker file beside it);
- ``"fail_first": n`` -- raise on the first n attempts;
- ``"sleep": s`` -- sleep s seconds first;
- ``"bad_record": true`` -- return a record the database rejects (0 lines).

Every run appends a line to ``<file>.runs`` so tests can count executions independently of the
ledger.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from shapely.geometry import box

from tiepoint.errors import ImageError
from tiepoint.records import ImageRecord, KeypointSummary

logger = logging.getLogger("tiepoint.tests.dispatch")


def adder_config(db_url: str, **cluster: Any) -> dict[str, Any]:
    """A configuration dict for tests: the given database, small local clusters."""
    return {
        "database": {"url": db_url},
        "cluster": {"workers": 1, "dashboard": False, "memory_limit": None, "maxfailures": 3, **cluster},
    }


def write_tiny_image(path: Path, lon: float, lat: float, **behaviour: Any) -> Path:
    """Write a tiny JSON "image" whose footprint is a 1-degree box at (lon, lat)."""
    path.write_text(json.dumps({"lines": 10, "samples": 12, "lon": lon, "lat": lat, **behaviour}))
    return path


def runs(path: str | os.PathLike[str]) -> int:
    """How many times a job ran on *path*."""
    marker = Path(f"{path}.runs")
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def tiny_job(path: str, config: Any) -> ImageRecord:
    """Ingest a tiny JSON image into a real :class:`ImageRecord`."""
    with open(f"{path}.runs", "a") as f:
        f.write(f"{os.getpid()}\n")
    n = runs(path)
    logger.info("tiny job on %s, run %d", path, n)
    raw = Path(path).read_bytes()
    try:
        spec = json.loads(raw)
    except ValueError:
        raise ImageError("not a tiny image (bad JSON)", path) from None
    time.sleep(float(spec.get("sleep", 0)))
    if spec.get("kill_first") and n == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    if "fail" in spec:
        raise ImageError(spec["fail"], path)
    if n <= int(spec.get("fail_first", 0)):
        raise ImageError(f"transient failure {n}", path)
    lon, lat = float(spec["lon"]), float(spec["lat"])
    return ImageRecord(
        path=str(Path(path).resolve()),
        name=Path(path).stem,
        lines=0 if spec.get("bad_record") else int(spec["lines"]),
        samples=int(spec["samples"]),
        bands=1,
        content_hash=hashlib.sha256(raw).hexdigest(),
        footprint=box(lon, lat, lon + 1, lat + 1),
        footprint_xyz=None,
        camera_model="TEST_MODEL",
        camera_state="{}",
        keypoints=KeypointSummary(path=f"{path}.h5", count=0, extractor="sift", bbox=None),
    )


def noop_job(path: str, config: Any) -> str:
    """The cheapest job: returns its path (for overhead benchmarks; not an ImageRecord)."""
    return path
