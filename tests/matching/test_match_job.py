"""The match job as a dispatcher will run it: PairTask in (built from ingest records), PairRecord out.

The tasks are made exactly as the dispatcher will make them: each image is ingested by the real
ingest job (keypoints with ground coordinates, camera state, footprint), the overlap is the
intersection of the footprints, and the output comes from :func:`tiepoint.matching.match_path`.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile

os.environ.setdefault("DASK_CONFIG", tempfile.mkdtemp(prefix="tiepoint-dask-config-"))

import h5py
import numpy as np
import pytest
from match_data import B10, G02, K12, N06, N12

from tiepoint.config import load_config
from tiepoint.errors import FeatureError, MatchingError
from tiepoint.matching import is_current, match_path, read_matches, resolve_config
from tiepoint.matching.job import match_pair
from tiepoint.records import PairRecord, PairTask, pair_key


@pytest.fixture(scope="module")
def ingested(ctx, tmp_path_factory):
    """ImageRecords of the rendered CTX images, keypoints in their own folder."""
    from tiepoint.ingest import ingest_image

    folder = tmp_path_factory.mktemp("kp")
    cfg = {"output": {"keypoint_dir": str(folder)}}
    return cfg, {n: ingest_image(ctx.cube(n), cfg) for n in (G02, N06, B10, K12, N12)}


def make_task(ingested, a, b, ids=(1, 2), **changes) -> PairTask:
    _, records = ingested
    ra, rb = records[a], records[b]
    fields = dict(
        key=pair_key(*ids), image_a=ra.path, image_b=rb.path,
        keypoints_a=ra.keypoints.path, keypoints_b=rb.keypoints.path,
        camera_a=ra.camera_state, camera_b=rb.camera_state,
        overlap=ra.footprint.intersection(rb.footprint),
        output=str(match_path(ra.keypoints.path, rb.keypoints.path)),
    )  # fmt: skip
    fields.update(changes)
    return PairTask(**fields)


def test_match_pair_returns_the_record_of_its_match_file(ctx, ingested):
    task = make_task(ingested, G02, N06)
    record = match_pair(task, ingested[0])
    assert isinstance(record, PairRecord)
    assert record.key == "1-2" and record.path == task.output
    content = read_matches(record.path)
    assert record.method == "gated" == content.attrs["method"]
    assert record.n_raw == len(content.raw) and record.extra["n_verified"] == len(content.verified)
    assert record.n_matches == int(content.kept.sum()) >= 200
    assert record.inlier_ratio == pytest.approx(len(content.verified) / len(content.raw))
    assert record.n_keypoints_a > record.n_matches and record.n_keypoints_b > record.n_matches
    expected = np.array(ctx.results[G02].pointing_error.offset_m) - np.array(
        ctx.results[N06].pointing_error.offset_m
    )
    assert np.linalg.norm(np.array(record.offset_m) - expected) < 25.0
    assert record.stats["residual_px_median"] < 0.5 and record.stats["residual_px_max"] <= 1.5
    assert record.extra["reused"] is False and set(record.extra["timings"]) >= {"match", "verify", "total"}
    assert record.host and record.started <= record.finished
    again = pickle.loads(pickle.dumps(record))  # it travels from a worker
    assert again.offset_m == record.offset_m and again.stats == record.stats
    # the match rows index the keypoint files: the matched keypoints' ground points are ~offset apart
    with h5py.File(task.keypoints_a) as fa, h5py.File(task.keypoints_b) as fb:
        ga = np.column_stack([fa["ground"][k][()] for k in "xyz"])
        gb = np.column_stack([fb["ground"][k][()] for k in "xyz"])
    final = content.final.matches
    assert np.median(np.linalg.norm(gb[final[:, 1]] - ga[final[:, 0]] - expected, axis=1)) < 15.0


def test_up_to_date_files_are_reused_and_stale_ones_redone(ctx, ingested, tmp_path):
    from tiepoint import features

    task = make_task(ingested, K12, N12, output=str(tmp_path / "m.h5"))
    cfg = ingested[0]
    first = match_pair(task, cfg)
    mtime = os.stat(first.path).st_mtime_ns
    second = match_pair(task, cfg)
    assert second.extra["reused"] is True and os.stat(first.path).st_mtime_ns == mtime
    assert second.n_matches == first.n_matches
    assert match_pair(task, cfg, force=True).extra["reused"] is False
    assert os.stat(first.path).st_mtime_ns != mtime
    matching = resolve_config(cfg)
    assert is_current(task.output, task, matching)
    # other settings, another overlap, another camera: stale
    other = resolve_config({"matching": {"matcher": {"params": {"ratio": 0.7}}}})
    assert not is_current(task.output, task, other)
    assert not is_current(task.output, make_task(ingested, K12, N12, output=task.output,
                                                 overlap=task.overlap.buffer(-0.001)), matching)  # fmt: skip
    other_camera = make_task(ingested, K12, N12, output=task.output, camera_b=ingested[1][B10].camera_state)
    assert not is_current(task.output, other_camera, matching)
    # keypoints extracted again (same image, same settings: only the creation time differs): stale,
    # since the rows the matches index may have changed
    import time

    time.sleep(1.1)  # `created` has one-second resolution
    features.main(ctx.cube(N12), load_config(cfg), overwrite=True, ground=_ground_of(ctx.cube(N12)))
    assert not is_current(task.output, task, matching)
    assert match_pair(task, cfg).extra["reused"] is False


def _ground_of(cube):
    from tiepoint.camera import find_camera
    from tiepoint.footprint import keypoint_ground

    cam = find_camera(cube)
    return lambda kps: keypoint_ground(cam, kps.y, kps.x, pixel_origin="center")


def test_a_task_without_cameras_is_matched_in_image_space(ingested, tmp_path):
    cfg = ingested[0]
    gated = match_pair(make_task(ingested, K12, N12, output=str(tmp_path / "gated.h5")), cfg)
    task = make_task(ingested, K12, N12, camera_a=None, camera_b=None, overlap=None,
                     output=str(tmp_path / "image.h5"))  # fmt: skip
    record = match_pair(task, cfg)
    assert record.method == "image" and record.offset_m is None and record.offset_mad_m is None
    assert record.n_matches >= 200
    assert record.n_keypoints_a > gated.n_keypoints_a  # no overlap to select by: every keypoint is used


def test_disjoint_images_give_an_empty_record(ingested, tmp_path):
    record = match_pair(make_task(ingested, B10, K12, output=str(tmp_path / "d.h5")), ingested[0])
    assert record.n_raw == 0 and record.n_matches == 0 and np.isnan(record.inlier_ratio)
    content = read_matches(record.path)
    assert content.raw.matches.shape == (0, 2) and content.verified.matches.dtype == np.int32


def test_errors_name_the_file(ingested, tmp_path):
    cfg = ingested[0]
    missing = make_task(
        ingested, G02, N06, keypoints_b=str(tmp_path / "nope.h5"), output=str(tmp_path / "x.h5")
    )
    with pytest.raises(FeatureError, match=r"nope\.h5"):
        match_pair(missing, cfg)
    from tiepoint import features

    orb_dir = tmp_path / "orb"
    orb_cfg = {"features": {"extractor": "orb"}, "output": {"keypoint_dir": str(orb_dir)}}
    orb_b = features.main(ingested[1][N06].path, load_config(orb_cfg))
    mixed = make_task(ingested, G02, N06, keypoints_b=str(orb_b), output=str(tmp_path / "y.h5"))
    with pytest.raises(MatchingError, match=r"orb keypoints.*one extractor") as info:
        match_pair(mixed, cfg)
    assert info.value.path == str(orb_b)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(MatchingError, match="cannot write matches into folder"):
        match_pair(make_task(ingested, G02, N06, output=str(blocked / "m.h5")), cfg)
    assert not list(tmp_path.glob("**/*.tmp"))


def test_workers_never_import_the_database(ingested):
    """Run the job on a real Dask LocalCluster, as the dispatcher does, and look at the workers."""
    from tiepoint.config import ClusterConfig
    from tiepoint.dispatch.cluster import start_cluster

    task = make_task(ingested, G02, N06)
    client, cluster = start_cluster(ClusterConfig(workers=1, dashboard=False, memory_limit=None))
    try:
        record = client.submit(match_pair, task, ingested[0], True, pure=False).result(timeout=120)
        assert record.n_matches >= 200
        imported = client.run(
            lambda: sorted(m for m in sys.modules if m.startswith(("tiepoint.db", "sqlalchemy")))
        )
        assert all(mods == [] for mods in imported.values()), imported
        assert all(client.run(lambda: "tiepoint.matching.job" in sys.modules).values())
    finally:
        client.close()
        cluster.close()
