"""The real CTX ISDs the synthetic-data tests render through (shared copies, else the packaged ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CTX_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "isd" / "ctx"
if not CTX_DIR.is_dir():  # the copies packaged for the demo
    CTX_DIR = Path(__file__).resolve().parents[2] / "tiepoint" / "synthetic" / "data" / "ctx"

G02 = "G02_019154_1800_XN_00N133W.crop"
N06 = "N06_064753_1800_XN_00S133W.crop"


def load(name: str) -> dict[str, Any]:
    return json.loads((CTX_DIR / f"{name}.json").read_text())
