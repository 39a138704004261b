"""Hostile inputs through the ingest job (``ingest_image``) and through ``ImageAdder``: each bad image fails
its own job with an error naming the file and the problem; good images beside them (a 240-character
name included) ingest; nothing of a bad image is stored (no giant footprint from an ISD claiming 1e9 lines).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder
from tiepoint.errors import CameraError, ImageError, TiepointError
from tiepoint.features import read_keypoints
from tiepoint.ingest import ingest_image
from tiepoint.synthetic import synthesize

ISD_NAME = "G02_019154_1800_XN_00N133W.crop"
SIZE = 240


@dataclass
class Case:
    """One image of the batch and what its job must say (``error`` None: it must ingest)."""

    image: Path
    error: type[TiepointError] | None = None
    says: list[str] = field(default_factory=list)
    """Texts the error must contain; the file with the problem (the image, or its ISD) among them."""


def _with_isd(folder: Path, stem: str, cube: Path, isd: dict | bytes | None) -> Path:
    image = folder / f"{stem}.cub"
    shutil.copy(cube, image)
    sidecar = folder / f"{stem}.json"
    if isinstance(isd, dict):
        sidecar.write_text(json.dumps(isd))  # NaN is written as the literal NaN, as careless tools do
    elif isinstance(isd, bytes):
        sidecar.write_bytes(isd)
    return image


@pytest.fixture(scope="module")
def cases(tmp_path_factory, ctx_isd_dir, cube_dir) -> dict[str, Case]:
    """A folder of hostile images beside good ones, each a copy of one small synthetic CTX cube."""
    work = tmp_path_factory.mktemp("synth")
    synth = synthesize(ctx_isd_dir / f"{ISD_NAME}.json", work, lines=SIZE, samples=SIZE)
    own = json.loads(synth.isd.read_text())
    full = json.loads((ctx_isd_dir / f"{ISD_NAME}.json").read_text())
    folder = tmp_path_factory.mktemp("batch")
    deep = folder / "nested.cub"
    deep.write_text(
        "Object = IsisCube\n" + "Group = G\n" * 50_000 + "End_Group\n" * 50_000 + "End_Object\nEnd\n"
    )
    (folder / "dir_sidecar.json").mkdir()
    out = {
        "good": Case(_with_isd(folder, "good", synth.cube, own)),
        "long_name": Case(_with_isd(folder, "L" * 240, synth.cube, own)),
        "isd_of_another_image": Case(
            _with_isd(folder, "other_isd", synth.cube, full),
            CameraError,
            [
                str(folder / "other_isd.cub"),
                str(folder / "other_isd.json"),
                f"{full['image_lines']} lines x {full['image_samples']} samples",
                f"{SIZE} lines x {SIZE} samples",
            ],
        ),
        "1e9_lines": Case(
            _with_isd(folder, "giant", synth.cube, dict(own, image_lines=10**9)),
            CameraError,
            [str(folder / "giant.cub"), str(folder / "giant.json"), "1000000000 lines x"],
        ),
        "nan_focal_length": Case(
            _with_isd(
                folder, "nan_focal", synth.cube, dict(own, focal_length_model={"focal_length": float("nan")})
            ),
            CameraError,
            [str(folder / "nan_focal.json"), "invalid ISD: focal_length_model.focal_length is NaN"],
        ),
        "random_bytes_sidecar": Case(
            _with_isd(folder, "noise", synth.cube, np.random.default_rng(1).bytes(2048)),
            CameraError,
            [str(folder / "noise.json"), "ISD is not JSON text", "not UTF-8"],
        ),
        "directory_sidecar": Case(  # a real cube without a CSMState blob (the synthetic ones have one)
            _with_isd(folder, "dir_sidecar", cube_dir / "HiRISE_no_change_before.cub", None),
            CameraError,
            [
                str(folder / "dir_sidecar.cub"),
                "dir_sidecar.json beside the image is a directory, not an ISD file",
            ],
        ),
        "nested_label": Case(deep, ImageError, [str(deep), "not an ISIS label", "nest more than"]),
    }
    return out


@pytest.mark.parametrize(
    "name",
    ["isd_of_another_image", "1e9_lines", "nan_focal_length", "random_bytes_sidecar", "directory_sidecar",
     "nested_label"],
)  # fmt: skip
def test_hostile_input_fails_its_job_naming_file_and_problem(cases, tmp_path, name):
    case = cases[name]
    with pytest.raises(TiepointError) as err:
        ingest_image(case.image, {"output": {"keypoint_dir": str(tmp_path)}})
    assert isinstance(err.value, case.error), f"{type(err.value).__name__}: {err.value}"
    message = str(err.value)
    for text in case.says:
        assert text in message, message
    assert "does not see" not in message
    assert list(tmp_path.iterdir()) == []  # no keypoint file for a failed job


def test_image_with_a_240_character_name_ingests(cases, tmp_path):
    image = cases["long_name"].image
    assert len(image.stem) == 240
    record = ingest_image(image, {"output": {"keypoint_dir": str(tmp_path)}})
    reference = ingest_image(cases["good"].image, {"output": {"keypoint_dir": str(tmp_path / "ref")}})
    assert record.name == image.stem and (record.lines, record.samples) == (SIZE, SIZE)
    assert Path(record.keypoints.path) == tmp_path / f"{image.stem}.h5"
    # the same pixels under another name: the same keypoints and footprint
    assert record.keypoints.count == reference.keypoints.count > 50
    assert record.footprint.equals(reference.footprint)
    np.testing.assert_array_equal(
        read_keypoints(record.keypoints.path).keypoints.x,
        read_keypoints(reference.keypoints.path).keypoints.x,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{image.stem}.h5", "ref"])


def test_hostile_batch_through_image_adder(cases, tmp_path):
    """One call queues the whole folder; each bad image fails alone and its recorded error names it."""
    folder = cases["good"].image.parent
    url = f"sqlite:///{tmp_path / 'batch.gpkg'}"
    config = {
        "database": {"url": url},
        "output": {"keypoint_dir": str(tmp_path / "kp")},
        "cluster": {"workers": 1, "dashboard": False, "maxfailures": 1, "memory_limit": None},
    }
    with ImageAdder(config) as ia:
        ia.add_images(folder, "cub")
        assert ia.wait(timeout=300)
        status = ia.job_status
        attempts = {name: ia.inspect(case.image) for name, case in cases.items()}
    assert status == {str(c.image): True if c.error is None else 1 for c in cases.values()}
    for name, case in cases.items():
        if case.error is None:
            continue
        (attempt,) = attempts[name]
        assert attempt["error_type"] == case.error.__name__, (name, attempt["error"])
        for text in case.says:
            assert text in attempt["error_message"], (name, attempt["error_message"])
    with Database(url) as db:
        assert db.ingested_paths() == {str(c.image) for c in cases.values() if c.error is None}
        stored = db.get_image(str(cases["good"].image))
        assert stored.footprint.area < 1.0  # deg^2: a 240 x 240 crop of a CTX image, nothing giant
