"""The :class:`NetworkRegistrar`: sub-pixel registration of the network's measures on a Dask cluster.

A thin :class:`~tiepoint.dispatch.runner.JobRunner` of the :data:`~tiepoint.dispatch.kinds.REGISTER`
kind. One job per image that has measures waiting (key: the image's path): the dispatcher builds a
:class:`~tiepoint.records.RegistrationTask` from the ``measures`` table (the image's pending measures,
their reference measures' images and positions, the cameras), the worker registers them with
windowed chip reads (:func:`tiepoint.network.job.register_image`), and the dispatcher writes the
results into the measure rows and updates the points' ``ignore`` flags. Retries, attempt history,
resume, spool and the single database writer are the runner's, as for ingest and matching.
"""

from __future__ import annotations

import os
from pathlib import Path

from tiepoint.dispatch.kinds import REGISTER, JobKind
from tiepoint.dispatch.runner import JobRunner


class NetworkRegistrar(JobRunner):
    """Register the network's pending measures, with jobs on a Dask cluster.

    Parameters
    ----------
    config : path, dict, Config or None
        The configuration (see :func:`tiepoint.config.load_config`); ``network.registration`` says
        how measures are registered.
    job, client, spool_dir, resume, heartbeat, stale_after
        See :class:`~tiepoint.dispatch.runner.JobRunner`.

    Examples
    --------
    >>> with NetworkRegistrar("tiepoint.yml") as reg:   # doctest: +SKIP
    ...     reg.register_pending()
    ...     reg.wait(progress=True)
    ...     reg.failed_jobs                             # image paths whose job failed for good
    """

    kind: JobKind = REGISTER

    def register_pending(self, force: bool = False) -> list[str]:
        """Queue one job per image with measures waiting for registration; returns at once.

        Parameters
        ----------
        force : bool
            Register every measure again (from its a-priori position): registered and failed
            measures are put back to ``pending`` first.

        Returns
        -------
        list of str
            The image paths queued.
        """
        if force:
            self._call(self.db.reset_registration)
        keys = self._call(self.db.images_to_register)
        return self.submit(keys, force=force)

    def register_image(self, path: str | os.PathLike[str], force: bool = False) -> list[str]:
        """Queue the registration of one image's measures; returns at once.

        Returns
        -------
        list of str
            The path if a job was queued (it has measures waiting, or *force*), else an empty list.
        """
        key = str(Path(path).resolve())
        if force:
            self._call(self.db.reset_registration, [key])
        return self.submit([key], force=force)


__all__ = ["NetworkRegistrar"]
