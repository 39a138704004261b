"""The end-to-end demo (``./run demo`` = ``tiepoint demo``).

1. Render synthetic images through the real CTX camera geometries packaged in
   ``tiepoint/synthetic/data/ctx`` (two ground areas; the full 5000 x 7168 image at a reduced scale).
2. Ingest them with the :class:`~tiepoint.dispatch.ImageAdder` on the embedded default: a
   GeoPackage (SQLite) database and a Dask LocalCluster, with a progress bar.
3. Print a summary (images, keypoints, footprint areas, overlaps, times), write ``summary.json``
   and a PNG map of the footprints, all under the output folder (default ``demo-output/``).

Running it again reuses the rendered cubes and the database (already ingested images are skipped);
``--overwrite`` starts from scratch.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tiepoint.errors import TiepointError

DATA_DIR = Path(__file__).resolve().parent / "synthetic" / "data" / "ctx"

FULL_IMAGE = "G02_019154_1800_XN_00N133W.ellipsoid.crop"
GROUPS: dict[str, list[str]] = {
    "Equator, 0.3S 226.8E": [
        "G02_019154_1800_XN_00N133W.crop",
        "N06_064753_1800_XN_00S133W.crop",
        FULL_IMAGE,
    ],
    "35N 242.4E": [
        "B10_013615_2178_XI_37N117W.crop",
        "K12_058001_2177_XI_37N117W.crop",
        "N12_067021_2177_XN_37N117W.crop",
    ],
}
"""The demo's ISDs by ground area (sub-spacecraft points from the ISDs)."""


@dataclass(slots=True)
class ImageSummary:
    """One ingested image as the demo reports it."""

    name: str
    group: str
    lines: int
    samples: int
    keypoints: int
    area_km2: float
    center_lon: float
    center_lat: float


@dataclass(slots=True)
class DemoSummary:
    """What the demo did (also written as ``summary.json``)."""

    output: str
    database: str
    images: list[ImageSummary] = field(default_factory=list)
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)
    """(name_a, name_b, overlap area in km^2)."""
    failed: list[str] = field(default_factory=list)
    render_seconds: float = 0.0
    ingest_seconds: float = 0.0
    total_seconds: float = 0.0
    map_png: str = ""


def demo_config(out: Path, workers: int | None = None) -> dict[str, Any]:
    """The demo's configuration: a GeoPackage in *out*, keypoints in *out*/keypoints, local workers."""
    return {
        "database": {"url": f"sqlite:///{(out / 'tiepoint.gpkg').resolve()}"},
        "cluster": {
            "kind": "local",
            "workers": workers or max(1, min(2, os.cpu_count() or 1)),
            "threads_per_worker": 1,
            "dashboard": False,
        },
        "output": {"keypoint_dir": str((out / "keypoints").resolve())},
    }


def _render_one(isd: str, images: str, lines: int | None, samples: int | None) -> tuple[str, float]:
    """Render one cube (run in a worker process)."""
    from tiepoint.synthetic import synthesize

    result = synthesize(isd, images, lines=lines, samples=samples)
    return str(result.cube), result.seconds


def render_images(
    out: Path,
    full_scale: float,
    overwrite: bool,
    console: Console,
    scale: float = 1.0,
    processes: int = 1,
) -> tuple[list[Path], dict[str, str]]:
    """Render the demo's cubes into *out*/images (in *processes* processes); returns the cubes and a
    name -> group map. Existing cubes are kept unless *overwrite*."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tiepoint.synthetic import load_isd

    images = out / "images"
    cubes, groups, todo = [], {}, []
    for group, names in GROUPS.items():
        for name in names:
            factor = full_scale if name == FULL_IMAGE else scale
            if factor <= 0:
                continue
            lines = samples = None
            if factor != 1.0:
                isd = load_isd(DATA_DIR / f"{name}.json")
                lines = max(16, round(int(isd["image_lines"]) * factor))
                samples = max(16, round(int(isd["image_samples"]) * factor))
            cube = images / f"{name}.cub"
            groups[name] = group
            cubes.append(cube)
            if overwrite or not (cube.is_file() and (images / f"{name}.json").is_file()):
                todo.append((str(DATA_DIR / f"{name}.json"), str(images), lines, samples))
    if not todo:
        return cubes, groups
    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("images"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    ) as progress:
        task = progress.add_task("", total=len(todo))
        if processes <= 1:
            for job in todo:
                cube, _ = _render_one(*job)
                progress.update(task, advance=1, description=Path(cube).name)
        else:
            with ProcessPoolExecutor(min(processes, len(todo)), mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(_render_one, *job) for job in todo]
                for fut in as_completed(futures):
                    cube, _ = fut.result()
                    progress.update(task, advance=1, description=Path(cube).name)
    return cubes, groups


def ingest(cubes: list[Path], config: dict[str, Any], console: Console) -> list[str]:
    """Ingest *cubes* with the ImageAdder; returns the paths whose jobs failed."""
    from tiepoint.dispatch import ImageAdder

    adder = ImageAdder(config)
    try:
        queued = adder.add_images([str(c) for c in cubes])
        if queued:
            adder.wait(progress=True)
        else:
            console.print("every image is already in the database (--overwrite starts afresh)")
        failed = adder.failed_jobs
        for path in failed:
            attempts = adder.inspect(path)
            reason = attempts[-1]["error"] if attempts else "unknown"
            console.print(f"[red]failed:[/red] {Path(path).name}: {reason}")
        return failed
    finally:
        adder.close()


def collect(database_url: str, groups: dict[str, str]) -> tuple[list[ImageSummary], list]:
    """Read back what the database holds: per-image summaries and overlaps."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from tiepoint.db import Database
    from tiepoint.db.models import ImageRow
    from tiepoint.footprint.area import ellipsoid_area

    with Database(database_url) as db:
        a, b = db.body.semimajor, db.body.semiminor
        with db.session() as session:
            rows = session.scalars(
                select(ImageRow).options(selectinload(ImageRow.keypoints)).order_by(ImageRow.name)
            )
            records = [(r.path, r.lines, r.samples, r.keypoints, r.footprint) for r in rows]
        pairs = db.overlapping_pairs()
    images = []
    for path, lines, samples, kps, fp in records:
        stem = Path(path).stem
        centre = fp.centroid
        images.append(
            ImageSummary(
                name=stem,
                group=groups.get(stem, "other"),
                lines=lines,
                samples=samples,
                keypoints=kps.count if kps is not None else 0,
                area_km2=ellipsoid_area(fp, a, b) / 1e6,
                center_lon=float(centre.x),
                center_lat=float(centre.y),
            )
        )
    overlaps = [
        (Path(pa).stem, Path(pb).stem, ellipsoid_area(geom, a, b) / 1e6, geom) for pa, pb, geom in pairs
    ]
    return images, overlaps


def draw_map(database_url: str, groups: dict[str, str], path: Path) -> Path:
    """The footprint map (one panel per ground area, overlaps hatched) as a PNG."""
    from tiepoint import plot
    from tiepoint.db import Database

    with Database(database_url) as db:
        fig = plot.footprints(
            db, panels=groups, title="tiepoint demo: synthetic images through real CTX camera geometry"
        )
    return plot.save(fig, path)


def print_summary(summary: DemoSummary, console: Console) -> None:
    """The summary tables: images per ground area, overlapping pairs, totals."""
    for group in sorted({im.group for im in summary.images}):
        table = Table(title=f"Images: {group}", title_justify="left")
        table.add_column("image")
        for col in ("lines x samples", "keypoints", "footprint km^2", "lon E", "lat"):
            table.add_column(col, justify="right")
        for im in (im for im in summary.images if im.group == group):
            table.add_row(
                im.name,
                f"{im.lines} x {im.samples}",
                f"{im.keypoints:,}",
                f"{im.area_km2:,.1f}",
                f"{im.center_lon:.3f}",
                f"{im.center_lat:.3f}",
            )
        console.print(table)
    pairs = Table(title="Overlapping pairs found in the database", title_justify="left")
    pairs.add_column("image A")
    pairs.add_column("image B")
    pairs.add_column("overlap km^2", justify="right")
    for a, b, area in summary.overlaps:
        pairs.add_row(a, b, f"{area:,.2f}")
    console.print(pairs)
    total_kp = sum(im.keypoints for im in summary.images)
    console.print(
        f"[bold]{len(summary.images)} images, {total_kp:,} keypoints, {len(summary.overlaps)} overlapping "
        f"pairs, {len(summary.failed)} failed[/bold]; render {summary.render_seconds:.1f} s, ingest "
        f"{summary.ingest_seconds:.1f} s, total {summary.total_seconds:.1f} s"
    )
    console.print(f"database: {summary.database}")
    console.print(f"footprint map: {summary.map_png}")
    console.print(f"summary: {Path(summary.output) / 'summary.json'}")


def run_demo(
    out: str | os.PathLike[str] = "demo-output",
    *,
    full_scale: float = 0.2,
    scale: float = 1.0,
    workers: int | None = None,
    overwrite: bool = False,
    console: Console | None = None,
) -> DemoSummary:
    """Run the demo; see the module docstring.

    Parameters
    ----------
    out : path
        Output folder (created).
    full_scale : float
        Scale of the full 5000 x 7168 CTX image (0 leaves it out, 1 renders it at full size).
    scale : float
        Scale of the crops (1: their real 1000 x 1000 / 1800 x 1800 sizes).
    workers : int, optional
        Local Dask workers (default: up to 2, the CPU cores).
    overwrite : bool
        Render again and start a new database.
    console : rich Console, optional

    Returns
    -------
    DemoSummary
    """
    console = console or Console()
    if not console.is_terminal and console.width < 120:  # piped output: room for the image names
        console = Console(width=120, file=console.file)
    start = time.perf_counter()
    out = Path(out)
    if overwrite and out.exists():
        for sub in ("images", "keypoints", ".tiepoint"):
            shutil.rmtree(out / sub, ignore_errors=True)
        (out / "tiepoint.gpkg").unlink(missing_ok=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TiepointError(f"cannot create the demo output folder: {exc.strerror}", out) from None
    config = demo_config(out, workers)
    console.print(f"[bold]tiepoint demo[/bold] -> {out.resolve()}")
    processes = int(config["cluster"]["workers"])
    cubes, groups = render_images(out, full_scale, overwrite, console, scale, processes)
    rendered = time.perf_counter()
    failed = ingest(cubes, config, console)
    ingested = time.perf_counter()
    images, overlaps = collect(config["database"]["url"], groups)
    summary = DemoSummary(
        output=str(out.resolve()),
        database=config["database"]["url"],
        images=images,
        overlaps=[(a, b, area) for a, b, area, _ in overlaps],
        failed=failed,
        render_seconds=rendered - start,
        ingest_seconds=ingested - rendered,
    )
    if images:
        summary.map_png = str(draw_map(config["database"]["url"], groups, out / "footprints.png"))
    summary.total_seconds = time.perf_counter() - start
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    print_summary(summary, console)
    return summary
