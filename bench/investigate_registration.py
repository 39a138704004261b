"""Investigation (not a benchmark): where does registration error against the renderer's truth come
from when two images are lit by different suns?

Run: ``.venv/bin/python bench/investigate_registration.py [--size 800]``. G02 and N06 (real CTX
geometry) are rendered at ``size`` x ``size``, once under G02's sun for both ("one sun") and once each
under its own sun ("own suns", azimuths about 32 degrees apart, as ``tiepoint synth`` renders); a grid
of G02 pixels is carried to N06 through the cameras (the truth) and the a-priori positions are moved
by up to 3 px. Each variant registers the same measures; the table gives the share registered, the
RMS error against the truth, its mean (the systematic part, dx and dy) and the RMS left once that
mean is removed. Variants:

- the defaults (41-px template, 31-px consensus, 55-px search) and other template sizes;
- chips pre-filtered before the correlation (a band-pass: difference of Gaussians; the gradient
  magnitude), which weights albedo edges against broad shading;
- images rendered with each pixel's area integrated (4 x 4 samples per pixel) instead of sampled at
  its centre, to see what the renderer's aliasing contributes;
- and the truth itself: the renderer interpolates ground points between exact camera evaluations
  every 8 pixels; the largest distance, in pixels, of those points from exact ones is printed.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from tiepoint.camera import from_isd  # noqa: E402
from tiepoint.config import RegistrationConfig  # noqa: E402
from tiepoint.io import open_image, write_cube  # noqa: E402
from tiepoint.network import local_affine, read_chips, register_batch, warp_chips  # noqa: E402
from tiepoint.pixels import from_camera_coords, to_camera_coords  # noqa: E402
from tiepoint.synthetic import GroundTexture, render, rescale_isd  # noqa: E402
from tiepoint.synthetic.render import (  # noqa: E402
    DN_GAIN,
    DN_OFFSET,
    ground_grid,
    interpolate_ground,
    pixel_size,
)

SHARED = Path(os.environ.get("TIEPOINT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
PACKAGED = Path(__file__).resolve().parents[1] / "tiepoint" / "synthetic" / "data" / "ctx"
CTX = SHARED / "data" / "isd" / "ctx" if (SHARED / "data" / "isd" / "ctx").is_dir() else PACKAGED
PAIR = ("G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop")


def render_area(camera, sun: np.ndarray | None, samples: int = 4, noise: float = 0.002) -> np.ndarray:
    """Like :func:`tiepoint.synthetic.render`, but each pixel the mean of samples x samples points."""
    lines, cols = int(camera.image_lines), int(camera.image_samples)
    texture = GroundTexture(float(camera.semimajor))
    psize = pixel_size(ground_grid(camera, 8))
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    ll, ss = np.meshgrid(np.arange(lines) + 0.5, np.arange(cols) + 0.5, indexing="ij")
    acc = np.zeros(lines * cols)
    for dy in offsets:
        for dx in offsets:
            xyz = camera.image_to_ground((ll + dy).ravel(), (ss + dx).ravel())
            s = camera.sun_position((ll + dy).ravel()) if sun is None else np.broadcast_to(sun, xyz.shape)
            sun_dir = s - xyz
            sun_dir /= np.linalg.norm(sun_dir, axis=1, keepdims=True)
            acc += texture.shade(xyz, sun_dir, pixel_size=psize)
    refl = acc / samples**2 + np.random.default_rng(0).normal(0.0, noise, acc.shape)
    return (DN_OFFSET + DN_GAIN * np.clip(refl, 0.0, None)).reshape(lines, cols).astype(np.float32)


def truth_check(camera) -> float:
    """Largest distance (px) of the renderer's interpolated ground points from exact ones."""
    grid = ground_grid(camera, 8)
    xyz = interpolate_ground(grid, 0, int(camera.image_lines), camera.semimajor, camera.semiminor)
    ll, ss = np.meshgrid(
        np.arange(camera.image_lines) + 0.5, np.arange(camera.image_samples) + 0.5, indexing="ij"
    )
    exact = camera.image_to_ground(ll.ravel(), ss.ravel()).reshape(xyz.shape)
    return float(np.nanmax(np.linalg.norm(xyz - exact, axis=2)) / pixel_size(grid))


def dog(chips: np.ma.MaskedArray) -> np.ma.MaskedArray:
    data = np.ma.getdata(chips).astype(np.float64)
    out = ndimage.gaussian_filter(data, (0, 0.8, 0.8)) - ndimage.gaussian_filter(data, (0, 3.0, 3.0))
    return np.ma.MaskedArray(out, mask=np.ma.getmaskarray(chips))


def gradient(chips: np.ma.MaskedArray) -> np.ma.MaskedArray:
    data = ndimage.gaussian_filter(np.ma.getdata(chips).astype(np.float64), (0, 1.0, 1.0))
    out = np.hypot(ndimage.sobel(data, axis=1), ndimage.sobel(data, axis=2))
    return np.ma.MaskedArray(out, mask=np.ma.getmaskarray(chips))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=800)
    args = parser.parse_args()
    size = args.size
    isds = [rescale_isd(json.loads((CTX / f"{n}.json").read_text()), lines=size, samples=size) for n in PAIR]
    cams = [from_isd(isd) for isd in isds]
    print(f"truth: interpolated ground points at most {max(truth_check(c) for c in cams):.2e} px from exact")
    step, margin = 9.0, 45.0
    xs, ys = np.meshgrid(np.arange(margin, size - margin, step), np.arange(margin, size - margin, step))
    rng = np.random.default_rng(0)
    xa, ya = xs.ravel() + rng.uniform(-0.5, 0.5, xs.size), ys.ravel() + rng.uniform(-0.5, 0.5, xs.size)
    xb, yb = from_camera_coords(*cams[1].ground_to_image(cams[0].image_to_ground(*to_camera_coords(xa, ya))))
    inside = (xb > margin) & (xb < size - margin) & (yb > margin) & (yb < size - margin)
    xa, ya, xb, yb = xa[inside], ya[inside], xb[inside], yb[inside]
    angle, r = rng.uniform(0, 2 * np.pi, len(xa)), 3.0 * np.sqrt(rng.uniform(0, 1, len(xa)))
    x0, y0 = xb + r * np.cos(angle), yb + r * np.sin(angle)
    sun = cams[0].sun_position([size / 2])[0]
    configs = {
        "31 px": RegistrationConfig(template_px=31, second_template_px=None, search_px=45),
        "41 + 31 px (defaults)": RegistrationConfig(),
        "51 + 41 px": RegistrationConfig(template_px=51, second_template_px=41, search_px=65),
        "61 + 51 px": RegistrationConfig(template_px=61, second_template_px=51, search_px=75),
    }
    big, search = 61, 75
    print(f"{len(xa)} measures, G02 -> N06 at {size} x {size}, a-priori positions up to 3 px off")
    head = f"{'renders':15s} {'variant':28s} {'ok %':>6s} {'RMS px':>7s} {'dx':>7s} {'dy':>7s}"
    print(f"{head} {'RMS-mean':>9s} {'>1px %':>7s}")
    with tempfile.TemporaryDirectory() as tmp:
        renders = {
            "one sun": [render(c, sun_position=sun) for c in cams],
            "own suns": [render(c) for c in cams],
            "one sun, area": [render_area(c, sun) for c in cams],
            "own suns, area": [render_area(c, None) for c in cams],
        }
        for case, images in renders.items():
            paths = [Path(tmp) / f"{case}-{k}.cub" for k in range(2)]
            for path, image in zip(paths, images, strict=True):
                write_cube(path, image, pixel_type="UnsignedWord")
            with open_image(paths[0]) as ref, open_image(paths[1]) as meas:
                affine = local_affine(cams[0], cams[1], xa, ya)
                templates = warp_chips(ref, xa, ya, affine, x0, y0, big)
                searches = read_chips(meas, x0, y0, search)
            variants = {name: (cfg, None) for name, cfg in configs.items()}
            if "area" not in case:
                loose = RegistrationConfig(min_texture=-1.0)
                variants["band-pass (DoG 0.8-3 px)"] = (loose, dog)
                variants["gradient magnitude"] = (loose, gradient)
            for name, (cfg, prefilter) in variants.items():
                t, s = templates, searches
                if prefilter is not None:
                    t, s = prefilter(templates), prefilter(searches)
                r_t = max(cfg.template_px, cfg.second_template_px or 0)
                o, so = (big - r_t) // 2, (search - cfg.search_px) // 2
                tt = t[:, o : o + r_t, o : o + r_t]
                batch = register_batch(tt, s[:, so : so + cfg.search_px, so : so + cfg.search_px], cfg)
                ok = batch.ok
                ex, ey = (x0 + batch.dx - xb)[ok], (y0 + batch.dy - yb)[ok]  # as register_measures does
                err = np.hypot(ex, ey)
                rms = np.sqrt(np.mean(err**2))
                rest = np.sqrt(np.mean((ex - ex.mean()) ** 2 + (ey - ey.mean()) ** 2))
                row = f"{case:15s} {name:28s} {100 * ok.mean():6.1f} {rms:7.3f} {ex.mean():7.3f}"
                print(f"{row} {ey.mean():7.3f} {rest:9.3f} {100 * np.mean(err > 1):7.2f}")


if __name__ == "__main__":
    main()
