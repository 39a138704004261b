"""Synthetic-data commands: ``synth`` (render ISDs to cubes) and ``demo`` (the end-to-end demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tiepoint.errors import TiepointError

console = Console()
err_console = Console(stderr=True)


def synth(
    isds: Annotated[list[Path], typer.Argument(help="ISD JSON files (USGSCSM / ALE layout).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for <stem>.cub and <stem>.json.")],
    lines: Annotated[int | None, typer.Option("--lines", min=1, help="Render with this many lines.")] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", min=1, help="Render with this many samples.")
    ] = None,
    special: Annotated[
        list[str] | None,
        typer.Option(
            "--special",
            help="Special-pixel rectangle KIND:L0:L1:S0:S1 (KIND: NULL, LRS, LIS, HIS, HRS; 0-based, "
            "stop exclusive); repeatable.",
        ),
    ] = None,
    grid_step: Annotated[
        int, typer.Option("--grid-step", min=1, help="Pixels between exact camera evaluations.")
    ] = 8,
    pointing_error_m: Annotated[
        float | None,
        typer.Option(
            "--pointing-error-m",
            min=0.0,
            help="Render through a camera biased so its ground moves by about this many metres (random "
            "direction per image); the sidecar keeps the unbiased a-priori ISD, <stem>.truth.json gets "
            "the biased one.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the pointing errors' directions (with the image stem).")
    ] = 0,
) -> None:
    """Render synthetic planetary images through real camera geometry.

    For each ISD, the ground seen by every pixel (the camera's image_to_ground) is sampled in a
    deterministic cratered texture defined on the body and lit by the ISD's sun, so images of the
    same ground share features at their true correspondences. Writes OUT/<stem>.cub (16-bit, tiled
    ISIS3 cube) and OUT/<stem>.json (the ISD, rescaled when --lines/--samples is given: same ground,
    other pixel size). With --pointing-error-m the pixels come from a perturbed camera, written as
    OUT/<stem>.truth.json, while OUT/<stem>.json and the cube's CSMState blob keep the a-priori one.
    """
    from tiepoint.synthetic import SpecialRegion, synthesize

    try:
        regions = [SpecialRegion.parse(s) for s in special or []]
        with _progress() as progress:
            for isd in isds:
                task = progress.add_task(isd.stem, total=None)
                result = synthesize(
                    isd,
                    out,
                    lines=lines,
                    samples=samples,
                    special=regions,
                    grid_step=grid_step,
                    pointing_error_m=pointing_error_m,
                    seed=seed,
                    progress=lambda n, task=task: progress.advance(task, n),
                )
                progress.update(task, total=result.lines, completed=result.lines)
                console.print(
                    f"{result.cube} ({result.lines} x {result.samples}, {result.seconds:.1f} s), {result.isd}"
                )
                if result.pointing_error is not None:
                    err = result.pointing_error
                    console.print(
                        f"  truth: {result.truth} (ground offset {err.magnitude_m:.1f} m: "
                        f"{err.along_m:+.1f} m along track, {err.cross_m:+.1f} m across)"
                    )
    except TiepointError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Demo output folder.")] = Path("demo-output"),
    full_scale: Annotated[
        float,
        typer.Option(
            "--full-scale",
            min=0.0,
            help="Scale of the full 5000 x 7168 CTX image (0 skips it; 1 renders it at full size).",
        ),
    ] = 0.2,
    scale: Annotated[
        float, typer.Option("--scale", min=0.01, help="Scale of the crops (1: their real sizes).")
    ] = 1.0,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local Dask workers (default: up to 2).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Render again and start a new database.")
    ] = False,
    pointing_error_m: Annotated[
        float,
        typer.Option(
            "--pointing-error-m", min=0.0, help="A-priori pointing error of the images, m on the ground."
        ),
    ] = 300.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pointing errors' directions.")] = 1,
) -> None:
    """Run the end-to-end demo: render overlapping CTX groups with pointing error, ingest them, match
    them, build and register the control network, export it, and measure it against the truth."""
    from tiepoint.demo import run_demo

    try:
        run_demo(
            out,
            full_scale=full_scale,
            scale=scale,
            workers=workers,
            overwrite=overwrite,
            pointing_error_m=pointing_error_m,
            seed=seed,
            console=console,
        )
    except TiepointError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def register(app: typer.Typer) -> None:
    """Register ``synth`` and ``demo`` on *app*."""
    app.command("synth")(synth)
    app.command("demo")(demo)
