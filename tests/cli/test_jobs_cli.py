"""The job commands through typer's CliRunner, on real synthetic cubes, a real cluster and database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from tiepoint.cli.main import app
from tiepoint.config import Config, load_config
from tiepoint.db import Database
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
    assert result.exit_code == 0, result.output
    assert "2 images queued" in result.output and "1 failed" in result.output
    db = Database(load_config(config).database.url)
    assert db.ingested_paths() == {str(c) for c in cubes}

    result = runner.invoke(app, ["status", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 failed, 1 succeeded" in result.output

    result = runner.invoke(app, ["failed", "-c", str(config)])
    assert str(corrupt) in result.output and "ImageError" in result.output

    result = runner.invoke(app, ["inspect", str(corrupt), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "attempt 1: failed" in result.output and "Traceback" in result.output

    result = runner.invoke(app, ["retry", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 images queued" in result.output
    result = runner.invoke(app, ["inspect", str(corrupt), "-c", str(config), "--no-log"])
    assert "attempt 1: failed" in result.output and "attempt 2: failed" in result.output

    # already ingested: nothing to do unless --force
    result = runner.invoke(app, ["add", str(cubes[0]), "-c", str(config)])
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
