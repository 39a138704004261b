"""Job commands: ``init``, ``add``, ``status``, ``failed``, ``inspect``, ``retry``, ``footprints``.

``status``, ``failed`` and ``inspect`` only read the job ledger (no cluster is started); ``add``
and ``retry`` start the configured cluster, show a live progress bar, and on Ctrl-C close the
ImageAdder, which puts unfinished jobs back to ``queued`` so the next ``add`` or ``retry`` resumes
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tiepoint.config import DEFAULT_CONFIG_NAME, Config, load_config
from tiepoint.errors import TiepointError

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $TIEPOINT_CONFIG, ./tiepoint.yml)."),
]

COMMENTS: dict[str, str] = {
    "database": "Where results go.",
    "database.url": "sqlite:///file.gpkg (a GeoPackage, opens in QGIS) or postgresql+psycopg://user@host/db",
    "database.body": "The target body's reference ellipsoid (metres).",
    "database.body.srid": "spatial reference id written with footprints (IAU code)",
    "cluster": "Where jobs run.",
    "cluster.kind": "local (Dask LocalCluster) | scheduler (an existing Dask scheduler) | slurm",
    "cluster.threads_per_worker": "threads per local worker process",
    "cluster.memory_limit": "memory limit per local worker ('auto' shares the machine's memory)",
    "cluster.maxfailures": "failed attempts after which a job is given up (rerun with `tiepoint retry`)",
    "cluster.address": "scheduler address for kind: scheduler, e.g. tcp://10.0.0.5:8786",
    "cluster.host": "interface the scheduler and local workers listen on (loopback unless changed)",
    "cluster.dashboard": "serve the Dask dashboard on a free port of cluster.host (link in repr and logs)",
    "cluster.slurm": "dask-jobqueue SLURMCluster settings (kind: slurm).",
    "cluster.slurm.queue": "partition",
    "cluster.slurm.cores": "cores per SLURM job",
    "cluster.slurm.processes": "Dask worker processes per SLURM job",
    "cluster.slurm.memory": "memory per SLURM job (not above the node's RealMemory)",
    "cluster.slurm.jobs": "SLURM jobs (each with `processes` workers) started at once",
    "cluster.slurm.adapt_max_jobs": "if set, adapt between `jobs` and this many SLURM jobs",
    "cluster.slurm.log_directory": "where the SLURM jobs write their output",
    "cluster.slurm.job_script_prologue": "shell lines run before the worker starts, e.g. module load",
    "cluster.slurm.job_extra_directives": "extra #SBATCH lines, e.g. --constraint=skylake",
    "cluster.slurm.interface": "network interface of scheduler and workers, e.g. ib0 (lo for one node)",
    "features": "Interest-point extraction.",
    "features.extractor": "sift | orb | akaze",
    "features.stretch_percentiles": "percentile stretch to 8 bits before extraction",
    "footprint": "Footprints.",
    "footprint.longitude_domain": "360 (0..360, positive east) or 180 (-180..180)",
    "footprint.source": "camera (project the image border) or cube (the cube's footprint blob)",
    "output": "Keypoint files.",
    "output.keypoint_dir": "folder of <image-stem>.h5 keypoint files; null: beside each image",
}


def _yaml_value(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _emit(model: BaseModel, prefix: str, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for name, field in type(model).model_fields.items():
        key = f"{prefix}{name}"
        value = getattr(model, name)
        comment = COMMENTS.get(key) or field.description
        if isinstance(value, BaseModel):
            doc = comment or (type(value).__doc__ or "").strip().splitlines()[0]
            out.append(f"{pad}# {doc}")
            out.append(f"{pad}{name}:")
            _emit(value, key + ".", indent + 1, out)
            continue
        line = f"{pad}{name}: {_yaml_value(value)}"
        out.append(f"{line}  # {comment}" if comment else line)


def config_template(config: Config | None = None) -> str:
    """A commented YAML configuration with every key (defaults unless *config* is given)."""
    out = [
        "# tiepoint configuration. Every key is optional; these are the defaults.",
        "# Used by `tiepoint` commands and ImageAdder() from $TIEPOINT_CONFIG or ./tiepoint.yml.",
    ]
    _emit(config or Config(), "", 0, out)
    return "\n".join(out) + "\n"


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=1)


def _ledger(config: Path | None) -> Any:
    from tiepoint.db import Database
    from tiepoint.dispatch.ledger import Ledger

    cfg = load_config(config)
    return Ledger(Database(cfg.database.url, cfg.database.body))


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the configuration.")] = Path(
        DEFAULT_CONFIG_NAME
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration file with every key and its default."""
    if path.exists() and not force:
        raise _fail(TiepointError("exists; use --force to overwrite", path))
    path.write_text(config_template())
    console.print(f"wrote {path}")


def _run_adder(config: Path | None, start: Any) -> None:
    from tiepoint.dispatch import ImageAdder

    try:
        adder = ImageAdder(config)
    except TiepointError as exc:
        raise _fail(exc) from None
    interrupted = False
    try:
        if adder.dashboard_link:
            console.print(f"Dask dashboard: {adder.dashboard_link}")
        queued = start(adder)
        console.print(f"{len(queued)} images queued ({adder.n_jobs} jobs in all, with resumed ones)")
        complete = adder.wait(progress=True)
        failed = [p for p in adder.failed_jobs if p in set(queued)]
        console.print(f"done: {adder.n_jobs - len(failed)} ok, {len(failed)} failed")
        if failed:
            console.print("see `tiepoint failed` and `tiepoint inspect PATH`")
        if not complete:
            console.print(f"[yellow]some outcomes wait in {adder.spool.directory} for the database[/yellow]")
    except KeyboardInterrupt:
        interrupted = True
    except TiepointError as exc:
        raise _fail(exc) from None
    finally:
        adder.close()
    if interrupted:
        err_console.print("interrupted: unfinished jobs are queued; `tiepoint retry` or `add` resumes them")
        raise typer.Exit(code=130)


def add(
    source: Annotated[str, typer.Argument(help="A directory, a glob pattern, or an image file.")],
    ext: Annotated[str | None, typer.Option("--ext", help="Image extension, e.g. cub.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ingest again images already ingested.")] = False,
    config: ConfigOption = None,
) -> None:
    """Ingest the images of a directory (or glob), with a live progress bar."""
    _run_adder(config, lambda adder: adder.add_images(source, ext, force=force))


def retry(config: ConfigOption = None) -> None:
    """Run again every job that exhausted its attempts (and resume unfinished ones)."""
    _run_adder(config, lambda adder: adder.rerun_failed())


def status(config: ConfigOption = None) -> None:
    """Show the newest job of every image: state and failed attempts."""
    try:
        latest = _ledger(config).latest()
    except TiepointError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{len(latest)} images")
    table.add_column("image")
    table.add_column("state")
    table.add_column("failures", justify="right")
    counts: dict[str, int] = {}
    for path, (state, failures) in latest.items():
        counts[state] = counts.get(state, 0) + 1
        colour = {"succeeded": "green", "failed": "red"}.get(state, "yellow")
        table.add_row(path, f"[{colour}]{state}[/{colour}]", str(failures))
    console.print(table)
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs")


def failed(config: ConfigOption = None) -> None:
    """List the images whose newest job failed, with the last error."""
    try:
        ledger = _ledger(config)
        refs = ledger.newest_failed()
        rows = [(r.path, (ledger.attempts(r.path) or [{}])[-1].get("error")) for r in refs]
    except TiepointError as exc:
        raise _fail(exc) from None
    if not rows:
        console.print("no failed jobs")
        return
    for path, error in rows:
        console.print(f"{path}\n    {error}", highlight=False, soft_wrap=True)


def inspect(
    path: Annotated[Path, typer.Argument(help="The image.")],
    config: ConfigOption = None,
    logs: Annotated[bool, typer.Option("--log/--no-log", help="Show each attempt's log.")] = True,
) -> None:
    """Show every attempt at ingesting one image: host, times, error, traceback, log."""
    try:
        attempts = _ledger(config).attempts(str(path.resolve()))
    except TiepointError as exc:
        raise _fail(exc) from None
    if not attempts:
        raise _fail(TiepointError("no jobs for this image", path))
    for a in attempts:
        console.rule(f"job {a['job']} attempt {a['attempt']}: {a['state']}")
        console.print(f"host {a['host']}  worker {a['worker']}", highlight=False)
        console.print(f"started {a['started']}  finished {a['finished']}", highlight=False)
        if a["error"]:
            console.print(f"[red]{a['error']}[/red]", highlight=False, soft_wrap=True)
        if a["traceback"]:
            console.print(a["traceback"], highlight=False, markup=False, soft_wrap=True)
        if logs and a["log"]:
            console.print(a["log"], highlight=False, markup=False, soft_wrap=True)


def footprints(
    png: Annotated[Path, typer.Option("--png", help="Image file to write.")] = Path("footprints.png"),
    config: ConfigOption = None,
) -> None:
    """Draw the footprints of all ingested images on a lon/lat map."""
    try:
        cfg = load_config(config)
        n = plot_footprints(cfg, png)
    except TiepointError as exc:
        raise _fail(exc) from None
    console.print(f"wrote {png} ({n} footprints)", highlight=False, soft_wrap=True)


def plot_footprints(config: Config, png: Path) -> int:
    """Draw every image's lat/lon footprint into *png* (matplotlib, Agg); return how many."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from shapely.geometry import MultiPolygon, Polygon
    from sqlalchemy import select

    from tiepoint.db import Database, ImageRow

    db = Database(config.database.url, config.database.body)
    with db.session() as s:
        rows = s.execute(select(ImageRow.name, ImageRow.footprint).order_by(ImageRow.name)).all()
    fig, ax = plt.subplots(figsize=(8, 6), dpi=100)
    for i, (name, geom) in enumerate(rows):
        colour = f"C{i % 10}"
        polys = (
            list(geom.geoms)
            if isinstance(geom, MultiPolygon)
            else [geom]
            if isinstance(geom, Polygon)
            else []
        )
        for poly in polys:
            x, y = poly.exterior.xy
            ax.fill(x, y, alpha=0.3, color=colour)
            ax.plot(x, y, color=colour, lw=1)
        if len(rows) <= 40 and polys:
            c = geom.representative_point()
            ax.annotate(name, (c.x, c.y), fontsize=6, ha="center")
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("planetocentric latitude (degrees)")
    ax.set_title(f"{len(rows)} image footprints ({config.database.body.name})")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, lw=0.3)
    fig.savefig(png)
    plt.close(fig)
    return len(rows)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(init)
    app.command()(add)
    app.command()(status)
    app.command()(failed)
    app.command()(inspect)
    app.command()(retry)
    app.command()(footprints)
