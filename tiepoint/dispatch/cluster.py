"""Start (or connect to) the Dask cluster that runs ingest jobs, from :class:`ClusterConfig`.

``local`` starts a :class:`distributed.LocalCluster` (worker processes, default one per core),
``scheduler`` connects to an existing scheduler address and ``slurm`` starts a dask-jobqueue
``SLURMCluster``. Ports are chosen by the operating system; servers listen on ``cluster.host``
(loopback by default). Clusters created here use ``allowed-failures = 0`` so that a job that kills
its worker fails at once with ``KilledWorker`` (the dispatcher decides about retries), and
``worker-saturation = 1.0`` so that a worker holds only the jobs it is running.
"""

from __future__ import annotations

import logging
import os
import shlex
from typing import Any

import dask

from tiepoint.config import ClusterConfig
from tiepoint.errors import ConfigError

logger = logging.getLogger(__name__)

SCHEDULER_SETTINGS: dict[str, Any] = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
}
"""Dask settings in force while the scheduler of a cluster we create is built."""


def _worker_environ(threads: int) -> dict[str, Any]:
    """Environment of spawned workers: native thread pools sized to the worker's threads, as Dask
    does for OpenMP/MKL/OpenBLAS, and for OpenCV too (SIFT would otherwise use every core in each
    worker and workers would compete).

    Dask also sets ``MALLOC_TRIM_THRESHOLD_=65536``; setting it turns off glibc's adaptive mmap
    threshold, so every large SIFT buffer is mmapped and zeroed afresh: SIFT ran ~20% slower in a
    worker than in a plain process (bench_dispatch, 7168 x 5000 CTX cube). glibc's default is kept.
    """
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ["MALLOC_TRIM_THRESHOLD_"] = None  # None: the nanny does not set it
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENCV_FOR_THREADS_NUM"):
        environ[key] = threads
    return {"distributed.nanny.pre-spawn-environ": environ}


def _local_cluster(cfg: ClusterConfig) -> Any:
    from distributed import LocalCluster

    with dask.config.set(_worker_environ(cfg.threads_per_worker)):
        return LocalCluster(
            n_workers=cfg.workers or os.cpu_count() or 1,
            threads_per_worker=cfg.threads_per_worker,
            processes=True,
            host=cfg.host,
            scheduler_port=0,
            # the scheduler's HTTP server (dashboard when enabled, health/metrics) on a free port
            dashboard_address=f"{cfg.host}:0",
            scheduler_kwargs={"dashboard": cfg.dashboard},
            memory_limit=cfg.memory_limit,
            silence_logs=logging.ERROR,
        )


def _slurm_cluster(cfg: ClusterConfig) -> Any:
    from dask_jobqueue import SLURMCluster

    s = cfg.slurm
    # the workers' nannies read their own Dask config: hand them the same worker environment
    environ = _worker_environ(max(1, s.cores // s.processes))["distributed.nanny.pre-spawn-environ"]
    prologue = [f"export DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON={shlex.quote(repr(environ))}"]
    kwargs: dict[str, Any] = {
        "queue": s.queue,
        "account": s.account,
        "cores": s.cores,
        "processes": s.processes,
        "memory": s.memory,
        "walltime": s.walltime,
        "log_directory": s.log_directory,
        "job_script_prologue": prologue + list(s.job_script_prologue),
        "job_extra_directives": list(s.job_extra_directives),
        "local_directory": s.local_directory,
    }
    # dask-jobqueue's own default would serve the dashboard on :8787 on every interface
    options: dict[str, Any] = {"port": 0, "dashboard": cfg.dashboard}
    if s.interface:
        from distributed.utils import get_ip_interface

        kwargs["interface"] = s.interface
        host = get_ip_interface(s.interface)
    else:
        host = options["host"] = cfg.host
    options["dashboard_address"] = f"{host}:0"
    kwargs["scheduler_options"] = options
    cluster = SLURMCluster(**kwargs)
    if s.adapt_max_jobs:
        cluster.adapt(minimum_jobs=s.jobs, maximum_jobs=s.adapt_max_jobs)
    else:
        cluster.scale(jobs=s.jobs)
    return cluster


def start_cluster(cfg: ClusterConfig) -> tuple[Any, Any | None]:
    """Start or connect to the cluster the configuration describes.

    Parameters
    ----------
    cfg : ClusterConfig
        The ``cluster`` section of the configuration.

    Returns
    -------
    client : distributed.Client
        A client connected to the scheduler.
    cluster : Cluster or None
        The cluster created here (to be closed with the client), or None for ``scheduler``.

    Raises
    ------
    ConfigError
        If ``cluster.kind`` is ``scheduler`` without ``cluster.address``, or the cluster cannot start.
    """
    from distributed import Client

    if cfg.kind == "scheduler":
        if not cfg.address:
            raise ConfigError("cluster.address: required when cluster.kind is 'scheduler'")
        try:
            return Client(cfg.address, timeout="30s"), None
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cluster.address: cannot connect to {cfg.address!r}: {exc}") from None
    with dask.config.set(SCHEDULER_SETTINGS):
        try:
            cluster = _local_cluster(cfg) if cfg.kind == "local" else _slurm_cluster(cfg)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"cluster ({cfg.kind}): cannot start: {exc}") from None
    client = Client(cluster)
    return client, cluster


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard URL, or None when the dashboard is off or bokeh is not installed."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return None
    try:
        info = client.scheduler_info()
    except Exception:  # pragma: no cover - a dead scheduler has no dashboard either
        return None
    if "dashboard" not in info.get("services", {}):
        return None
    return client.dashboard_link
