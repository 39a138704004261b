"""Small real job functions for the dispatcher tests (imported by the Dask workers).

A "tiny image" here is a JSON file: ``{"lines", "samples", "lon", "lat", ...}`` plus optional
behaviour keys read by :func:`tiny_job`:

- ``"fail": "message"`` -- raise an ImageError every time (a corrupt image);
- ``"kill_first": true`` -- SIGKILL the worker process on the first attempt (marker file beside it);
- ``"fail_first": n`` -- raise on the first n attempts;
- ``"sleep": s`` -- sleep s seconds first;
- ``"bad_record": true`` -- return a record the database rejects (0 lines);
- ``"raise": "KeyError"`` -- raise that builtin exception (an error that does not name the file);
- ``"spy": true`` -- before ingesting, search this worker process for the database password
  (:data:`PASSWORD_REVERSED`) and write ``"clean"`` or what was found to ``<file>.spy``.

Every run appends a line to ``<file>.runs`` so tests can count executions independently of the
ledger.
"""

from __future__ import annotations

import builtins
import gc
import hashlib
import json
import logging
import os
import pickle
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
    if "raise" in spec:
        raise getattr(builtins, spec["raise"])("something deep inside went wrong")
    if spec.get("spy"):
        Path(f"{path}.spy").write_text(find_password_in_this_process(config))
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


PASSWORD_REVERSED = "24pt-wp-t3rc3s"
"""The test database password, reversed (so this module's own constant is not what a search finds)."""


def _holds_password(value: Any) -> bool:
    return isinstance(value, str) and len(value) < 100_000 and PASSWORD_REVERSED in value[::-1]


def find_password_in_this_process(config: Any) -> str:
    """Search the job's config, the worker's task specs and every container in memory for the password."""
    found = []
    if PASSWORD_REVERSED.encode()[::-1] in pickle.dumps(config):
        found.append("the job's config")
    try:
        from distributed import get_worker

        for key, task in get_worker().state.tasks.items():
            try:
                blob = pickle.dumps(task.run_spec)
            except Exception:
                continue
            if PASSWORD_REVERSED.encode()[::-1] in blob:
                found.append(f"task {key}")
    except ValueError:  # not on a worker
        pass
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            values = obj.values()
        elif isinstance(obj, list | tuple | set):
            values = obj
        else:
            continue
        if any(_holds_password(v) for v in values):
            found.append(f"a {type(obj).__name__} in memory")
            break
    return "; ".join(found) or "clean"


def noop_job(path: str, config: Any) -> str:
    """The cheapest job: returns its path (for overhead benchmarks; not an ImageRecord)."""
    return path


# -- a second job kind, for the tests that kinds never mix ------------------------------------------


def echo_runs(path: str | os.PathLike[str]) -> int:
    """How many times the echo job ran on *path*."""
    marker = Path(f"{path}.echo-runs")
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def echo_job(key: str, config: Any) -> str:
    """The job of the test kind ``echo``: counts its runs beside the file, sleeps as the file says."""
    with open(f"{key}.echo-runs", "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(float(json.loads(Path(key).read_text()).get("sleep", 0)))
    return key


def _write_echo(db: Any, results: Any, force: bool) -> list[None]:
    for key in results:
        Path(f"{key}.echo-done").touch()
    return [None] * len(results)


def _echo_done(db: Any, keys: Any) -> set[str]:
    return {k for k in keys if Path(f"{k}.echo-done").exists()}


def echo_runner_class() -> Any:
    """A :class:`JobRunner` of the kind ``echo`` (results are marker files, written by the dispatcher)."""
    from tiepoint.dispatch.kinds import JobKind
    from tiepoint.dispatch.runner import JobRunner

    class EchoRunner(JobRunner):
        kind = JobKind(name="echo", label="echoing", run=echo_job, write=_write_echo, done=_echo_done)

    return EchoRunner
