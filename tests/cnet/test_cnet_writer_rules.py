"""Rules a writer must follow (CONTROL_NETWORKS.md §2.4), checked on the wire with the protobuf runtime."""

from __future__ import annotations

import numpy as np
import pytest
from cnet_proto import decode_file, label_numbers

from tiepoint import cnet
from tiepoint.pixels import to_isis_coords


def small_network(**kwargs) -> cnet.ControlNetwork:
    """Three points: 3, 0 and 2 measures; x/y in tiepoint's OpenCV convention."""
    x = np.array([10.0, 20.5, 30.25, 40.0, 50.75])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.5])
    samples, lines = to_isis_coords(x, y)
    return cnet.ControlNetwork.from_arrays(
        ["p0", "p1", "p2"],
        [0, 0, 0, 2, 2],
        ["A", "B", "C", "A", "C"],
        samples,
        lines,
        network_id="net",
        target_name="Mars",
        **kwargs,
    )


def test_pixel_convention_x_opencv_plus_one_is_the_isis_sample(proto, tmp_path) -> None:
    net = small_network()
    _, points = decode_file(cnet.write(net, tmp_path / "n.net").read_bytes(), proto)
    samples = [m.sample for p in points for m in p.measures]
    lines = [m.line for p in points for m in p.measures]
    assert samples == [11.0, 21.5, 31.25, 41.0, 51.75]
    assert lines == [2.0, 3.0, 4.0, 5.0, 6.5]


def test_unset_fields_are_absent_not_zero(proto, tmp_path) -> None:
    net = small_network(
        measures={
            "apriori_sample": [np.nan, 5.0, np.nan, np.nan, np.nan],
            "ignore": [False, True, False, False, False],
        }
    )
    header, points = decode_file(cnet.write(net, tmp_path / "n.net").read_bytes(), proto)
    for p in points:
        for name in (
            "referenceIndex",
            "aprioriX",
            "aprioriSurfPointSource",
            "ignore",
            "editLock",
            "chooserName",
        ):
            assert not p.HasField(name), name
        assert len(p.aprioriCovar) == 0 and len(p.adjustedCovar) == 0
    m = [m for p in points for m in p.measures]
    assert [x.HasField("apriorisample") for x in m] == [False, True, False, False, False]
    assert m[1].apriorisample == 5.0
    assert [x.HasField("ignore") for x in m] == [False, True, False, False, False]
    for name in ("aprioriline", "sampleResidual", "lineResidual", "samplesigma", "diameter", "choosername"):
        assert not any(x.HasField(name) for x in m), name
    assert not header.HasField("created") and header.networkId == "net"


def test_a_point_without_measures_is_written_and_read(proto, tmp_path) -> None:
    net = small_network()
    path = cnet.write(net, tmp_path / "n.net", version=2)
    _, points = decode_file(path.read_bytes(), proto)
    assert [len(p.measures) for p in points] == [3, 0, 2]
    assert list(cnet.read(path).measure_counts) == [3, 0, 2]


def test_reference_index_follows_filtering(proto, tmp_path) -> None:
    net = small_network(reference_index=[2, -1, 0])
    dropped = net.drop_measures(np.array([True, False, False, False, False]))  # p0 loses measure 0
    assert list(dropped.points.reference_index) == [1, -1, 0]
    assert dropped.points[0].measures[1].serial == "C"  # still the same measure
    gone = net.drop_measures(np.array([False, False, True, True, False]))  # p0's and p2's references
    assert list(gone.points.reference_index) == [-1, -1, -1]
    _, points = decode_file(cnet.write(dropped, tmp_path / "d.net").read_bytes(), proto)
    assert [p.HasField("referenceIndex") for p in points] == [True, False, True]
    assert points[0].referenceIndex == 1 and points[0].measures[1].serialnumber == "C"
    for p in points:
        assert not p.HasField("referenceIndex") or p.referenceIndex < len(p.measures)


def test_reference_index_outside_its_measures_is_refused(tmp_path) -> None:
    net = small_network(reference_index=[3, -1, 0])
    with pytest.raises(cnet.CnetError, match=r"'p0'.*reference index 3.*3 measures"):
        cnet.write(net, tmp_path / "n.net")
    assert not (tmp_path / "n.net").exists()


def test_covariance_has_six_values(proto, tmp_path) -> None:
    covar = np.arange(18, dtype=float).reshape(3, 6) + 1
    covar[1] = np.nan
    net = small_network(
        points={"apriori_covar": covar, "apriori_x": [1.0, np.nan, 3.0], "apriori_y": 2.0, "apriori_z": 3.0}
    )
    _, points = decode_file(cnet.write(net, tmp_path / "n.net").read_bytes(), proto)
    assert list(points[0].aprioriCovar) == list(covar[0]) and len(points[1].aprioriCovar) == 0
    with pytest.raises(cnet.CnetError, match="shape"):
        small_network(points={"apriori_covar": np.ones((3, 5))})
    partial = covar.copy()
    partial[0, 5] = np.nan
    with pytest.raises(cnet.CnetError, match="all 6 values"):
        cnet.write(small_network(points={"apriori_covar": partial}), tmp_path / "p.net")


def test_label_of_65536_bytes_or_more_is_refused(tmp_path) -> None:
    net = small_network(description="x" * 70000)
    with pytest.raises(cnet.CnetError, match="65536"):
        cnet.write(net, tmp_path / "n.net")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_label_layout(tmp_path) -> None:
    net = small_network(user_name="me", description="two words")
    data = cnet.write(net, tmp_path / "n.net").read_bytes()
    lab = label_numbers(data)
    assert lab["HeaderStartByte"] == 65536 and lab["Version"] == 5
    assert lab["PointsStartByte"] == 65536 + lab["HeaderBytes"]
    assert 65536 + lab["HeaderBytes"] + lab["PointsBytes"] == len(data)
    text = data[: data.index(b"\0")].decode()
    assert text.endswith("End_Object\nEnd\n") and set(data[len(text) : 65536]) == {0}
    assert 'Description      = "two words"' in text and "NumberOfMeasures = 5" in text


def test_invalid_networks_are_refused(tmp_path) -> None:
    with pytest.raises(cnet.CnetError, match="serial"):
        cnet.write(cnet.ControlNetwork.from_arrays(["a"], [0], [""], [1.0], [1.0]), tmp_path / "a.net")
    with pytest.raises(cnet.CnetError, match="more than one point"):
        cnet.write(
            cnet.ControlNetwork.from_arrays(["a", "a"], [0, 1], ["S", "S"], [1, 2], [1, 2]),
            tmp_path / "b.net",
        )
    with pytest.raises(cnet.CnetError, match="apriori_radius_source"):
        cnet.write(small_network(points={"apriori_radius_source": "Basemap"}), tmp_path / "c.net")
    with pytest.raises(cnet.CnetError, match="unknown point type"):
        small_network(point_types="Tie")
    with pytest.raises(cnet.CnetError, match="version"):
        cnet.write(small_network(), tmp_path / "d.net", version=3)


@pytest.mark.parametrize(("version", "fmt"), [(2, "isis"), (5, "isis"), (5, "pvl")])
def test_empty_networks_round_trip(tmp_path, version: int, fmt: str) -> None:
    empty = cnet.ControlNetwork.from_arrays([], [], [], [], [], network_id="e", target_name="Moon")
    no_measures = cnet.ControlNetwork.from_arrays(
        ["a", "b"], [], [], [], [], network_id="e", target_name="Moon", points={"ignore": [True, True]}
    )
    for net in (empty, no_measures):
        again = cnet.read(cnet.write(net, tmp_path / "e.net", version=version, format=fmt))
        assert again.differences(net) == []
