from pathlib import Path

import pytest

from tiepoint.config import Config, load_config
from tiepoint.errors import ConfigError


def test_defaults_are_embedded_local():
    cfg = load_config({})
    assert cfg.database.url.startswith("sqlite:///")
    assert cfg.cluster.kind == "local"
    assert cfg.cluster.maxfailures == 3


def test_yaml_file_round_trip(tmp_path: Path):
    path = tmp_path / "tiepoint.yml"
    path.write_text("cluster:\n  kind: scheduler\n  address: tcp://127.0.0.1:8786\n  maxfailures: 5\n")
    cfg = load_config(path)
    assert cfg.cluster.kind == "scheduler"
    assert cfg.cluster.maxfailures == 5


def test_env_var_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "c.yml"
    path.write_text("features:\n  extractor: orb\n")
    monkeypatch.setenv("TIEPOINT_CONFIG", str(path))
    assert load_config(None).features.extractor == "orb"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"cluster": {"maxfailures": 0}}, "cluster.maxfailures"),
        ({"cluster": {"kind": "kubernetes"}}, "cluster.kind"),
        ({"databse": {}}, "databse"),
        ({"features": {"extractor": "surf"}}, "features.extractor"),
    ],
)
def test_errors_name_the_key(data, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(data)


def test_missing_file_names_it(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope\.yml"):
        load_config(tmp_path / "nope.yml")


def test_config_instance_passes_through():
    cfg = Config()
    assert load_config(cfg) is cfg


def test_unquoted_slurm_walltime_survives_yaml_base_60(tmp_path: Path):
    path = tmp_path / "c.yml"
    path.write_text("cluster:\n  slurm:\n    walltime: 2:30:00\n")  # YAML 1.1 reads 9000
    assert load_config(path).cluster.slurm.walltime == "02:30:00"
