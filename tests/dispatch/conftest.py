"""Fixtures of the dispatcher tests: a shared LocalCluster, tiny images, and a real SLURM cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# dask-jobqueue writes its default config file on first import; keep it out of the home folder.
os.environ.setdefault("DASK_CONFIG", tempfile.mkdtemp(prefix="tiepoint-dask-config-"))

import dask
import pytest

from tiepoint.config import ClusterConfig
from tiepoint.dispatch.cluster import start_cluster


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A LocalCluster of 2 single-threaded worker processes started like ImageAdder's own."""
    client, cluster = start_cluster(ClusterConfig(workers=2, dashboard=False, memory_limit=None))
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def gpkg_url(tmp_path: Path) -> str:
    """A fresh GeoPackage database URL."""
    return f"sqlite:///{tmp_path / 'test.gpkg'}"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Iterator[dict[str, str]]:
    """A real single-node SLURM cluster (../shared/slurm), started for the session and stopped after.

    Yields the environment to use it (``SLURM_CONF``, and ``DASK_CONFIG`` so dask-jobqueue writes
    its default file in tmp rather than in the home folder).
    """
    scripts = shared_dir / "slurm"
    state = tmp_path_factory.mktemp("slurm")
    if shutil.which("sinfo") is None and os.geteuid() != 0:
        pytest.fail("SLURM is not installed and the tests are not root (./run test installs it)")
    proc = subprocess.run(
        ["bash", str(scripts / "start.sh"), str(state)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        pytest.fail(f"SLURM did not start: {proc.stderr[-2000:]}")
    conf = proc.stdout.strip().split("=", 1)[1]
    env = {"SLURM_CONF": conf, "DASK_CONFIG": str(tmp_path_factory.mktemp("dask-config"))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    dask.config.PATH = env["DASK_CONFIG"]  # in case dask was imported before DASK_CONFIG was set
    try:
        yield env
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        subprocess.run(["bash", str(scripts / "stop.sh"), str(state)], capture_output=True, timeout=60)
