"""NetworkRegistrar on SLURM: the registration jobs of a network built from synthetic CTX images
(real ingest and matching first, on the session's LocalCluster)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "netstage"))

from netstage_data import GROUPS, config, render_groups

from tiepoint import network
from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder, PairMatcher
from tiepoint.dispatch.ledger import Ledger


@pytest.mark.slurm
def test_registration_on_slurm(tmp_path, ctx_isd_dir, slurm_cluster, dask_client):
    names = GROUPS["north"]
    folder = render_groups(ctx_isd_dir, tmp_path / "images", names)
    cfg = config(f"sqlite:///{tmp_path / 'slurm.gpkg'}")
    with ImageAdder(cfg, client=dask_client) as ia:
        ia.add_images(str(folder), "cub")
        assert ia.wait(timeout=600) and ia.failed_jobs == []
    with PairMatcher(cfg, client=dask_client) as pm:
        pm.match_overlaps()
        assert pm.wait(timeout=600) and pm.failed_jobs == []
    cfg["cluster"] = {
        "kind": "slurm",
        "maxfailures": 2,
        "dashboard": False,
        "slurm": {
            "queue": "debug",
            "cores": 1,
            "processes": 1,
            "memory": "2GiB",
            "walltime": "00:10:00",
            "jobs": 2,
            "interface": "lo",
            "log_directory": str(tmp_path / "slurm-logs"),
        },
    }
    result = network.build(cfg, timeout=600)
    # one job per image with measures to register (an image holding only references has none)
    assert result.ok and result.registration.queued in (2, 3), str(result)
    assert result.report.registration.registered > 1000 and result.report.registration.pending == 0
    with Database(cfg["database"]["url"]) as db:
        waiting = db.execute_sql("SELECT count(*) FROM measures WHERE status = 'pending'")[0][0]
        attempts = Ledger(db).attempts("register", str((folder / f"{names[0]}.cub").resolve()))
    assert waiting == 0
    assert attempts[-1]["state"] == "succeeded" and attempts[-1]["worker"].startswith("tcp://127.0.0.1:")
