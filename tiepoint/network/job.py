"""The registration job: a :class:`~tiepoint.records.RegistrationTask` in, a
:class:`~tiepoint.records.RegistrationRecord` out.

:func:`register_image` is what a dispatcher runs on each worker (as
:func:`tiepoint.ingest.ingest_image` is for images): it opens the task's image once and each
reference image once, and registers the measures of each reference image with
:func:`tiepoint.network.register_measures` (windowed reads of chips, never whole images). It opens
no database connection and imports nothing of :mod:`tiepoint.db`; the dispatcher writes the record.
A chip that fails is a status in the record; an image that cannot be read fails the job.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tiepoint.records import RegistrationRecord, RegistrationTask


def register_image(task: RegistrationTask, config: Any = None) -> RegistrationRecord:
    """Register the measures of one image to their points' reference measures.

    Parameters
    ----------
    task : RegistrationTask
        What the dispatcher built from the database (image, cameras, measure ids and positions).
    config : Config, JobConfig, NetworkConfig, dict, path or None
        Its ``network.registration`` section is used.

    Returns
    -------
    RegistrationRecord
        One row per measure, in the task's order; ``extra`` holds ``timings`` and ``references``.

    Raises
    ------
    ImageError, CameraError, NetworkError
        An image or camera state cannot be used (naming the file).
    """
    from tiepoint.camera import from_state
    from tiepoint.config import NetworkConfig, config_section, load_job_config
    from tiepoint.io import open_image
    from tiepoint.network.register import RegistrationBatch
    from tiepoint.network.subpixel import register_measures

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    if config is not None and not isinstance(config, dict | NetworkConfig):
        config = load_job_config(config)
    cfg = config_section(config, "network", NetworkConfig).registration
    n = len(task.measure_ids)
    x, y = np.asarray(task.x, float).copy(), np.asarray(task.y, float).copy()
    parts: list[tuple[np.ndarray, RegistrationBatch, np.ndarray, np.ndarray]] = []
    if n:
        camera = from_state(task.camera)
        reference = np.asarray(task.reference)
        with open_image(task.image) as image:
            for k, (ref_path, ref_state) in enumerate(task.references):  # one pass per reference image
                sel = np.flatnonzero(reference == k)
                if not len(sel):
                    continue
                with open_image(ref_path) as ref_image:
                    result = register_measures(
                        ref_image, image, from_state(ref_state), camera,
                        np.asarray(task.ref_x)[sel], np.asarray(task.ref_y)[sel], x[sel], y[sel], cfg,
                        height=np.asarray(task.height)[sel],
                    )  # fmt: skip
                parts.append((sel, result.registration, result.x, result.y))
    batch = RegistrationBatch.failed(n, "outside")
    rx, ry = x.copy(), y.copy()
    if parts:
        order = np.concatenate([sel for sel, *_ in parts])
        joined = RegistrationBatch.concatenate([b for _, b, *_ in parts])
        inverse = np.empty(n, np.int64)
        inverse[order] = np.arange(len(order))
        batch = joined.take(inverse)
        rx = np.concatenate([px for *_, px, _ in parts])[inverse]
        ry = np.concatenate([py for *_, py in parts])[inverse]
    return RegistrationRecord(
        key=task.key,
        image=task.image,
        measure_ids=np.asarray(task.measure_ids, dtype=np.int64),
        status=batch.status,
        x=rx,
        y=ry,
        dx=batch.dx,
        dy=batch.dy,
        ncc=batch.ncc,
        ncc_second=batch.ncc_second,
        disagreement_px=batch.disagreement_px,
        texture=batch.texture,
        started=started,
        finished=datetime.now(UTC),
        host=socket.gethostname(),
        extra={"timings": {"total": time.perf_counter() - t0}, "references": len(task.references)},
    )


__all__ = ["register_image"]
