"""The real ISIS networks: both versions read alike, V2 is rewritten byte for byte, round trips."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tiepoint import cnet
from tiepoint.cnet import isis, pvl_format


def isis_equivalent(net: cnet.ControlNetwork) -> cnet.ControlNetwork:
    """*net* as ISIS holds it in memory: an absent a-priori source is the source ``None`` (0).

    ISIS's reader turns an absent source into None and its writer then writes None explicitly,
    which is the only field-level difference between the V2 fixture and its V5 rewrite (beside
    covariances recomputed to the last bit, compared with a tolerance below).
    """
    out = net.select_points(np.arange(net.n_points))
    for name in ("apriori_surf_source", "apriori_radius_source"):
        col = out.points.__getattr__(name)
        col[col == -1] = 0
    return out


def assert_isis_equal(a: cnet.ControlNetwork, b: cnet.ControlNetwork) -> None:
    a, b = isis_equivalent(a), isis_equivalent(b)
    diff = a.differences(b)
    assert set(diff) <= {"point.apriori_covar", "point.adjusted_covar"}, diff
    for name in ("apriori_covar", "adjusted_covar"):
        x, y = a.points.__getattr__(name), b.points.__getattr__(name)
        assert np.array_equal(np.isnan(x), np.isnan(y))
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=1e-14)


def test_v2_and_v5_fixtures_are_the_same_network(cnet_dir) -> None:
    v2 = cnet.read(cnet_dir / "apollo_out_v2.net")
    v5 = cnet.read(cnet_dir / "apollo_out_v5.net")
    assert (v2.n_points, v2.n_measures) == (v5.n_points, v5.n_measures) == (395, 969)
    assert v2.header == v5.header
    assert v2.header.network_id == "LandingSite" and v2.header.target_name == "Moon"
    assert_isis_equal(v2, v5)
    # counts from CONTROL_NETWORKS.md §7, independent of the codec
    owner_types = v2.points.type[v2.measure_point]
    assert (int((owner_types == 2).sum()), int((owner_types == 3).sum())) == (852, 117)
    assert (int((v2.measures.type == 2).sum()), int((v2.measures.type == 1).sum())) == (903, 66)


def test_label_and_counts_agree_with_the_file(cnet_dir) -> None:
    for name in ("apollo_out_v2.net", "apollo_out_v5.net"):
        text = (cnet_dir / name).read_bytes()[:2000].decode("latin-1")
        net = cnet.read(cnet_dir / name)
        assert int(re.search(r"NumberOfPoints\s*=\s*(\d+)", text).group(1)) == net.n_points
        assert int(re.search(r"NumberOfMeasures\s*=\s*(\d+)", text).group(1)) == net.n_measures


def test_v2_rewritten_byte_for_byte(cnet_dir, tmp_path) -> None:
    original = (cnet_dir / "apollo_out_v2.net").read_bytes()
    out = cnet.write(cnet.read(cnet_dir / "apollo_out_v2.net"), tmp_path / "v2.net", version=2)
    assert out.read_bytes() == original


def test_v2_written_from_v5_reproduces_the_v2_points(cnet_dir, tmp_path) -> None:
    v5 = cnet.read(cnet_dir / "apollo_out_v5.net")
    again = cnet.read(cnet.write(v5, tmp_path / "from5.net", version=2))
    assert again.differences(v5) == []
    assert_isis_equal(again, cnet.read(cnet_dir / "apollo_out_v2.net"))


def test_v5_rewritten_byte_for_byte(cnet_dir, tmp_path) -> None:
    original = (cnet_dir / "apollo_out_v5.net").read_bytes()
    assert isis.encode(cnet.read(cnet_dir / "apollo_out_v5.net"), 5) == original


@pytest.mark.parametrize("name", ["apollo_out_v2.net", "apollo_out_v5.net", "pointreg_controlNet_pvl.net"])
@pytest.mark.parametrize(("version", "fmt"), [(2, "isis"), (5, "isis"), (5, "pvl")])
def test_every_fixture_round_trips(cnet_dir, tmp_path, name: str, version: int, fmt: str) -> None:
    net = cnet.read(cnet_dir / name)
    again = cnet.read(cnet.write(net, tmp_path / "out.net", version=version, format=fmt))
    assert again.differences(net) == []


def test_pvl_fixture_reads(cnet_dir) -> None:
    path = cnet_dir / "pointreg_controlNet_pvl.net"
    net = cnet.read(path)
    text = path.read_text()
    assert (net.n_points, net.n_measures) == (
        text.count("Object = ControlPoint"),
        text.count("Group = ControlMeasure"),
    )
    assert net.header.network_id == "NiliFossae" and net.header.created is None
    assert net.header.description == "NiliFossae Jitter - use spicefit"
    samples = [float(v) for v in re.findall(r"^\s*Sample\s*=\s*(\S+)", text, re.M)]
    lines = [float(v) for v in re.findall(r"^\s*Line\s*=\s*(\S+)", text, re.M)]
    serials = re.findall(r"SerialNumber\s*=\s*(\S+)", text)
    np.testing.assert_array_equal(net.measures.sample, samples)
    np.testing.assert_array_equal(net.measures.line, lines)
    assert list(net.measures.serial.to_array()) == serials
    # version-1 keywords: Tie -> Free, Estimated/Unmeasured -> Candidate, ErrorLine -> residual,
    # Reference = True -> reference index
    assert (net.points.type == 2).all() and (net.measures.type == 0).all()
    assert (net.measures.line_residual == 0.0).all()
    refs = [m.start() for m in re.finditer(r"Reference\s*=\s*True", text)]
    assert len(refs) == int((net.points.reference_index >= 0).sum()) == 10
    assert net.points[0].ignore == 1 and net.points[1].ignore is None


def test_pvl_text_is_isis_style(cnet_dir) -> None:
    text = pvl_format.encode(cnet.read(cnet_dir / "apollo_out_v2.net"))
    assert text.startswith("Object = ControlNetwork\n  NetworkId    = LandingSite\n")
    assert "\n  Object = ControlPoint\n    PointType " in text and text.endswith("End_Object\nEnd\n")
    assert "    Group = ControlMeasure\n      SerialNumber   = APOLLO15/METRIC/" in text
    assert "GoodnessOfFit  = 0.75882357037022" in text
