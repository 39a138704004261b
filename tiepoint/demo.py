"""The end-to-end demo (``./run demo`` = ``tiepoint demo``): images in, control network out.

1. Render synthetic images through the real CTX camera geometries packaged in
   ``tiepoint/synthetic/data/ctx`` (two ground areas; the full 5000 x 7168 image at a reduced scale),
   each through a camera whose pointing is off by about ``pointing_error_m`` on the ground, as real
   CTX pointing is. The sidecar ISDs are the a-priori cameras (what a user has); the cameras that
   really rendered the images are kept as ``<stem>.truth.json``.
2. Run every stage on the embedded default (a GeoPackage database and a Dask LocalCluster) with
   :func:`tiepoint.workflow.run`: ingest, match the overlapping pairs, build the control network and
   register it to sub-pixel accuracy, export it as ``network.net`` (ISIS V5) with ``network.lis``.
3. Measure the network against the truth cameras (:mod:`tiepoint.synthetic.truth`), print the summary,
   write ``summary.json``, ``tiepoint.yml`` (so every ``tiepoint`` command works on the demo database:
   ``tiepoint status -c demo-output/tiepoint.yml``), ``footprints.png`` and ``network.png``.

Running it again reuses the rendered cubes and the database (every stage does only what is missing);
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
class NetworkSummary:
    """The control network as the demo reports it, measured against the renderer's truth."""

    points: int
    measures: int
    good_points: int
    good_measures: int
    depth: dict[int, int]
    """Good points by their number of good measures."""
    components: int
    """Connected components of the image graph (one per group of overlapping images is right)."""
    groups: int
    """Groups of overlapping images."""
    duplicates: int
    """Measures beyond one per (image, keypoint) and per (point, image): 0 by construction."""
    weak_images: list[str]
    """Images with fewer than 3 good points."""
    registered: int
    rms_px: float
    """RMS error of the registered measures against the true correspondences (pixels)."""
    apriori_rms_px: float
    """The same for their a-priori (feature-match) positions."""
    worse_than_1px: float
    """Fraction of the registered measures more than 1 pixel from the truth."""
    network_file: str = ""
    cube_list: str = ""


@dataclass(slots=True)
class DemoSummary:
    """What the demo did (also written as ``summary.json``)."""

    output: str
    database: str
    config: str = ""
    pointing_error_m: float = 0.0
    images: list[ImageSummary] = field(default_factory=list)
    overlaps: list[tuple[str, str, float, int]] = field(default_factory=list)
    """(name_a, name_b, overlap area in km^2, verified matches kept)."""
    failed: list[str] = field(default_factory=list)
    network: NetworkSummary | None = None
    render_seconds: float = 0.0
    run_seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    map_png: str = ""
    network_png: str = ""


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


def _render_one(
    isd: str, images: str, lines: int | None, samples: int | None, pointing_error_m: float | None, seed: int
) -> tuple[str, float]:
    """Render one cube (run in a worker process)."""
    from tiepoint.synthetic import synthesize

    result = synthesize(
        isd, images, lines=lines, samples=samples, pointing_error_m=pointing_error_m, seed=seed
    )
    return str(result.cube), result.seconds


def render_images(
    out: Path,
    full_scale: float,
    overwrite: bool,
    console: Console,
    scale: float = 1.0,
    processes: int = 1,
    pointing_error_m: float | None = None,
    seed: int = 1,
) -> tuple[list[Path], dict[str, str]]:
    """Render the demo's cubes into *out*/images (in *processes* processes), through cameras off by
    about *pointing_error_m* on the ground; returns the cubes and a name -> group map. Existing cubes
    are kept unless *overwrite*."""
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
            done = cube.is_file() and (images / f"{name}.json").is_file()
            if pointing_error_m:
                done = done and (images / f"{name}.truth.json").is_file()
            if overwrite or not done:
                todo.append(
                    (str(DATA_DIR / f"{name}.json"), str(images), lines, samples, pointing_error_m, seed)
                )
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


def collect(database_url: str, groups: dict[str, str]) -> tuple[list[ImageSummary], list]:
    """Read back what the database holds: per-image summaries, and the overlapping pairs with their
    area and verified matches."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from tiepoint.db import Database, ImageRow, PairRow
    from tiepoint.footprint.area import ellipsoid_area

    with Database(database_url) as db:
        a, b = db.body.semimajor, db.body.semiminor
        with db.session() as session:
            rows = session.scalars(
                select(ImageRow).options(selectinload(ImageRow.keypoints)).order_by(ImageRow.name)
            )
            records = [(r.id, r.path, r.lines, r.samples, r.keypoints, r.footprint) for r in rows]
            pairs = session.execute(
                select(PairRow.image_a, PairRow.image_b, PairRow.area_km2, PairRow.n_matches)
            ).all()
    images, names = [], {}
    for image_id, path, lines, samples, kps, fp in records:
        stem = Path(path).stem
        names[image_id] = stem
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
    overlaps = sorted(
        (*sorted((names[ia], names[ib])), float(area), int(n or 0)) for ia, ib, area, n in pairs
    )
    return images, overlaps


def measure_network(database_url: str, report: Any, files: list[Path]) -> NetworkSummary:
    """The network against the truth cameras (:mod:`tiepoint.synthetic.truth`) and its health."""
    from tiepoint.db import Database
    from tiepoint.synthetic.truth import measure_errors

    with Database(database_url) as db:
        errors = measure_errors(db)
        counts = db.execute_sql(
            "SELECT (SELECT count(*) FROM measures), "
            "(SELECT count(*) FROM (SELECT DISTINCT image_id, keypoint FROM measures) k), "
            "(SELECT count(*) FROM (SELECT DISTINCT point_id, image_id FROM measures) p)"
        )[0]
    net = next((p for p in files if p.suffix == ".net"), None)
    lis = next((p for p in files if p.suffix == ".lis"), None)
    return NetworkSummary(
        points=report.points,
        measures=report.measures,
        good_points=report.good_points,
        good_measures=report.good_measures,
        depth={int(k): int(v) for k, v in report.depth.items()},
        components=len(report.components),
        groups=len(report.groups),
        duplicates=int(2 * counts[0] - counts[1] - counts[2]),
        weak_images=[im.name for im in report.weak_images],
        registered=int((errors.status == "ok").sum()),
        rms_px=errors.rms(),
        apriori_rms_px=errors.rms("apriori"),
        worse_than_1px=errors.worse_than(1.0),
        network_file=str(net or ""),
        cube_list=str(lis or ""),
    )


def draw_maps(database_url: str, groups: dict[str, str], out: Path, report: Any) -> tuple[Path, Path]:
    """The footprint map (one panel per ground area, overlaps hatched) and the network map (points
    coloured by depth over the footprints, ground-offset arrows) as PNGs."""
    from tiepoint import plot
    from tiepoint.db import Database

    with Database(database_url) as db:
        fig = plot.footprints(
            db, panels=groups, title="tiepoint demo: synthetic images through real CTX camera geometry"
        )
        footprints = plot.save(fig, out / "footprints.png")
        network = plot.save(plot.network(db, report=report), out / "network.png")
    return footprints, network


def print_summary(summary: DemoSummary, console: Console) -> None:
    """The summary tables: images per ground area, overlapping pairs, the network, times."""
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
    pairs = Table(title="Overlapping pairs, matched", title_justify="left")
    pairs.add_column("image A")
    pairs.add_column("image B")
    pairs.add_column("overlap km^2", justify="right")
    pairs.add_column("matches", justify="right")
    for a, b, area, n in summary.overlaps:
        pairs.add_row(a, b, f"{area:,.2f}", f"{n:,}")
    console.print(pairs)
    net = summary.network
    if net is not None:
        title = f"Control network, against the truth ({summary.pointing_error_m:g} m pointing error)"
        table = Table(title=title, title_justify="left")
        table.add_column("")
        table.add_column("", justify="right")
        depth = ", ".join(f"{k}: {v}" for k, v in sorted(net.depth.items()))
        rows = [
            ("points (good / all)", f"{net.good_points:,} / {net.points:,}"),
            ("measures (good / all)", f"{net.good_measures:,} / {net.measures:,}"),
            ("depth (measures per point: points)", depth),
            ("registered measures", f"{net.registered:,}"),
            ("RMS error vs truth, registered", f"{net.rms_px:.3f} px"),
            ("RMS error vs truth, a priori (keypoints)", f"{net.apriori_rms_px:.3f} px"),
            ("registered measures worse than 1 px", f"{100 * net.worse_than_1px:.2f} %"),
            ("duplicate measures", f"{net.duplicates}"),
            ("connected components / groups of overlapping images", f"{net.components} / {net.groups}"),
            ("images with fewer than 3 points", ", ".join(net.weak_images) or "none"),
        ]
        for row in rows:
            table.add_row(*row)
        console.print(table)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in summary.run_seconds.items())
    console.print(
        f"[bold]{len(summary.images)} images, {sum(im.keypoints for im in summary.images):,} keypoints, "
        f"{len(summary.overlaps)} overlapping pairs, {len(summary.failed)} failed[/bold]; render "
        f"{summary.render_seconds:.1f} s, {times}, total {summary.total_seconds:.1f} s"
    )
    console.print(f"database: {summary.database}")
    console.print(f"configuration: {summary.config}  (tiepoint status -c {summary.config})")
    if net is not None:
        console.print(f"control network: {net.network_file} and {net.cube_list}")
    console.print(f"maps: {summary.map_png}, {summary.network_png}")


def run_demo(
    out: str | os.PathLike[str] = "demo-output",
    *,
    full_scale: float = 0.2,
    scale: float = 1.0,
    workers: int | None = None,
    overwrite: bool = False,
    pointing_error_m: float = 300.0,
    seed: int = 1,
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
    pointing_error_m : float
        A-priori pointing error of the rendered images, metres on the ground (0: perfect cameras).
    seed : int
        Seed of the pointing errors' directions.
    console : rich Console, optional

    Returns
    -------
    DemoSummary
    """
    import yaml

    from tiepoint.workflow import run

    console = console or Console()
    if not console.is_terminal and console.width < 120:  # piped output: room for the image names
        console = Console(width=120, file=console.file)
    start = time.perf_counter()
    out = Path(out)
    if overwrite and out.exists():
        for sub in ("images", "keypoints", ".tiepoint"):
            shutil.rmtree(out / sub, ignore_errors=True)
        for name in ("tiepoint.gpkg", "network.net", "network.lis"):
            (out / name).unlink(missing_ok=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TiepointError(f"cannot create the demo output folder: {exc.strerror}", out) from None
    config = demo_config(out, workers)
    config_path = out / "tiepoint.yml"
    config_path.write_text(
        f"# The demo's configuration: `tiepoint status -c {config_path}` and every other command\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    console.print(f"[bold]tiepoint demo[/bold] -> {out.resolve()}")
    processes = int(config["cluster"]["workers"])
    cubes, groups = render_images(
        out, full_scale, overwrite, console, scale, processes, pointing_error_m or None, seed
    )
    rendered = time.perf_counter()
    result = run([str(c) for c in cubes], None, out / "network.net", config, progress=True)
    summary = DemoSummary(
        output=str(out.resolve()),
        database=config["database"]["url"],
        config=str(config_path),
        pointing_error_m=float(pointing_error_m or 0.0),
        failed=[str(p) for p in (*result.ingest.failed, *result.ingest.rejected, *result.match.failed)],
        render_seconds=rendered - start,
        run_seconds=dict(result.seconds),
    )
    summary.images, summary.overlaps = collect(config["database"]["url"], groups)
    if pointing_error_m:
        summary.network = measure_network(
            config["database"]["url"], result.network.report, list(result.exported)
        )
    if summary.images:
        maps = draw_maps(config["database"]["url"], groups, out, result.network.report)
        summary.map_png, summary.network_png = (str(p) for p in maps)
    summary.total_seconds = time.perf_counter() - start
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    print_summary(summary, console)
    return summary
