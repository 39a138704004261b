"""The notebooks run in a real Jupyter kernel (nbclient + ipykernel), so they never rot (issue 16).

``examples/adding_images.ipynb`` runs top to bottom; nothing it prints is a warning, an error or a
traceback; its runner summaries are HTML with the counts the notebook's own images imply; its
footprint map is an inline PNG; its live progress bar is a widget that reached the end. A second,
small notebook runs the progress bars in a kernel where ipywidgets cannot be imported.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "adding_images.ipynb"
DISPATCH_TESTS = REPO / "tests" / "dispatch"

FORBIDDEN = ("Warning", "warn", "Traceback", 'install "ipywidgets"', "ipywidgets for Jupyter")
"""Text no output may contain (rich and tqdm print ``install "ipywidgets" for Jupyter support``)."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _texts(cell: Any) -> list[str]:
    """Every text a cell shows: streams, plain-text and HTML forms of its displays, errors."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type == "error":
            out.append(f"{o.ename}: {o.evalue}\n" + "\n".join(o.traceback))
        else:
            out += [o.data[m] for m in ("text/plain", "text/html") if m in o.data]
    return out


def _assert_clean(nb: Any) -> None:
    """No error outputs, nothing on stderr, no output text with a warning or a traceback."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert ("stream", "stderr") not in kinds, f"cell {i} wrote to stderr: {_texts(cell)}"
        assert all(kind != "error" for kind, _ in kinds), f"cell {i} failed: {_texts(cell)}"
        for text in _texts(cell):
            found = [word for word in FORBIDDEN if word in text]
            assert not found, f"cell {i} shows {found}: {text[:2000]}"


def _cell_with(nb: Any, source: str) -> Any:
    """The one code cell whose source is *source* (stripped)."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == source]
    return cell


def _counts(html: str) -> dict[str, int]:
    """The ledger's counts in a runner's HTML repr: ``{state: n}``."""
    table = re.search(r'<table class="tiepoint-counts">(.*?)</table>', html, re.S)
    assert table, html
    head, body = table.group(1).split("</thead>")
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", head)[1:]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", body)
    return {h: int(n.replace(",", "")) for h, n in zip(heads, cells, strict=True)}


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(EXAMPLE, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


@pytest.mark.timeout(900)
def test_adding_images_notebook_runs_top_to_bottom(tmp_path, execute_notebook):
    nb = nbformat.read(EXAMPLE, as_version=4)
    execute_notebook(nb, tmp_path)
    nbformat.write(nb, tmp_path / "executed.ipynb")  # kept with the test's files, to look at
    _assert_clean(nb)

    # the images the notebook made: the six CTX ISDs shipped with tiepoint, and one broken cube
    n_isds = len(list((REPO / "tiepoint" / "synthetic" / "data" / "ctx").glob("*.json")))
    images = sorted(p.name for p in (tmp_path / "tiepoint-example" / "images").glob("*.cub"))
    assert len(images) == n_isds + 1

    reprs = [
        o.data["text/html"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {}) and "tiepoint-runner" in o.data["text/html"]
    ]
    assert len(reprs) == 2  # after starting, and at the end
    assert _counts(reprs[0]) == {"queued": 0, "running": 0, "succeeded": 0, "failed": 0, "total": 0}
    assert _counts(reprs[-1]) == {
        "queued": 0,
        "running": 0,
        "succeeded": n_isds,
        "failed": 1,
        "total": n_isds + 1,
    }
    assert "B10_013615_2178_XI_37N117W.truncated.cub</td>" in reprs[-1]  # the failure, by name
    assert "but the file has only" in reprs[-1]  # with its error

    # the live bar of progress(): a widget, which reached the end
    progress = _cell_with(nb, "ia.progress()")
    assert [WIDGET_VIEW in o.data for o in progress.outputs] == [True]
    states = nb.metadata["widgets"][WIDGET_STATE]["state"]
    bars = [s["state"] for s in states.values() if s["model_name"] == "IntProgressModel"]
    assert len(bars) == 2  # progress() and wait(progress=True)
    assert all(b["value"] == b["max"] > 0 and b["bar_style"] == "success" for b in bars)

    # the cell after progress() ran while the jobs did
    busy = _cell_with(nb, next(c.source.strip() for c in nb.cells if "ia.n_running" in c.source))
    running = re.match(r"(\d+) jobs running, \d+ of", busy.outputs[0].text)
    assert running and int(running.group(1)) > 0

    # the footprint map, inline
    (figure,) = [o for c in nb.cells if "footprints(" in c.source for o in c.outputs if "image/png" in o.data]
    png = base64.b64decode(figure.data["image/png"])
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.timeout(600)
def test_progress_bars_in_a_kernel_without_ipywidgets(tmp_path, execute_notebook):
    cells = [
        f"""
import sys
sys.modules["ipywidgets"] = None  # as if ipywidgets were not installed
sys.path.insert(0, {str(DISPATCH_TESTS)!r})
from pathlib import Path
import dispatch_jobs as dj
from tiepoint.dispatch import ImageAdder
from tiepoint.dispatch.progress import choose_mode, in_notebook
print(in_notebook(), choose_mode())
""",
        """
url = "sqlite:///" + str(Path("t.gpkg").resolve())
ia = ImageAdder(dj.adder_config(url, workers=1), job=dj.tiny_job)
images = [dj.write_tiny_image(Path(f"i{i}.json").resolve(), i, 0, sleep=0.8) for i in range(3)]
""",
        "ia.add_images(images)\nlive = ia.progress(interval=0.1)",
        "live.running, ia.n_running > 0",
        "live.join(60), live.final",
        "live",
        """
more = [dj.write_tiny_image(Path(f"m{i}.json").resolve(), i, 3) for i in range(2)]
ia.add_images(more)
ia.wait(progress=True)
""",
        "ia.close()",
    ]
    nb = new_notebook(cells=[new_code_cell(c.strip()) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    execute_notebook(nb, tmp_path)
    nbformat.write(nb, tmp_path / "executed.ipynb")
    _assert_clean(nb)
    code = nb.cells
    assert code[0].outputs[0].text.strip() == "True html"  # a kernel; no ipywidgets: the HTML bar
    assert code[3].outputs[0].data["text/plain"] == "(True, True)"  # progress() did not block
    assert code[4].outputs[0].data["text/plain"] == "(True, 'done')"
    for i, final in ((2, "3/3 · done in "), (5, "3/3 · done in "), (6, "5/5 · done in ")):
        bar = code[i].outputs[0]
        assert bar.output_type == "display_data" and WIDGET_VIEW not in bar.data
        assert "<progress" in bar.data["text/html"]
        # the display was updated in place to its final state (update_display_data by display id)
        assert bar.data["text/plain"].split("] ", 1)[1].startswith(final), bar.data["text/plain"]
    assert code[6].outputs[1].data["text/plain"] == "True"  # wait() returned True
    assert "widgets" not in nb.metadata
