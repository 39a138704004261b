"""Fixtures of the network tests: G02 and N06 (real CTX geometry) rendered at 800 x 800."""

from __future__ import annotations

import json

import pytest
from netdata import CTX_DIR, G02, N06, NULL_BOX, SIZE, RenderedPair

from tiepoint.camera import from_isd
from tiepoint.camera.discovery import find_camera
from tiepoint.io import write_cube
from tiepoint.synthetic import SpecialRegion, render, rescale_isd, synthesize


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
