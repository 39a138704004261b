"""The :class:`ImageAdder`: queue images for ingestion on a Dask cluster and record the results.

A thin :class:`~tiepoint.dispatch.runner.JobRunner` of the :data:`~tiepoint.dispatch.kinds.INGEST`
kind: one job per image path runs :func:`tiepoint.ingest.ingest_image` on a worker; the runner's
dispatcher thread writes the :class:`~tiepoint.records.ImageRecord` with
:meth:`Database.write_images`, retries, keeps the ledger and resumes the ingest jobs of a
dispatcher that is gone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tiepoint.dispatch.kinds import INGEST, JobKind
from tiepoint.dispatch.paths import scan_images
from tiepoint.dispatch.runner import HEARTBEAT_SECONDS, STALE_HEARTBEATS, JobRunner, dispatcher_is_alive
from tiepoint.errors import ImageError

logger = logging.getLogger(__name__)


class ImageAdder(JobRunner):
    """Ingest images into the tiepoint database with jobs on a Dask cluster.

    Parameters
    ----------
    config : path, dict, Config or None
        The configuration (see :func:`tiepoint.config.load_config`); None reads
        ``$TIEPOINT_CONFIG``, then ``./tiepoint.yml``, then the defaults.
    job : callable, optional
        ``job(path, config) -> ImageRecord``, run on the workers; default
        :func:`tiepoint.ingest.ingest_image`. It must be importable by the workers. If it takes a
        ``force`` keyword, forced jobs get ``force=True``.
    client, spool_dir, resume, heartbeat, stale_after
        See :class:`~tiepoint.dispatch.runner.JobRunner`.

    Examples
    --------
    >>> ia = ImageAdder("tiepoint.yml")                       # doctest: +SKIP
    >>> ia.add_images("/data/ctx/cal/", "cub")                # doctest: +SKIP
    >>> ia.wait(progress=True); ia.failed_jobs                # doctest: +SKIP
    """

    kind: JobKind = INGEST

    def add_image(self, path: str | os.PathLike[str], force: bool = False) -> list[str]:
        """Queue one image; returns at once.

        Parameters
        ----------
        path : path
            The image file.
        force : bool
            Ingest again even if the database already holds the image.

        Returns
        -------
        list of str
            The absolute path if a job was queued, else an empty list (already ingested or queued).

        Raises
        ------
        ImageError
            If *path* is not an existing file.
        """
        p = os.fspath(path)
        if not os.path.isfile(p):
            problem = "is a directory, not an image file" if os.path.isdir(p) else "no such file"
            raise ImageError(problem, p)
        return self.add_images([p], force=force)

    def add_images(
        self,
        directory_or_glob_or_list: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        extension: str | None = None,
        force: bool = False,
    ) -> list[str]:
        """Queue every image of a directory, a glob pattern or a list; returns at once.

        Images already in the database are skipped unless *force*; so are images this adder is
        already working on (unless *force* and that job is not forced). An entry that is not a
        readable file (a directory named like an image, a dangling or looping symbolic link, a
        listed path that does not exist) is recorded as a failed job naming the problem, with a
        warning; the other images are queued all the same.

        Parameters
        ----------
        directory_or_glob_or_list : path, glob pattern or iterable of paths
            See :func:`tiepoint.dispatch.paths.scan_images`.
        extension : str, optional
            File extension (``"cub"`` or ``".cub"``).
        force : bool
            Ingest again images the database already holds.

        Returns
        -------
        list of str
            The absolute paths queued.
        """
        found = scan_images(directory_or_glob_or_list, extension)
        if found.rejected:
            self._call(self._record_rejected, [(p, "ImageError", why) for p, why in found.rejected])
        if not found.paths:
            if not found.rejected:
                logger.warning("no images found in %s", directory_or_glob_or_list)
            return []
        return self.submit(found.paths, force=force)

    def inspect(self, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Every attempt at ingesting *path*, oldest first.

        Returns
        -------
        list of dict
            Keys ``job``, ``kind``, ``key``, ``attempt``, ``state``, ``force``, ``dispatcher``,
            ``host``, ``worker``, ``started``, ``finished``, ``error`` (``"Type: message"`` or None),
            ``error_type``, ``error_message``, ``traceback``, ``log``.
        """
        return self.inspect_key(str(Path(path).resolve()))


__all__ = ["HEARTBEAT_SECONDS", "STALE_HEARTBEATS", "ImageAdder", "dispatcher_is_alive"]
