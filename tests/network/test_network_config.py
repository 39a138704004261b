"""The ``network`` configuration section: defaults, YAML, and errors that name the key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tiepoint.config import Config, NetworkConfig, load_config
from tiepoint.errors import ConfigError


def test_defaults_are_consistent():
    cfg = load_config({}).network
    assert isinstance(cfg, NetworkConfig)
    reg = cfg.registration
    assert reg.enabled and reg.template_px % 2 == 1 and reg.search_px % 2 == 1
    assert reg.search_px >= max(reg.template_px, reg.second_template_px) + 2 * reg.max_shift_px + 2
    assert cfg.tracks.max_spread_m > 0 and cfg.apriori.min_convergence_deg > 0


def test_yaml_sets_network_keys(tmp_path):
    path = tmp_path / "tiepoint.yml"
    path.write_text(
        "network:\n  tracks: {max_spread_m: null}\n"
        "  registration: {template_px: 31, second_template_px: null, search_px: 45, min_ncc: 0.7}\n"
    )
    cfg = load_config(path).network
    assert cfg.tracks.max_spread_m is None
    assert cfg.registration.second_template_px is None and cfg.registration.min_ncc == 0.7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template_px": 30}, "template_px must be odd"),
        ({"search_px": 41}, r"search_px \(41\) must be at least"),
        ({"max_shift_px": 20}, r"search_px \(55\) must be at least"),
        ({"min_ncc": 1.5}, "network.registration.min_ncc"),
        ({"interpolation": "nearest"}, "network.registration.interpolation"),
        ({"unknown": 1}, "network.registration.unknown"),
    ],
)
def test_bad_registration_settings_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        load_config({"network": {"registration": data}})


def test_every_network_key_is_documented():
    def fields(model):
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                yield from fields(value)
            else:
                yield name, field.description

    undocumented = [name for name, doc in fields(Config().network) if not doc]
    assert not undocumented
