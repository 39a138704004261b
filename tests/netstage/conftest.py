"""Fixtures of the network-stage tests: the rendered CTX groups, ingested and matched once per
backend, and a LocalCluster."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("DASK_CONFIG", tempfile.mkdtemp(prefix="tiepoint-dask-config-"))

import pytest
from netstage_data import NAMES, config, copy_images, ingest_and_match, render_groups

from tiepoint.config import ClusterConfig
from tiepoint.dispatch.cluster import start_cluster


@pytest.fixture(scope="session")
def net_client() -> Iterator[Any]:
    """A LocalCluster of 2 single-threaded worker processes, as ImageAdder starts them."""
    client, cluster = start_cluster(ClusterConfig(workers=2, dashboard=False, memory_limit=None))
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def ctx_groups(tmp_path_factory, ctx_isd_dir, net_client) -> Path:
    """The six rendered images with their keypoint and match files (ingested and matched once)."""
    folder = render_groups(ctx_isd_dir, tmp_path_factory.mktemp("ctx_groups"))
    ingest_and_match(
        config(f"sqlite:///{tmp_path_factory.mktemp('template') / 't.gpkg'}"), folder, net_client
    )
    return folder


@pytest.fixture
def matched(tmp_path, ctx_groups, db_url, net_client) -> tuple[dict, Path]:
    """``(config, image folder)``: a fresh database (GeoPackage or PostGIS) holding the six images,
    ingested and matched (the keypoint and match files of the session are reused)."""
    folder = copy_images(ctx_groups, tmp_path / "images", NAMES)
    cfg = config(db_url)
    ingest_and_match(cfg, folder, net_client)
    return cfg, folder
