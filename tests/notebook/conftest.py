"""Fixtures of the notebook tests: a Jupyter kernel of this very Python, kept out of the home folder."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

KERNEL_NAME = "tiepoint-test-python"
"""A kernel spec name of our own, so a user-level ``python3`` spec cannot point at another Python."""

CELL_TIMEOUT = 300
"""Seconds a cell may take (generous for a 2-core CI machine shared with other jobs)."""


@pytest.fixture(scope="session")
def jupyter_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a kernel spec that runs ``sys.executable -m ipykernel_launcher``.

    The spec, the connection files and IPython's history go to temporary folders (``JUPYTER_PATH``,
    ``JUPYTER_RUNTIME_DIR``, ``IPYTHONDIR``); the kernel inherits the environment, ``PYTHONPATH``
    included, so it imports the code under test.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "data" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "tiepoint tests", "language": "python"})
    )
    env = {
        "JUPYTER_PATH": str(root / "data"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "IPYTHONDIR": str(root / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield KERNEL_NAME
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def execute_notebook(jupyter_kernel: str) -> Callable[[Any, Path], None]:
    """``execute_notebook(nb, cwd)``: run *nb* (an nbformat notebook, filled in place with its outputs)
    top to bottom in a fresh kernel started in *cwd*; a cell that raises fails the test."""
    from nbclient import NotebookClient

    def execute(nb: Any, cwd: Path) -> None:
        client = NotebookClient(
            nb, timeout=CELL_TIMEOUT, kernel_name=jupyter_kernel, resources={"metadata": {"path": str(cwd)}}
        )
        client.execute()

    return execute
