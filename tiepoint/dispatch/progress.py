"""Progress bars for job runners: notebook-native in Jupyter, rich in a terminal, never a warning.

Public API::

    MODES, ENV_VAR
    Counts(completed, total, running, closed=False)     # what a bar shows; .active
    in_notebook() -> bool                               # running in a Jupyter (ipykernel) kernel?
    choose_mode(mode=None) -> "widget" | "html" | "rich"
    make_bar(label, mode=None) -> Bar                   # shown at once; .update(counts), .finish(counts, why)
    LiveProgress(poll, bar, interval=0.5)               # a bar a daemon thread keeps up to date

Which bar (:func:`choose_mode`): the *mode* argument, else ``$TIEPOINT_PROGRESS``, else ``auto``.
``auto`` is, in a Jupyter kernel, an ipywidgets bar when ipywidgets can be imported and otherwise an
HTML ``<progress>`` element updated in place through a display id (with a text form for front ends
that show no HTML); anywhere else a rich bar. ``widget`` without ipywidgets falls back to ``html``,
and ``html`` without IPython to ``rich``.
Set ``TIEPOINT_PROGRESS=html`` when the notebook front end cannot show widgets.

:class:`LiveProgress` polls a callable that reads counters (the runner's in-memory ones, never the
database) so it can run on any thread; it stops by itself once no job is running or the runner is
closed.
"""

from __future__ import annotations

import html
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tiepoint.errors import TiepointError

logger = logging.getLogger(__name__)

MODES = ("auto", "widget", "html", "rich")
"""Accepted progress modes."""

ENV_VAR = "TIEPOINT_PROGRESS"
"""Environment variable that chooses the mode when no argument does."""

TEXT_WIDTH = 24
"""Characters of the bar in the text form of the HTML bar."""


@dataclass(frozen=True, slots=True)
class Counts:
    """What a progress bar shows of a runner at one moment."""

    completed: int
    """Jobs finished (succeeded, failed for good, or outcome spooled)."""
    total: int
    """Jobs taken on."""
    running: int
    """Jobs on the cluster now (including those waiting for a retry)."""
    closed: bool = False
    """The runner is closed."""

    @property
    def active(self) -> bool:
        """Whether there is still something to follow: jobs running and the runner open."""
        return not self.closed and self.running > 0


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (an ipykernel shell; not a terminal IPython)."""
    ipython = sys.modules.get("IPython")  # never imported here: a terminal program need not have it
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _has_ipython() -> bool:
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        return False
    return True


def choose_mode(mode: str | None = None) -> str:
    """The bar to use: ``"widget"``, ``"html"`` or ``"rich"`` (see the module docstring).

    Raises
    ------
    TiepointError
        If *mode* (or ``$TIEPOINT_PROGRESS``) is not one of :data:`MODES`.
    """
    source = "progress mode"
    if mode is None:
        mode, source = os.environ.get(ENV_VAR) or "auto", ENV_VAR
    chosen = str(mode).strip().lower()
    if chosen not in MODES:
        raise TiepointError(f"{source} {mode!r} is not one of {', '.join(MODES)}")
    if chosen == "auto":
        chosen = ("widget" if _has_ipywidgets() else "html") if in_notebook() else "rich"
    if chosen == "widget" and not _has_ipywidgets():
        chosen = "html"
    if chosen == "html" and not _has_ipython():  # not a notebook, and nothing to display with
        chosen = "rich"
    return chosen


def elapsed_text(seconds: float) -> str:
    """``h:mm:ss``, as rich's elapsed-time column shows it."""
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def describe(counts: Counts, seconds: float, final: str | None = None) -> str:
    """The words beside a bar: ``"3/6 · 2 running · 0:00:04"``, or its final form.

    *final* is ``"done"``, ``"closed"`` (the runner closed first) or ``"stopped"`` (no longer
    followed), or None while jobs run.
    """
    parts = [f"{counts.completed}/{counts.total}"]
    if final is None:
        parts += [f"{counts.running} running", elapsed_text(seconds)]
    elif final == "done":
        parts.append(f"done in {elapsed_text(seconds)}" if counts.total else "no jobs")
    elif final == "closed":
        parts += ["stopped: the runner is closed", elapsed_text(seconds)]
    else:
        parts += ["no longer followed", elapsed_text(seconds)]
    return " · ".join(parts)


class Bar(Protocol):
    """A progress bar, shown when made."""

    mode: str

    def update(self, counts: Counts) -> None:
        """Show *counts*."""

    def finish(self, counts: Counts, final: str) -> None:
        """Show the final state (see :func:`describe`) and stop."""

    def show(self) -> None:
        """Show the bar again (another view that updates with the first, where the front end can)."""


class RichBar:
    """A rich bar for terminals (the label, the bar, done/total, elapsed time)."""

    mode = "rich"

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._progress = Progress(label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._progress.start()
        self._task = self._progress.add_task("jobs", total=1)
        self._stopped = False

    def update(self, counts: Counts) -> None:
        self._progress.update(self._task, total=max(counts.total, 1), completed=counts.completed)

    def finish(self, counts: Counts, final: str) -> None:
        if self._stopped:
            return
        self.update(counts)
        self._stopped = True
        self._progress.stop()

    def show(self) -> None:
        if not self._stopped:
            self._progress.refresh()


class WidgetBar:
    """An ipywidgets bar: ``IntProgress`` and an HTML label in an ``HBox`` (:attr:`widget`)."""

    mode = "widget"

    def __init__(self, label: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self._start = time.monotonic()
        self.bar = widgets.IntProgress(
            value=0, min=0, max=1, description=label, bar_style="info", style={"description_width": "initial"}
        )
        self.text = widgets.HTML(value="")
        self.widget = widgets.HBox([self.bar, self.text])
        display(self.widget)

    def update(self, counts: Counts) -> None:
        self.bar.max = max(counts.total, 1)
        self.bar.value = min(counts.completed, self.bar.max)
        self.text.value = html.escape(describe(counts, time.monotonic() - self._start))

    def finish(self, counts: Counts, final: str) -> None:
        self.update(counts)
        self.bar.bar_style = "success" if final == "done" else "warning"
        self.text.value = html.escape(describe(counts, time.monotonic() - self._start, final))

    def show(self) -> None:
        from IPython.display import display

        display(self.widget)


class BarView:
    """One state of an :class:`HtmlBar`: a ``<progress>`` element for HTML front ends, a line of text
    for the others (its ``repr``)."""

    def __init__(self, label: str, counts: Counts, words: str) -> None:
        self.label, self.counts, self.words = label, counts, words

    def _repr_html_(self) -> str:
        total = max(self.counts.total, 1)
        done = min(self.counts.completed, total)
        return (
            '<div class="tiepoint-progress" style="display:flex;gap:0.6em;align-items:center">'
            f"<span>{html.escape(self.label)}</span>"
            f'<progress value="{done}" max="{total}" style="width:18em"></progress>'
            f"<span>{html.escape(self.words)}</span></div>"
        )

    def __repr__(self) -> str:
        total = max(self.counts.total, 1)
        filled = round(TEXT_WIDTH * min(self.counts.completed, total) / total)
        return f"{self.label} [{'#' * filled}{'-' * (TEXT_WIDTH - filled)}] {self.words}"


class HtmlBar:
    """A bar without ipywidgets: a :class:`BarView` displayed with a display id and updated in place."""

    mode = "html"

    def __init__(self, label: str) -> None:
        from IPython.display import display

        self.label = label
        self._start = time.monotonic()
        self.view = BarView(label, Counts(0, 0, 0), describe(Counts(0, 0, 0), 0.0))
        self._handle = display(self.view, display_id=True)
        self._shown = repr(self.view)

    def _set(self, counts: Counts, final: str | None) -> None:
        view = BarView(self.label, counts, describe(counts, time.monotonic() - self._start, final))
        self.view = view
        text = repr(view)
        if text == self._shown:  # nothing new: send nothing
            return
        self._shown = text
        if self._handle is not None:
            self._handle.update(view)
        elif final is not None:  # no IPython shell (display() printed the first state): print the last
            print(text)

    def update(self, counts: Counts) -> None:
        self._set(counts, None)

    def finish(self, counts: Counts, final: str) -> None:
        self._set(counts, final)

    def show(self) -> None:
        from IPython.display import display

        if self._handle is not None:
            display(self.view, display_id=self._handle.display_id)


_BARS: dict[str, Callable[[str], Bar]] = {"rich": RichBar, "widget": WidgetBar, "html": HtmlBar}


def make_bar(label: str, mode: str | None = None) -> Bar:
    """Make and show a bar labelled *label* of the kind :func:`choose_mode` picks for *mode*."""
    return _BARS[choose_mode(mode)](label)


def _execution_count() -> int | None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


class LiveProgress:
    """A bar that a daemon thread keeps up to date while the caller goes on working.

    The thread calls *poll* every *interval* seconds and stops once it reports nothing active (no
    job running, or the runner closed), or on :meth:`stop`; the bar then shows its final state.
    *poll* runs on that thread: it must only read counters, never the database.

    In a notebook the bar is displayed when this is made; showing the object again in a later cell
    displays another view of the same live bar (shown as a cell's value in the cell that made it,
    it adds nothing).

    Parameters
    ----------
    poll : callable
        Returns the current :class:`Counts`.
    bar : Bar
        A bar from :func:`make_bar`.
    interval : float
        Seconds between updates.
    """

    def __init__(self, poll: Callable[[], Counts], bar: Bar, interval: float = 0.5) -> None:
        if not interval > 0:
            raise TiepointError(f"progress interval must be > 0 s, got {interval}")
        self._poll = poll
        self.bar = bar
        self.interval = float(interval)
        self.updates = 0
        """How many times the thread updated the bar."""
        self.final: str | None = None
        """``"done"``, ``"closed"`` or ``"stopped"`` once the thread has ended."""
        self.last = poll()
        self._stop = threading.Event()
        self._made_in = _execution_count()
        bar.update(self.last)
        self._thread = threading.Thread(target=self._run, name="tiepoint-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        counts, final = self.last, "stopped"
        try:
            while not self._stop.is_set():
                counts = self.last = self._poll()
                if not counts.active:
                    final = "closed" if counts.closed else "done"
                    break
                self.bar.update(counts)
                self.updates += 1
                self._stop.wait(self.interval)
        except Exception:  # a display that broke: the jobs go on, say why the bar stopped
            logger.exception("the progress bar stopped")
        finally:
            try:
                self.bar.finish(counts, final)
            except Exception:
                logger.exception("the progress bar could not show its final state")
            self.final = final

    @property
    def running(self) -> bool:
        """Whether the bar is still being updated."""
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the bar stops (at most *timeout* seconds); True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Stop updating the bar (the jobs go on)."""
        self._stop.set()
        self._thread.join()

    def _ipython_display_(self) -> None:
        if self.bar.mode == "rich":  # a terminal IPython: the bar is on the terminal already
            print(repr(self))
        elif _execution_count() != self._made_in:  # the cell that made the bar shows it already
            self.bar.show()

    def __repr__(self) -> str:
        state = "following" if self.running else (self.final or "stopped")
        return f"<LiveProgress {self.bar.mode} {self.last.completed}/{self.last.total}, {state}>"


__all__ = [
    "ENV_VAR",
    "MODES",
    "Bar",
    "BarView",
    "Counts",
    "HtmlBar",
    "LiveProgress",
    "RichBar",
    "WidgetBar",
    "choose_mode",
    "describe",
    "elapsed_text",
    "in_notebook",
    "make_bar",
]
