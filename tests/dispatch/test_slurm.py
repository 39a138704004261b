"""The same kind of batch on a real single-node SLURM cluster through dask-jobqueue."""

from __future__ import annotations

import os
from pathlib import Path

import dispatch_jobs as dj
import pytest

from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder

HERE = Path(__file__).resolve().parent
WORKER_ENV = {"OPENCV_FOR_THREADS_NUM": "1", "OMP_NUM_THREADS": "1", "MALLOC_TRIM_THRESHOLD_": None}


@pytest.mark.slurm
def test_batch_on_slurm(tmp_path, gpkg_url, slurm_cluster):
    imgs = [dj.write_tiny_image(tmp_path / f"s{i}.json", 20 + i, 1) for i in range(2)]
    bad = dj.write_tiny_image(tmp_path / "bad.json", 0, 0, fail="corrupt")
    logs = tmp_path / "slurm-logs"
    cfg = dj.adder_config(gpkg_url, kind="slurm", maxfailures=2)
    cfg["cluster"]["slurm"] = {
        "queue": "debug",
        "cores": 1,
        "processes": 1,
        "memory": "1GiB",
        "walltime": "00:10:00",
        "jobs": 2,
        "interface": "lo",
        "log_directory": str(logs),
        "job_script_prologue": [f"export PYTHONPATH={HERE}"],  # the workers import dispatch_jobs
    }
    with ImageAdder(cfg, job=dj.tiny_job) as ia:
        ia.add_images([*imgs, bad])
        assert ia.wait(timeout=90)
        worker_env = ia.client.run(lambda: {k: os.environ.get(k) for k in WORKER_ENV})
        status = ia.job_status
        attempts = ia.inspect(imgs[0])
        bad_attempts = ia.inspect(bad)
        script = ia._cluster.job_script()
    assert status == {str(imgs[0].resolve()): True, str(imgs[1].resolve()): True, str(bad.resolve()): 2}
    assert "#SBATCH -p debug" in script and "export PYTHONPATH" in script
    assert attempts[0]["worker"].startswith("tcp://127.0.0.1:")
    assert [a["error_type"] for a in bad_attempts] == ["ImageError", "ImageError"]
    assert Database(gpkg_url).ingested_paths() == {str(p.resolve()) for p in imgs}
    assert list(logs.glob("*.err")) or list(logs.glob("*.out"))  # the SLURM jobs really ran
    # SLURM workers get the local workers' environment: one OpenCV thread, glibc's adaptive malloc
    assert worker_env and all(env == WORKER_ENV for env in worker_env.values())
