"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TIEPOINT_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared data folder (../shared beside the repository)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED}; set TIEPOINT_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def ctx_isd_dir(shared_dir: Path) -> Path:
    """Folder of the real CTX ISDs."""
    return shared_dir / "data" / "isd" / "ctx"


@pytest.fixture(scope="session")
def cube_dir(shared_dir: Path) -> Path:
    """Folder of the real ISIS3 cubes."""
    return shared_dir / "data" / "cubes"
