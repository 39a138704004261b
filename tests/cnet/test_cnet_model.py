"""The column model: construction from arrays, views, filtering, validation."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint import cnet


def test_from_arrays_groups_measures_by_point_keeping_their_order() -> None:
    net = cnet.ControlNetwork.from_arrays(
        ["a", "b"],
        [1, 0, 1, 0, 1],
        ["S1", "S2", "S3", "S4", "S5"],
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [10.0, 20.0, 30.0, 40.0, 50.0],
        measure_types=["Manual", "Candidate", "RegisteredPixel", "Candidate", "RegisteredSubPixel"],
        measures={"apriori_sample": [np.nan, 2.5, np.nan, np.nan, 5.5]},
        measure_logs={"measure": [4, 0], "double_type": [7, 6], "double_value": [0.9, 0.8]},
        network_id="n",
    )
    assert list(net.point_offsets) == [0, 2, 5]
    assert list(net.measures.serial.to_array()) == ["S2", "S4", "S1", "S3", "S5"]
    assert list(net.measures.sample) == [2.0, 4.0, 1.0, 3.0, 5.0]
    assert list(net.measures.type) == [0, 0, 1, 2, 3]
    np.testing.assert_array_equal(net.measures.apriori_sample, [2.5, np.nan, np.nan, np.nan, 5.5])
    b = net.points[1]
    assert b.id == "b" and [m.serial for m in b.measures] == ["S1", "S3", "S5"]
    assert b.measures[0].logs == [{"double_type": 6, "double_value": 0.8}]
    assert b.measures[2].logs == [{"double_type": 7, "double_value": 0.9}]
    assert b.measures[1].apriori_sample is None and b.reference_index is None
    assert net.measures[4].point_index == 1 and list(net.measure_point) == [0, 0, 1, 1, 1]
    assert net.serials() == ["S1", "S2", "S3", "S4", "S5"]


def test_select_points_keeps_their_measures_and_logs() -> None:
    net = cnet.random_network(2000, seed=3)
    keep = np.arange(net.n_points) % 3 == 1
    sub = net.select_points(keep)
    assert sub.n_points == int(keep.sum())
    idx = np.flatnonzero(keep)
    for k in (0, len(idx) // 2, len(idx) - 1):
        a, b = net.points[idx[k]], sub.points[k]
        assert a.id == b.id and a.apriori_x == b.apriori_x
        assert [m.serial for m in a.measures] == [m.serial for m in b.measures]
        assert [m.logs for m in a.measures] == [m.logs for m in b.measures]
        assert a.logs == b.logs
    assert sub.select_points(np.arange(sub.n_points)).differences(sub) == []


def test_drop_measures_recomputes_reference_indices_against_a_direct_count() -> None:
    net = cnet.random_network(5000, seed=4)
    rng = np.random.default_rng(0)
    drop = rng.random(net.n_measures) < 0.3
    out = net.drop_measures(drop)
    ref_new = out.points.reference_index
    for i in range(net.n_points):  # per point, by hand
        start, stop = net.point_offsets[i], net.point_offsets[i + 1]
        kept = [j for j in range(start, stop) if not drop[j]]
        ref = net.points.reference_index[i]
        expected = kept.index(start + ref) if ref >= 0 and (start + ref) in kept else -1
        assert ref_new[i] == expected
        assert out.measure_counts[i] == len(kept)
    assert out.n_measures == int((~drop).sum())
    assert len(out.measure_logs) == int(np.diff(net.measure_logs.offsets)[~drop].sum())
    out.validate()


def test_views_read_unset_as_none() -> None:
    net = cnet.ControlNetwork.from_arrays(["p"], [0], ["S"], [np.nan], [2.0])
    p, m = net.points[0], net.points[0].measures[0]
    assert (p.chooser_name, p.ignore, p.apriori_x, p.apriori_covar, p.reference_index) == (None,) * 5
    assert m.sample is None and m.line == 2.0 and m.serial == "S"
    with pytest.raises(AttributeError):
        _ = p.nonexistent
    with pytest.raises(IndexError):
        net.points[1]


def test_bad_arrays_are_named() -> None:
    with pytest.raises(cnet.CnetError, match="measure_point"):
        cnet.ControlNetwork.from_arrays(["a"], [0, 1], ["S", "S"], [1, 2], [1, 2])
    with pytest.raises(cnet.CnetError, match="column sample has 1 rows, expected 2"):
        cnet.ControlNetwork.from_arrays(["a"], [0, 0], ["S", "S"], [1], [1, 2])
    with pytest.raises(cnet.CnetError, match="unknown measure columns"):
        cnet.ControlNetwork.from_arrays(["a"], [0], ["S"], [1], [1], measures={"smaple": [1]})
    with pytest.raises(cnet.CnetError, match="drop_measures needs a mask of 1"):
        cnet.ControlNetwork.from_arrays(["a"], [0], ["S"], [1], [1]).drop_measures([True, False])


def test_concat_merges_string_tables() -> None:
    a = cnet.random_network(300, seed=1, n_images=5)
    b = cnet.random_network(300, seed=2, n_images=7)
    both = cnet.concat([a, b])
    assert both.n_points == a.n_points + b.n_points
    assert list(both.measures.serial.to_array()) == list(a.measures.serial.to_array()) + list(
        b.measures.serial.to_array()
    )
    assert both.select_points(np.arange(a.n_points)).differences(a) == []


def test_categorical_serials_and_value_checks() -> None:
    serials = cnet.Strings(np.array([1, 0, 1]), np.array(["IMG/A", "IMG/B"], dtype=object))
    net = cnet.ControlNetwork.from_arrays(["p", "q"], [0, 1, 1], serials, [1, 2, 3], [1, 2, 3])
    assert list(net.measures.serial.to_array()) == ["IMG/B", "IMG/A", "IMG/B"]
    assert net.serials() == ["IMG/A", "IMG/B"]
    with pytest.raises(cnet.CnetError, match="str or None"):
        cnet.ControlNetwork.from_arrays(["p"], [0], [7], [1.0], [1.0])
    with pytest.raises(cnet.CnetError, match="reference_index holds values outside"):
        cnet.ControlNetwork.from_arrays(["p"], [0], ["S"], [1.0], [1.0], reference_index=[-5])
    with pytest.raises(cnet.CnetError, match="column type holds values outside"):
        cnet.ControlNetwork.from_arrays(["p"], [0], ["S"], [1.0], [1.0], measure_types=[300])
