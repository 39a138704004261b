"""Synthetic planetary images with known ground truth, rendered through real camera geometry.

:class:`~tiepoint.synthetic.texture.GroundTexture` is a deterministic cratered ground defined on the
body; :func:`~tiepoint.synthetic.render.render` samples it at each pixel's ground point;
:func:`~tiepoint.synthetic.generate.synthesize` writes the result as an ISIS3 cube with the ISD beside
it (``tiepoint synth``); :func:`~tiepoint.synthetic.rescale.rescale_isd` changes an ISD's pixel size
over the same ground; :mod:`tiepoint.synthetic.isd` builds frame-camera ISDs for tests;
:func:`tiepoint.synthetic.matches.simulate_matches` simulates pair matches of a network whose points are
known (for the tracks tests and benchmark).

A-priori pointing error (:mod:`tiepoint.synthetic.pointing`): ``synthesize(..., pointing_error_m=M,
seed=S)`` renders through a camera biased by about ``M`` metres on the ground (the truth, written as
``<stem>.truth.json``) and keeps the unbiased camera as the sidecar; :func:`perturb_isd` makes such a
truth ISD, :func:`true_correspondence` maps pixels between images through truth cameras.

Public API::

    synthesize(isd, out_dir, *, lines=None, samples=None, special=(), texture=None, grid_step=8,
               noise=0.002, pointing_error_m=None, seed=0, progress=None) -> SynthResult
    perturb_isd(isd, error_m, seed=0) -> (truth_isd, PointingError)
    true_correspondence(truth_a, truth_b, x_a, y_a) -> (x_b, y_b)      # OpenCV pixel convention
    render(camera, texture=None, **kw) -> ndarray; render_chunks(...)
    rescale_isd(isd, lines=None, samples=None) -> dict; load_isd(path) -> dict
    GroundTexture, TextureParams, SpecialRegion, SynthesisError
"""

from __future__ import annotations

from tiepoint.synthetic.generate import SpecialRegion, SynthesisError, SynthResult, load_isd, synthesize
from tiepoint.synthetic.pointing import PointingError, perturb_isd, true_correspondence
from tiepoint.synthetic.render import render, render_chunks
from tiepoint.synthetic.rescale import rescale_isd
from tiepoint.synthetic.texture import GroundTexture, TextureParams

__all__ = [
    "GroundTexture",
    "PointingError",
    "SpecialRegion",
    "SynthResult",
    "SynthesisError",
    "TextureParams",
    "load_isd",
    "perturb_isd",
    "render",
    "render_chunks",
    "rescale_isd",
    "synthesize",
    "true_correspondence",
]
