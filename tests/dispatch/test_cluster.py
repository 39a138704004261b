"""Clusters ImageAdder starts itself: free ports, loopback only, two in one process; path expansion."""

from __future__ import annotations

import os
import urllib.request

import dispatch_jobs as dj
import psutil
import pytest

from tiepoint.dispatch import ImageAdder
from tiepoint.dispatch.paths import expand_images, scan_images
from tiepoint.errors import ConfigError, ImageError


def _listening(pids: set[int]) -> list[tuple[str, int]]:
    return [
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]


def test_two_adders_in_one_process_with_their_own_clusters(tmp_path):
    imgs = [dj.write_tiny_image(tmp_path / f"i{i}.json", i, i) for i in range(2)]
    cfgs = [dj.adder_config(f"sqlite:///{tmp_path / f'db{i}.gpkg'}", dashboard=True) for i in range(2)]
    with ImageAdder(cfgs[0], job=dj.tiny_job) as a, ImageAdder(cfgs[1], job=dj.tiny_job) as b:
        assert a.scheduler_address != b.scheduler_address
        a.add_image(imgs[0])
        b.add_image(imgs[1])
        assert a.wait(timeout=60) and b.wait(timeout=60)
        assert a.job_status == {str(imgs[0].resolve()): True}
        assert b.job_status == {str(imgs[1].resolve()): True}
        # the dispatcher's own scheduler fails a job whose worker dies at once (no Dask retries)
        assert a.client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 0
        # one OpenCV thread per worker thread, so that workers do not compete for cores
        assert set(a.client.run(os.environ.get, "OPENCV_FOR_THREADS_NUM").values()) == {"1"}
        # and glibc's adaptive malloc, not Dask's fixed trim threshold (which slows SIFT by ~20%)
        assert set(a.client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
        me = psutil.Process(os.getpid())
        pids = {me.pid, *(p.pid for p in me.children(recursive=True))}
        sockets = _listening(pids)
        assert sockets and all(ip == "127.0.0.1" for ip, _ in sockets)
        assert a.dashboard_link and a.dashboard_link.startswith("http://127.0.0.1:")
        assert a.dashboard_link != b.dashboard_link
        with urllib.request.urlopen(a.dashboard_link, timeout=20) as reply:  # served, on loopback
            assert reply.status == 200
        assert "dashboard" in repr(a)


def test_scheduler_kind_needs_an_address(tmp_path):
    with pytest.raises(ConfigError, match=r"cluster\.address"):
        ImageAdder(dj.adder_config(f"sqlite:///{tmp_path / 'x.gpkg'}", kind="scheduler"), job=dj.tiny_job)


def test_bad_config_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"cluster\.maxfailures"):
        ImageAdder({"cluster": {"maxfailures": 0}}, job=dj.tiny_job)


def test_expand_images_directory_glob_list(tmp_path):
    for name in ["a.cub", "b.CUB", "c.json", "d.img"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.cub").write_text("x")
    base = str(tmp_path.resolve())
    assert expand_images(tmp_path, "cub") == [f"{base}/a.cub", f"{base}/b.CUB"]
    assert expand_images(tmp_path, ".img") == [f"{base}/d.img"]
    assert expand_images(tmp_path) == [f"{base}/a.cub", f"{base}/b.CUB", f"{base}/d.img"]
    assert expand_images(f"{tmp_path}/**/*.cub") == [f"{base}/a.cub", f"{base}/sub/e.cub"]
    assert expand_images([tmp_path / "c.json", str(tmp_path / "c.json")]) == [f"{base}/c.json"]
    # a listed file that does not exist is reported, not fatal for the others (issue 11, item 8)
    scan = scan_images([tmp_path / "missing.cub", tmp_path / "a.cub"])
    assert scan.paths == [f"{base}/a.cub"]
    assert scan.rejected == [(f"{base}/missing.cub", "no such file")]
    with pytest.raises(ImageError, match="nowhere"):
        expand_images(tmp_path / "nowhere")


def test_scan_images_reports_non_files(tmp_path):
    (tmp_path / "good.cub").write_text("x")
    (tmp_path / "dir.cub").mkdir()
    (tmp_path / "loop.cub").symlink_to(tmp_path / "loop.cub")
    (tmp_path / "dangling.cub").symlink_to(tmp_path / "gone.cub")
    (tmp_path / "link.cub").symlink_to(tmp_path / "good.cub")
    base = str(tmp_path.resolve())
    for source in (tmp_path, f"{tmp_path}/*.cub", sorted(tmp_path.iterdir())):
        scan = scan_images(source, "cub")
        assert scan.paths == [f"{base}/good.cub"], source  # the link resolves to the same file
        assert dict(scan.rejected) == {
            f"{base}/dangling.cub": f"dangling symbolic link (to {tmp_path / 'gone.cub'})",
            f"{base}/dir.cub": "is a directory, not an image file",
            f"{base}/loop.cub": "symbolic link loop",
        }, source
