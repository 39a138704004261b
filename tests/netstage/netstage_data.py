"""Data of the network-stage tests: two groups of synthetic CTX images with a 300 m pointing error.

The groups of ``../shared/data/isd/ctx`` (real CTX geometry): G02, N06 and the full G02 image (the
"ellipsoid" product), and B10, K12, N12. Crops are rendered at half their size (500 x 500, N12
900 x 900), the full image at a tenth (717 x 500: its pixels are 5 times the crops'), each through a
truth camera biased by 300 m (``tiepoint synth --pointing-error-m 300``), each under its own sun (the
ISD's). The sidecar ISDs are the a-priori cameras; ``<stem>.truth.json`` the truth.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tiepoint.dispatch import ImageAdder, PairMatcher
from tiepoint.synthetic import synthesize

FULL = "G02_019154_1800_XN_00N133W.ellipsoid.crop"
GROUPS = {
    "equator": ["G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop", FULL],
    "north": [
        "B10_013615_2178_XI_37N117W.crop",
        "K12_058001_2177_XI_37N117W.crop",
        "N12_067021_2177_XN_37N117W.crop",
    ],
}
NAMES = [n for names in GROUPS.values() for n in names]
CROP_SCALE, FULL_SCALE = 0.5, 0.1
POINTING_ERROR_M = 300.0


def render_groups(isd_dir: Path, out: Path, names: list[str] = NAMES) -> Path:
    """Render *names* into *out* (see the module docstring); returns *out*."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        isd = json.loads((isd_dir / f"{name}.json").read_text())
        scale = FULL_SCALE if name == FULL else CROP_SCALE
        lines, samples = round(isd["image_lines"] * scale), round(isd["image_samples"] * scale)
        synthesize(isd_dir / f"{name}.json", out, lines=lines, samples=samples,
                   pointing_error_m=POINTING_ERROR_M, seed=1)  # fmt: skip
    return out


def copy_images(src: Path, dst: Path, names: list[str] = NAMES, with_products: bool = True) -> Path:
    """Copy the cubes and ISDs of *names* (and, with *with_products*, their keypoint and match files,
    so ingest and matching reuse them) into *dst*."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in (".cub", ".json", ".truth.json") + ((".h5",) if with_products else ()):
            if (src / f"{name}{suffix}").exists():
                shutil.copy2(src / f"{name}{suffix}", dst / f"{name}{suffix}")
    if with_products and (src / "matches").is_dir():
        (dst / "matches").mkdir(exist_ok=True)
        for f in (src / "matches").glob("*.h5"):
            a, b = f.stem.split("__")
            if a in names and b in names:
                shutil.copy2(f, dst / "matches" / f.name)
    return dst


def config(db_url: str, **network) -> dict:
    return {
        "database": {"url": db_url},
        "cluster": {"workers": 1, "dashboard": False, "memory_limit": None, "maxfailures": 2},
        "network": network,
    }


def ingest_and_match(cfg: dict, folder: Path, client: Any, names: list[str] | None = None) -> None:
    """Ingest *names* (all cubes of *folder* by default) and match every overlapping pair."""
    paths = [folder / f"{n}.cub" for n in names] if names is not None else sorted(folder.glob("*.cub"))
    with ImageAdder(cfg, client=client) as ia:
        ia.add_images([str(p) for p in paths])
        assert ia.wait(timeout=600)
        assert ia.failed_jobs == []
    with PairMatcher(cfg, client=client) as pm:
        pm.match_overlaps()
        assert pm.wait(timeout=600)
        assert pm.failed_jobs == []
