"""export(): the .net file, its cube list in serial order, ASP match files; the CLI module."""

from __future__ import annotations

import pytest

from tiepoint import cnet
from tiepoint.cnet.__main__ import main


def test_export_isis_writes_the_network_and_its_cube_list(tmp_path) -> None:
    net = cnet.random_network(500, seed=2, n_images=9)
    paths = {s: f"/cubes/{k:02d}.cub" for k, s in enumerate(reversed(net.serials()))}
    paths["UNUSED/SERIAL"] = "/cubes/unused.cub"
    written = cnet.export(net, tmp_path / "out.net", cube_paths=paths, version=2)
    assert [p.name for p in written] == ["out.net", "out.lis"]
    lines = (tmp_path / "out.lis").read_text().splitlines()
    assert lines == [paths[s] for s in sorted(net.serials())]  # used images only, in serial order
    assert cnet.read(tmp_path / "out.net").differences(net, header=False) == []


def test_export_refuses_missing_paths_and_unknown_formats(tmp_path) -> None:
    net = cnet.random_network(100, seed=3, n_images=4)
    with pytest.raises(cnet.CnetError, match="no image path for 1 serial"):
        cnet.export(net, tmp_path / "o.net", cube_paths={s: "x" for s in net.serials()[1:]})
    with pytest.raises(cnet.CnetError, match="unknown export format"):
        cnet.export(net, tmp_path / "o.net", format="csv")
    with pytest.raises(cnet.CnetError, match="cube_paths"):
        cnet.export(net, tmp_path / "run", format="asp")


def test_export_pvl_and_asp(tmp_path) -> None:
    net = cnet.random_network(300, seed=4, n_images=3)
    paths = {s: f"/cubes/i{k}.cub" for k, s in enumerate(net.serials())}
    (pvl,) = cnet.export(net, tmp_path / "t.net", format="pvl")
    assert pvl.read_text().startswith("Object = ControlNetwork")
    matches = cnet.export(net, tmp_path / "run", format="asp", cube_paths=paths)
    assert sorted(p.name for p in matches) == ["run-i0__i1.match", "run-i0__i2.match", "run-i1__i2.match"]


def test_cube_list_is_written_atomically_one_path_per_line(tmp_path) -> None:
    lis = cnet.write_cube_list(["/a b/1.cub", "/c/2.cub"], tmp_path / "x.lis")
    assert lis.read_text() == "/a b/1.cub\n/c/2.cub\n" and [p.name for p in tmp_path.iterdir()] == ["x.lis"]


def test_python_m_info_and_convert(cnet_dir, tmp_path, capsys) -> None:
    assert main(["info", str(cnet_dir / "apollo_out_v5.net")]) == 0
    out = capsys.readouterr().out
    assert "points    395" in out and "measures  969" in out and "images    7 serial numbers" in out
    assert (
        main(["convert", str(cnet_dir / "apollo_out_v5.net"), str(tmp_path / "v2.net"), "--version", "2"])
        == 0
    )
    assert cnet.read(tmp_path / "v2.net").differences(cnet.read(cnet_dir / "apollo_out_v5.net")) == []
    assert main(["info", str(tmp_path / "missing.net")]) == 1
    assert "no such file" in capsys.readouterr().err
