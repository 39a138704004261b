"""``tiepoint export`` and ``tiepoint import``: the network to and from ISIS jigsaw and ASP.

``export OUT.net`` writes the database's network (ISIS binary V5 by default, ``--version 2``, or
``--format pvl``) with ``OUT.lis`` beside it, the cube list jigsaw wants; ``--format asp`` writes ASP
``.match`` files with ``OUT`` as their prefix (``bundle_adjust --isis-cnet OUT.net`` also reads the
ISIS network directly). ``import NET`` updates the points from a network jigsaw adjusted (adjusted
ground points, ignore and rejection flags, residuals), matching points by id.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tiepoint.cli.common import ConfigOption, console, load, open_database, run_or_fail


class Format(StrEnum):
    isis = "isis"
    pvl = "pvl"
    asp = "asp"


def export(
    out: Annotated[Path, typer.Argument(help="The .net file to write (asp: the .match files' prefix).")],
    version: Annotated[int, typer.Option("--version", help="ISIS binary version: 5 or 2.", min=2, max=5)] = 5,
    format: Annotated[
        Format, typer.Option("--format", help="isis (binary), pvl (text) or asp.")
    ] = Format.isis,
    include_ignored: Annotated[
        bool, typer.Option("--include-ignored", help="Write ignored points and measures, flagged Ignore.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write the control network for ISIS jigsaw (OUT.net and OUT.lis) or ASP bundle_adjust."""
    from tiepoint.network import export_network

    if version not in (2, 5):
        raise typer.BadParameter("the ISIS binary version is 5 or 2", param_hint="--version")
    cfg = load(config)
    with open_database(cfg) as db:
        files = run_or_fail(
            lambda: export_network(
                db, out, version=version, format=format.value, include_ignored=include_ignored
            )
        )
    for path in files[:20]:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if len(files) > 20:
        console.print(f"... and {len(files) - 20} more files", highlight=False)


def import_(
    net: Annotated[
        Path, typer.Argument(help="An ISIS control network (binary V2/V5 or PVL), e.g. jigsaw's.")
    ],
    config: ConfigOption = None,
) -> None:
    """Update the points from an adjusted network (jigsaw): ground points, ignore flags, residuals."""
    from tiepoint.network import import_network

    cfg = load(config)
    with open_database(cfg) as db:
        summary = run_or_fail(lambda: import_network(db, net, lon_domain=cfg.footprint.longitude_domain))
    console.print(f"imported {net}: {summary}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(export)
    app.command(name="import")(import_)
