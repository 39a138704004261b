"""The job commands through typer's CliRunner, on real synthetic cubes, a real cluster and database."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from sqlalchemy import func, select
from typer.testing import CliRunner

from tiepoint.cli.main import app
from tiepoint.config import Config, load_config
from tiepoint.db import Database, Job, JobAttempt
from tiepoint.synthetic import synthesize

runner = CliRunner()


def test_init_writes_a_commented_config_with_every_key(tmp_path):
    path = tmp_path / "tiepoint.yml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert load_config(path) == Config()
    # every leaf key of the model appears, and comments explain them
    data = yaml.safe_load(text)

    def leaves(model, prefix=""):
        for name in type(model).model_fields:
            value = getattr(model, name)
            yield from leaves(value, f"{prefix}{name}.") if isinstance(value, BaseModel) else [prefix + name]

    for key in leaves(Config()):
        node = data
        for part in key.split("."):
            node = node[part]
    assert text.count("#") > 20
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code == 1 and "exists" in again.output
    assert runner.invoke(app, ["init", str(path), "--force"]).exit_code == 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, ctx_isd_dir) -> tuple[Path, Path, list[Path], Path]:
    """A config file (1 local worker, a GeoPackage), two synthetic cubes and a corrupt one."""
    root = tmp_path_factory.mktemp("cli")
    cubes_dir = root / "cubes"
    name = "G02_019154_1800_XN_00N133W.crop"
    cube = synthesize(ctx_isd_dir / f"{name}.json", cubes_dir, lines=200, samples=200).cube
    corrupt = cubes_dir / "corrupt.cub"
    corrupt.write_bytes(cube.read_bytes()[:3000])
    shutil.copy(cube.with_suffix(".json"), cubes_dir / "corrupt.json")
    config = root / "tiepoint.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": f"sqlite:///{root / 'cli.gpkg'}"},
                "cluster": {"workers": 1, "maxfailures": 1, "dashboard": False, "memory_limit": None},
            }
        )
    )
    return config, cubes_dir, [cube], corrupt


def test_add_status_failed_inspect_retry_footprints(workspace, tmp_path):
    config, cubes_dir, cubes, corrupt = workspace
    result = runner.invoke(app, ["add", str(cubes_dir), "--ext", "cub", "-c", str(config)])
    assert result.exit_code == 3, result.output  # a job failed: scripts and SLURM chains can tell
    assert "2 images queued" in result.output and "1 ok, 1 failed" in result.output
    db = Database(load_config(config).database.url)
    assert db.ingested_paths() == {str(c) for c in cubes}

    result = runner.invoke(app, ["status", "-c", str(config)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "ingest: 1 failed, 1 succeeded" in result.output
    assert cubes[0].name in result.output and corrupt.name in result.output

    result = runner.invoke(app, ["failed", "-c", str(config)])
    assert str(corrupt) in result.output and "ImageError" in result.output

    result = runner.invoke(app, ["inspect", str(corrupt), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "attempt 1: failed" in result.output and "Traceback" in result.output

    result = runner.invoke(app, ["retry", "-c", str(config)])
    assert result.exit_code == 3, result.output  # the corrupt cube fails again
    assert "1 images queued" in result.output
    result = runner.invoke(app, ["inspect", str(corrupt), "-c", str(config), "--no-log"])
    assert "attempt 1: failed" in result.output and "attempt 2: failed" in result.output

    # already ingested: nothing to do unless --force
    result = runner.invoke(app, ["add", str(cubes[0]), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "0 images queued" in result.output

    png = tmp_path / "map.png"
    result = runner.invoke(app, ["footprints", "--png", str(png), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1 footprints" in result.output


def test_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("cluster:\n  kind: cloud\n")
    result = runner.invoke(app, ["status", "-c", str(bad)])
    assert result.exit_code == 1
    assert "cluster.kind" in result.output
    result = runner.invoke(app, ["add", str(tmp_path), "-c", str(tmp_path / "missing.yml")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_ctrl_c_during_add_leaves_a_consistent_ledger(workspace, tmp_path):
    cubes = workspace[2]
    batch = tmp_path / "batch"
    batch.mkdir()
    for i in range(30):  # copies of one small cube with its ISD: a batch that takes a few seconds
        shutil.copy(cubes[0], batch / f"copy{i:02d}.cub")
        shutil.copy(cubes[0].with_suffix(".json"), batch / f"copy{i:02d}.json")
    config = tmp_path / "tiepoint.yml"
    url = f"sqlite:///{tmp_path / 'ctrlc.gpkg'}"
    config.write_text(
        yaml.safe_dump({"database": {"url": url}, "cluster": {"workers": 1, "dashboard": False}})
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tiepoint.cli.main", "add", str(batch), "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        if "images queued" in line:
            break
    db = Database(url)
    end = time.monotonic() + 60
    while not db.ingested_paths() and time.monotonic() < end:  # interrupt once a first image is in
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    with db.session() as s:
        jobs = dict(s.execute(select(Job.key, Job.state)).all())
        running = s.execute(select(func.count()).where(JobAttempt.state == "running")).scalar_one()
    assert len(jobs) == 30 and running == 0
    done = {p for p, state in jobs.items() if state == "succeeded"}
    assert set(jobs.values()) <= {"succeeded", "queued"} and 0 < len(done) < 30
    assert db.ingested_paths() == done
    # the next `add` resumes the rest
    result = runner.invoke(app, ["add", str(batch), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert len(db.ingested_paths()) == 30
