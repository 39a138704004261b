"""``tiepoint init``: write a commented configuration file with every key and its default.

The comments come from the configuration models themselves (``Field(description=...)`` of each key
and section in :mod:`tiepoint.config`), so the file and the code never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import BaseModel

from tiepoint.cli.common import console, fail
from tiepoint.config import DEFAULT_CONFIG_NAME, Config
from tiepoint.errors import TiepointError

SECTION_ORDER = ("database", "cluster")
"""Top-level sections written first (where results go, where jobs run); the stage sections follow."""


def _yaml_value(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _emit(model: BaseModel, indent: int, out: list[str], order: tuple[str, ...] = ()) -> None:
    pad = "  " * indent
    fields = type(model).model_fields
    names = [n for n in order if n in fields] + [n for n in fields if n not in order]
    for name in names:
        field = fields[name]
        value = getattr(model, name)
        comment = field.description
        if isinstance(value, BaseModel):
            doc = comment or (type(value).__doc__ or "").strip().splitlines()[0]
            out.append(f"{pad}# {doc}")
            out.append(f"{pad}{name}:")
            _emit(value, indent + 1, out)
            continue
        line = f"{pad}{name}: {_yaml_value(value)}"
        out.append(f"{line}  # {comment}" if comment else line)


def config_template(config: Config | None = None) -> str:
    """A commented YAML configuration with every key (defaults unless *config* is given)."""
    out = [
        "# tiepoint configuration. Every key is optional; these are the defaults.",
        "# Used by `tiepoint` commands and ImageAdder() from $TIEPOINT_CONFIG or ./tiepoint.yml.",
    ]
    _emit(config or Config(), 0, out, SECTION_ORDER)
    return "\n".join(out) + "\n"


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the configuration.")] = Path(
        DEFAULT_CONFIG_NAME
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration file with every key and its default."""
    if path.exists() and not force:
        raise fail(TiepointError("exists; use --force to overwrite", path))
    path.write_text(config_template())
    console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(init)
