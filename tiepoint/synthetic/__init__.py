"""Synthetic planetary images with known ground truth, rendered through real camera geometry.

:class:`~tiepoint.synthetic.texture.GroundTexture` is a deterministic cratered ground defined on the
body; :func:`~tiepoint.synthetic.render.render` samples it at each pixel's ground point;
:func:`~tiepoint.synthetic.generate.synthesize` writes the result as an ISIS3 cube with the ISD beside
it (``tiepoint synth``); :func:`~tiepoint.synthetic.rescale.rescale_isd` changes an ISD's pixel size
over the same ground; :mod:`tiepoint.synthetic.isd` builds frame-camera ISDs for tests;
:func:`tiepoint.synthetic.matches.simulate_matches` simulates pair matches of a network whose points are
known (for the tracks tests and benchmark).
"""

from __future__ import annotations

from tiepoint.synthetic.generate import SpecialRegion, SynthesisError, SynthResult, load_isd, synthesize
from tiepoint.synthetic.render import render, render_chunks
from tiepoint.synthetic.rescale import rescale_isd
from tiepoint.synthetic.texture import GroundTexture, TextureParams

__all__ = [
    "GroundTexture",
    "SpecialRegion",
    "SynthResult",
    "SynthesisError",
    "TextureParams",
    "load_isd",
    "render",
    "render_chunks",
    "rescale_isd",
    "synthesize",
]
