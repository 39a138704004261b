"""Data shared by the network tests: rendered CTX pairs with known correspondences, analytic textures.

G02 and N06 (two real CTX geometries of one area, different orbits) are rendered at 800 x 800 through
``tiepoint.synthetic``; true correspondences come from the cameras: a pixel of G02 goes to the ground
on the ellipsoid (the renderer's surface) and back into N06.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiepoint.camera import CameraModel
from tiepoint.pixels import from_camera_coords, to_camera_coords

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


class Texture:
    """A band-limited random texture f(x, y) = sum a cos(u x + v y + phase), evaluable anywhere."""

    def __init__(self, seed: int, waves: int = 60, max_freq: float = 0.35 * np.pi):
        rng = np.random.default_rng(seed)
        freq = rng.uniform(0.05, max_freq, waves)
        angle = rng.uniform(0, np.pi, waves)
        self.u, self.v = freq * np.cos(angle), freq * np.sin(angle)
        self.a = rng.uniform(0.5, 1.0, waves) / np.sqrt(waves)
        self.phase = rng.uniform(0, 2 * np.pi, waves)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        arg = x[..., None] * self.u + y[..., None] * self.v + self.phase
        return (self.a * np.cos(arg)).sum(axis=-1)


def chip(
    texture: Texture,
    size: int,
    dx: float = 0.0,
    dy: float = 0.0,
    gain: float = 1000.0,
    offset: float = 5000.0,
):
    """A size x size chip whose pixel (i, j) shows the texture at (j - h + dx, i - h + dy)."""
    h = size // 2
    jj, ii = np.meshgrid(np.arange(size) - h, np.arange(size) - h)
    return offset + gain * texture(jj + dx, ii + dy)
