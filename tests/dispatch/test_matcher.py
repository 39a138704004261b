"""PairMatcher: the match stage dispatched like ingest (real synthetic CTX cubes with pointing error,
real ingest, real matching on a LocalCluster and on SLURM, GeoPackage and PostGIS)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tiepoint.cli.main import app
from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder, PairMatcher
from tiepoint.matching import read_matches
from tiepoint.synthetic import synthesize

GROUPS = {
    "equator": ["G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop"],
    "north": ["B10_013615_2178_XI_37N117W.crop", "N12_067021_2177_XN_37N117W.crop"],
}
"""Two overlapping pairs, far apart (B10 and N12 overlap; neither overlaps G02 or N06)."""
SIZE = 400
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, ctx_isd_dir) -> Path:
    """Four synthetic CTX cubes rendered through cameras biased by 300 m (sidecars are a-priori)."""
    folder = tmp_path_factory.mktemp("pairs")
    for names in GROUPS.values():
        for name in names:
            synthesize(
                ctx_isd_dir / f"{name}.json", folder, lines=SIZE, samples=SIZE, pointing_error_m=300, seed=3
            )
    return folder


def _workspace(rendered: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    shutil.copytree(rendered, folder, ignore=shutil.ignore_patterns("*.h5", "matches"))
    return folder


def _config(db_url: str, **cluster) -> dict:
    return {
        "database": {"url": db_url},
        "cluster": {"workers": 1, "dashboard": False, "memory_limit": None, "maxfailures": 2, **cluster},
    }


def _ingest(cfg: dict, folder: Path, client=None) -> list[str]:
    with ImageAdder(cfg, client=client) as ia:
        queued = ia.add_images(folder, "cub")
        assert ia.wait(timeout=300)
        assert ia.failed_jobs == []
    return queued


def _expected_pairs(folder: Path) -> set[tuple[str, str]]:
    return {tuple(str((folder / f"{n}.cub").resolve()) for n in names) for names in GROUPS.values()}


def test_match_overlaps_writes_every_pair(tmp_path, db_url, rendered, dask_client):
    folder = _workspace(rendered, tmp_path)
    cfg = _config(db_url)
    _ingest(cfg, folder, dask_client)
    with PairMatcher(cfg, client=dask_client) as pm:
        queued = pm.match_overlaps()
        assert {tuple(sorted(p)) for p in queued} == {tuple(sorted(p)) for p in _expected_pairs(folder)}
        assert pm.wait(timeout=300)
        status = pm.job_status
        again = pm.match_overlaps()  # every pair is matched: nothing to do
        a, b = queued[0]
        attempts = pm.inspect(b, a)  # either order
    assert again == []
    assert set(status.values()) == {True} and len(status) == 2
    assert len(attempts) == 1 and attempts[0]["state"] == "succeeded" and attempts[0]["kind"] == "match"
    db = Database(db_url)
    try:
        for path_a, path_b in queued:
            pair = db.find_pair(path_a, path_b)
            assert pair.status == "matched" and pair.n_matches >= 20, (pair.key, pair.n_matches)
            assert pair.n_raw >= pair.n_matches > 0 and pair.offset_x_m is not None
            matches = read_matches(pair.path)
            assert len(matches.final) == pair.n_matches
        assert db.pair_counts()["matched"] == 2
    finally:
        db.close()


def test_forcing_a_pair_and_a_pair_that_does_not_overlap(tmp_path, gpkg_url, rendered, dask_client):
    folder = _workspace(rendered, tmp_path)
    cfg = _config(gpkg_url)
    _ingest(cfg, folder, dask_client)
    g02, n06 = (str((folder / f"{n}.cub").resolve()) for n in GROUPS["equator"])
    b10 = str((folder / f"{GROUPS['north'][0]}.cub").resolve())
    with PairMatcher(cfg, client=dask_client) as pm:
        assert [set(p) for p in pm.match_pair(n06, g02)] == [{g02, n06}]  # either order given
        assert pm.wait(timeout=300)
        assert pm.match_pair(g02, n06) == []  # matched already
        assert len(pm.match_pair(g02, n06, force=True)) == 1
        assert pm.wait(timeout=300)
        with pytest.raises(Exception, match="not an overlapping pair"):
            pm.match_pair(g02, b10)
        history = pm.inspect(g02, n06)
    assert [a["state"] for a in history] == ["succeeded", "succeeded"]
    assert [a["force"] for a in history] == [False, True]


def test_a_broken_keypoint_file_fails_its_pairs_and_names_the_files(
    tmp_path, gpkg_url, rendered, dask_client
):
    folder = _workspace(rendered, tmp_path)
    cfg = _config(gpkg_url)
    _ingest(cfg, folder, dask_client)
    g02 = folder / f"{GROUPS['equator'][0]}.cub"
    g02.with_suffix(".h5").write_bytes(b"not an HDF5 file")
    with PairMatcher(cfg, client=dask_client) as pm:
        pm.match_overlaps()
        assert pm.wait(timeout=300)
        status = pm.job_status
        failed = pm.failed_jobs
        attempts = pm.inspect(*failed[0])
    assert sorted(status.values(), key=str) == [2, True]  # maxfailures 2: two failed attempts
    assert len(failed) == 1 and str(g02.resolve()) in failed[0]
    assert (
        attempts[-1]["error_type"] == "FeatureError" and str(g02.with_suffix(".h5")) in attempts[-1]["error"]
    )


def test_a_pair_gone_from_the_database_fails_for_good_without_running(
    tmp_path, gpkg_url, rendered, dask_client
):
    folder = _workspace(rendered, tmp_path)
    cfg = _config(gpkg_url)
    _ingest(cfg, folder, dask_client)
    equator = tuple(str((folder / f"{n}.cub").resolve()) for n in GROUPS["equator"])
    with PairMatcher(cfg, client=dask_client) as pm:
        keys = pm._call(pm._pairs_to_match, False)
        db = Database(gpkg_url)
        north = db.find_pair(*(str((folder / f"{n}.cub").resolve()) for n in GROUPS["north"])).key
        db.delete_image(str((folder / f"{GROUPS['north'][0]}.cub").resolve()))  # its pair goes with it
        db.close()
        assert sorted(pm.submit(keys)) == sorted(keys)
        assert pm.wait(timeout=300)
        status = pm.job_status
        lost = pm.inspect_key(north)
    assert status == {equator: True, north: 1}  # a pair whose image is gone is shown by its key
    assert len(lost) == 1 and lost[0]["error_type"] == "PairNotFoundError" and lost[0]["worker"] is None


def test_cli_match_status_inspect(tmp_path, rendered):
    folder = _workspace(rendered, tmp_path)
    config = tmp_path / "tiepoint.yml"
    config.write_text(yaml.safe_dump(_config(f"sqlite:///{tmp_path / 'cli.gpkg'}")))
    runner = CliRunner()
    assert runner.invoke(app, ["add", str(folder), "--ext", "cub", "-c", str(config)]).exit_code == 0
    result = runner.invoke(app, ["match", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 pairs queued" in result.output
    result = runner.invoke(app, ["status", "-c", str(config), "--kind", "match"], env={"COLUMNS": "250"})
    names = [f"{n}.cub" for n in GROUPS["equator"]]
    assert result.exit_code == 0 and f"{names[0]} & {names[1]}" in result.output, result.output
    assert "match: 2 succeeded" in result.output
    result = runner.invoke(app, ["inspect", *(str(folder / n) for n in names), "-c", str(config)])
    assert result.exit_code == 0 and "match job" in result.output and "succeeded" in result.output


@pytest.mark.slurm
def test_match_on_slurm(tmp_path, gpkg_url, rendered, slurm_cluster):
    folder = _workspace(rendered, tmp_path)
    cfg = _config(gpkg_url, kind="slurm")
    cfg["cluster"]["slurm"] = {
        "queue": "debug",
        "cores": 1,
        "processes": 1,
        "memory": "2GiB",
        "walltime": "00:10:00",
        "jobs": 2,
        "interface": "lo",
        "log_directory": str(tmp_path / "slurm-logs"),
    }
    _ingest(cfg, folder)
    with PairMatcher(cfg) as pm:
        queued = pm.match_overlaps()
        assert pm.wait(timeout=300)
        status = pm.job_status
        worker = pm.inspect(*queued[0])[0]["worker"]
    assert len(queued) == 2 and set(status.values()) == {True}
    assert worker.startswith("tcp://127.0.0.1:")
