"""The ``matching`` configuration section, the plug-in list it names, and ``python -m tiepoint.matching``."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest
import yaml
from typer.testing import CliRunner

from tiepoint.cli.main import app
from tiepoint.config import MATCHER_NAMES, Config, MatcherConfig, PairsConfig, load_config
from tiepoint.errors import ConfigError
from tiepoint.matching import MATCHERS, load_matcher
from tiepoint.matching.__main__ import cli


def test_matcher_names_have_one_home():
    assert MATCHER_NAMES == MATCHERS
    assert typing.get_args(MatcherConfig.model_fields["name"].annotation) == MATCHERS
    for name in MATCHERS:
        assert load_matcher(name).name == name


def test_defaults():
    m = Config().matching
    assert m.pairs == PairsConfig() and m.pairs.min_overlap_km2 == 1.0 and m.pairs.max_neighbours is None
    assert m.matcher.name == "gated" and m.matcher.params == {}
    assert load_matcher("gated").params["ground_radius_m"] == 1000.0  # sized for CTX a-priori error
    assert m.verification.ransac_px == 1.5 and m.thinning.per_km2 == 50.0 and m.match_dir is None


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (
            {"matcher": {"name": "gated", "params": {"radius": 10}}},
            r"matching\.matcher.*unknown gated .*'radius'",
        ),
        (
            {"matcher": {"name": "bf", "params": {"ground_radius_m": 10}}},
            r"matching\.matcher.*'ground_radius_m'",
        ),
        ({"matcher": {"params": {"ratio": -1}}}, r"matching\.matcher.*ratio must be a number > 0"),
        ({"matcher": {"name": "superglue"}}, r"matching\.matcher\.name"),
        ({"verification": {"model": "fundamental"}}, r"matching\.verification\.model"),
        ({"pairs": {"min_overlap_km2": -1}}, r"matching\.pairs\.min_overlap_km2"),
        ({"thinning": {"per_km2": 0}}, r"matching\.thinning\.per_km2"),
    ],
)
def test_bad_settings_name_the_key(data, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load_config({"matching": data})


def test_init_template_documents_every_matching_key(tmp_path):
    path = tmp_path / "tiepoint.yml"
    assert CliRunner().invoke(app, ["init", str(path)]).exit_code == 0
    text = path.read_text()
    assert yaml.safe_load(text)["matching"]["verification"]["tile_px"] == 1024
    section = text[text.index("\nmatching:") :]
    for key in ("min_overlap_km2", "max_neighbours", "params", "ransac_px", "per_km2", "match_dir"):
        line = next(ln for ln in section.splitlines() if ln.strip().startswith(f"{key}:"))
        assert "#" in line, line  # described


def test_loading_a_configuration_stays_light():
    """Validating matcher parameters loads the plug-ins, but not OpenCV, h5py or scipy (``tiepoint
    status`` reads the configuration too); the package's names resolve lazily and completely."""
    code = (
        "import sys; from tiepoint.config import load_config; "
        "load_config({'matching': {'matcher': {'params': {'ratio': 0.7}}}}); "
        "print(sorted(m for m in ('cv2', 'h5py', 'scipy', 'tiepoint.db') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    import tiepoint.matching as matching

    assert all(getattr(matching, name) is not None for name in matching.__all__)
    import tiepoint.matching.verify  # noqa: F401 - a submodule named like a function of the package

    assert callable(matching.verify) and callable(matching.main)


def test_python_m_tiepoint_matching(cube_dir, tmp_path, capsys):
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"output: {{keypoint_dir: {tmp_path}}}\n")
    a, b = cube_dir / "AS15-M-0297_crop.cub", cube_dir / "AS15-M-0299_crop.cub"
    assert cli([str(a), str(b), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out.split("\t")
    assert out[0].endswith("AS15-M-0297_crop__AS15-M-0299_crop.h5") and out[1] == "image"
    assert int(out[-1].split()[-1]) >= 150
    assert cli([str(a), str(tmp_path / "missing.cub"), "--config", str(cfg)]) == 1
    assert "missing.cub" in capsys.readouterr().err
    bad = tmp_path / "bad.yml"
    bad.write_text("matching: {matcher: {params: {nope: 1}}}\n")
    assert cli([str(a), str(b), "--config", str(bad)]) == 2
