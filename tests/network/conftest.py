"""Rendered CTX pairs with known correspondences, shared by the network tests.

G02 and N06 (two real CTX geometries of one area, different orbits) are rendered at 800 x 800 through
``tiepoint.synthetic``; true correspondences come from the cameras: a pixel of G02 goes to the ground
on the ellipsoid (the renderer's surface) and back into N06.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tiepoint.camera import CameraModel, from_isd
from tiepoint.camera.discovery import find_camera
from tiepoint.io import write_cube
from tiepoint.pixels import from_camera_coords, to_camera_coords
from tiepoint.synthetic import SpecialRegion, render, rescale_isd, synthesize

CTX_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "isd" / "ctx"
if not CTX_DIR.is_dir():  # the copies packaged for the demo
    CTX_DIR = Path(__file__).resolve().parents[2] / "tiepoint" / "synthetic" / "data" / "ctx"
G02 = "G02_019154_1800_XN_00N133W.crop"
N06 = "N06_064753_1800_XN_00S133W.crop"
SIZE = 800
NULL_BOX = ((690, 750), (300, 380))
"""A NULL rectangle rendered into N06 (lines, samples), inside its overlap with G02."""


@dataclass(frozen=True)
class RenderedPair:
    reference: Path
    measure: Path
    reference_camera: CameraModel
    measure_camera: CameraModel


def correspondences(pair: RenderedPair, step: float = 9.0, margin: float = 40.0, seed: int = 0):
    """True (x_ref, y_ref, x_meas, y_meas) of a jittered grid of reference pixels seen by both images."""
    ca, cb = pair.reference_camera, pair.measure_camera
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(
        np.arange(margin, ca.image_samples - margin, step), np.arange(margin, ca.image_lines - margin, step)
    )
    xa = xs.ravel() + rng.uniform(-0.5, 0.5, xs.size)
    ya = ys.ravel() + rng.uniform(-0.5, 0.5, xs.size)
    xb, yb = from_camera_coords(*cb.ground_to_image(ca.image_to_ground(*to_camera_coords(xa, ya))))
    inside = (xb > margin) & (xb < cb.image_samples - margin) & (yb > margin) & (yb < cb.image_lines - margin)
    return xa[inside], ya[inside], xb[inside], yb[inside]


def perturb(x: np.ndarray, y: np.ndarray, radius: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Positions moved by up to *radius* px in random directions."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, len(x))
    r = radius * np.sqrt(rng.uniform(0, 1, len(x)))
    return x + r * np.cos(angle), y + r * np.sin(angle)


@pytest.fixture(scope="session")
def own_suns(tmp_path_factory) -> RenderedPair:
    """G02 and N06 rendered as `tiepoint synth` does, each under its own sun (azimuths 32 deg apart)."""
    out = tmp_path_factory.mktemp("own_suns")
    cubes = [synthesize(CTX_DIR / f"{n}.json", out, lines=SIZE, samples=SIZE).cube for n in (G02, N06)]
    return RenderedPair(cubes[0], cubes[1], find_camera(cubes[0]), find_camera(cubes[1]))


@pytest.fixture(scope="session")
def one_sun(tmp_path_factory) -> RenderedPair:
    """G02 and N06 rendered under G02's sun: the images differ only by their geometry (and noise)."""
    out = tmp_path_factory.mktemp("one_sun")
    isds = [
        rescale_isd(json.loads((CTX_DIR / f"{n}.json").read_text()), lines=SIZE, samples=SIZE)
        for n in (G02, N06)
    ]
    cams = [from_isd(isd) for isd in isds]
    sun = cams[0].sun_position([SIZE / 2])[0]
    paths = []
    for name, cam in zip((G02, N06), cams, strict=True):
        path = out / f"{name}.cub"
        write_cube(path, render(cam, sun_position=sun), pixel_type="UnsignedWord")
        paths.append(path)
    return RenderedPair(paths[0], paths[1], cams[0], cams[1])


@pytest.fixture(scope="session")
def with_null(tmp_path_factory) -> RenderedPair:
    """G02, and N06 with a NULL rectangle (NULL_BOX) and LRS/HRS strips, each under its own sun."""
    out = tmp_path_factory.mktemp("with_null")
    ref = synthesize(CTX_DIR / f"{G02}.json", out, lines=SIZE, samples=SIZE).cube
    special = [
        SpecialRegion("NULL", NULL_BOX),
        SpecialRegion("LRS", ((700, 760), (500, 506))),
        SpecialRegion("HRS", ((620, 623), (100, 700))),
    ]
    meas = synthesize(CTX_DIR / f"{N06}.json", out, lines=SIZE, samples=SIZE, special=special).cube
    return RenderedPair(ref, meas, find_camera(ref), find_camera(meas))
