"""``tiepoint run`` / ``tiepoint.workflow.run``: images in, network out, and a second run does only the
missing work (real synthetic CTX cubes with pointing error, real LocalCluster, GeoPackage)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tiepoint import cnet
from tiepoint.cli.main import app
from tiepoint.db import Database, DatabaseError
from tiepoint.synthetic import synthesize
from tiepoint.workflow import run

NORTH = [
    "B10_013615_2178_XI_37N117W.crop",
    "N12_067021_2177_XN_37N117W.crop",
    "K12_058001_2177_XI_37N117W.crop",
]
"""B10 and K12 each overlap N12, not each other."""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, ctx_isd_dir) -> Path:
    folder = tmp_path_factory.mktemp("north")
    for name in NORTH:  # half their real sizes: one ground resolution for all
        isd = json.loads((ctx_isd_dir / f"{name}.json").read_text())
        lines, samples = int(isd["image_lines"]) // 2, int(isd["image_samples"]) // 2
        synthesize(
            ctx_isd_dir / f"{name}.json", folder, lines=lines, samples=samples, pointing_error_m=300, seed=2
        )
    return folder


def _copy(rendered: Path, folder: Path, names: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        for suffix in (".cub", ".json", ".truth.json"):
            shutil.copy(rendered / f"{name}{suffix}", folder / f"{name}{suffix}")


def _config(tmp_path: Path) -> dict:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'run.gpkg'}"},
        "cluster": {"workers": 2, "dashboard": False, "memory_limit": None},
    }


def test_a_second_run_after_adding_images_does_only_the_new_work(tmp_path, rendered, dask_client):
    folder = tmp_path / "images"
    _copy(rendered, folder, NORTH[:2])
    cfg = _config(tmp_path)
    first = run(folder, "cub", tmp_path / "north.net", cfg, client=dask_client)
    assert first.ok, str(first)
    assert (first.ingest.queued, first.match.queued) == (2, 1)
    assert first.network.points.new_points > 50 and first.network.report.connected
    net1 = cnet.read(tmp_path / "north.net")
    assert (tmp_path / "north.lis").read_text().count("\n") == 2

    _copy(rendered, folder, NORTH[2:])  # a third image arrives in the folder
    second = run(folder, "cub", tmp_path / "north.net", cfg, client=dask_client)
    assert second.ok, str(second)
    assert (second.ingest.queued, second.match.queued) == (1, 1)  # only K12 and its one pair
    assert second.network.points.pairs == 1  # only the new pair's matches made points
    assert second.network.report.connected and second.network.report.weak_images == []
    net2 = cnet.read(tmp_path / "north.net")
    assert net2.n_points > net1.n_points and (tmp_path / "north.lis").read_text().count("\n") == 3
    # the first run's points are untouched: same ids, same measures
    old = dict(zip(net1.points.id, net1.measure_counts, strict=True))
    new = dict(zip(net2.points.id, net2.measure_counts, strict=True))
    assert all(new.get(pid, -1) >= n for pid, n in old.items())

    third = run(folder, "cub", tmp_path / "north.net", cfg, client=dask_client)
    assert (third.ingest.queued, third.match.queued, third.network.points.pairs) == (0, 0, 0)
    assert third.network.registration.queued == 0


def test_cli_run_interrupted_then_resumed(tmp_path, rendered):
    folder = tmp_path / "images"
    batch = [f"copy{i}" for i in range(8)]
    folder.mkdir()
    for i, name in enumerate(batch):  # copies of the three images: a batch that takes a few seconds
        src = NORTH[i % 3]
        for suffix in (".cub", ".json", ".truth.json"):
            shutil.copy(rendered / f"{src}{suffix}", folder / f"{name}{suffix}")
    config = tmp_path / "tiepoint.yml"
    config.write_text(yaml.safe_dump(_config(tmp_path)))
    out = tmp_path / "out.net"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tiepoint.cli.main", "run", str(folder), "--ext", "cub", "--out", str(out),
         "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = _config(tmp_path)["database"]["url"]
    end = time.monotonic() + 120
    while time.monotonic() < end:  # interrupt once the first image is in the database
        time.sleep(0.2)
        if not (tmp_path / "run.gpkg").exists():
            continue
        try:
            with Database(url) as db:
                if db.ingested_paths():
                    break
        except DatabaseError:  # created but not migrated yet, or locked: look again
            continue
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and not out.exists()
    result = CliRunner().invoke(
        app, ["run", str(folder), "--ext", "cub", "--out", str(out), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    with Database(url) as db:
        assert len(db.ingested_paths()) == len(batch)
    assert cnet.read(out).n_points > 0 and out.with_suffix(".lis").read_text().count("\n") == len(batch)
