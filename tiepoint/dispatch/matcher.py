"""The :class:`PairMatcher`: match every overlapping pair of ingested images on a Dask cluster.

A thin :class:`~tiepoint.dispatch.runner.JobRunner` of the :data:`~tiepoint.dispatch.kinds.MATCH`
kind. Its dispatcher thread first brings the overlap graph up to date
(:meth:`Database.update_overlaps`: only the images ingested since the last update get their pairs,
through the spatial index), then runs one job per pair: :func:`tiepoint.matching.job.match_pair` on
a worker reads the two keypoint files and writes the pair's match file; the dispatcher writes the
:class:`~tiepoint.records.PairRecord` into the ``pairs`` table. Retries, attempt history, resume,
spool and the single database writer are the runner's, as for ingest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tiepoint.dispatch.kinds import MATCH, JobKind
from tiepoint.dispatch.runner import JobRunner
from tiepoint.errors import MatchingError

PairPaths = tuple[str, str]
"""``(path_a, path_b)`` of a pair, image a being the one with the smaller id."""


class PairMatcher(JobRunner):
    """Match the overlapping pairs of ingested images, with jobs on a Dask cluster.

    Parameters
    ----------
    config : path, dict, Config or None
        The configuration (see :func:`tiepoint.config.load_config`); the ``matching`` section says
        which pairs (``matching.pairs``), how descriptors match, how matches are verified and thinned.
    job, client, spool_dir, resume, heartbeat, stale_after
        See :class:`~tiepoint.dispatch.runner.JobRunner`.

    Examples
    --------
    >>> with PairMatcher("tiepoint.yml") as pm:        # doctest: +SKIP
    ...     pm.match_overlaps()
    ...     pm.wait(progress=True)
    ...     pm.job_status                               # {(path_a, path_b): True | failures}
    """

    kind: JobKind = MATCH

    def match_overlaps(self, force: bool = False) -> list[PairPaths]:
        """Update the overlap graph and queue every overlapping pair not yet matched; returns at once.

        Parameters
        ----------
        force : bool
            Match again pairs that have a result already (e.g. after changing ``matching``).

        Returns
        -------
        list of (path_a, path_b)
            The pairs queued.
        """
        keys = self._call(self._pairs_to_match, force)
        return self._public_keys(self.submit(keys, force=force))

    def match_pair(
        self, path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], force: bool = False
    ) -> list[PairPaths]:
        """Queue one pair of ingested images; returns at once.

        Returns
        -------
        list of (path_a, path_b)
            The pair if a job was queued, else an empty list (already matched or queued).

        Raises
        ------
        MatchingError
            If the two images are not an overlapping pair of the database (not ingested, or their
            footprints do not overlap by ``matching.pairs.min_overlap_km2``).
        """
        key = self._call(self._key_of, self._resolve(path_a), self._resolve(path_b))
        return self._public_keys(self.submit([key], force=force))

    def inspect(self, path_a: str | os.PathLike[str], path_b: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Every attempt at matching the pair of *path_a* and *path_b* (either order), oldest first.

        Returns the same dicts as :meth:`~tiepoint.dispatch.runner.JobRunner.inspect_key`.
        """
        key = self._call(self._key_of, self._resolve(path_a), self._resolve(path_b))
        return self.inspect_key(key)

    # ------------------------------------------------------------------ keys

    @staticmethod
    def _resolve(path: str | os.PathLike[str]) -> str:
        return str(Path(path).resolve())

    def _pairs_to_match(self, force: bool) -> list[str]:
        """Bring the overlap graph up to date, then the keys of the pairs to match (dispatcher thread)."""
        self.db.update_overlaps(None, self.config.matching.pairs)
        return self.db.pairs_to_match(force=force)

    def _key_of(self, path_a: str, path_b: str) -> str:
        self.db.update_overlaps([path_a, path_b], self.config.matching.pairs)
        pair = self.db.find_pair(path_a, path_b)
        if pair is None:
            raise MatchingError(
                f"{path_a} and {path_b} are not an overlapping pair of the database (both ingested, "
                f"footprints overlapping by at least {self.config.matching.pairs.min_overlap_km2} km^2?)"
            )
        return pair.key

    def _public_keys(self, keys: Sequence[str]) -> list[Any]:
        if not keys:
            return []
        paths = self._call(self.db.pair_paths, list(keys))
        return [paths.get(k, k) for k in keys]

    def _key_names(self, keys: Sequence[str]) -> list[str]:
        paths = self.db.pair_paths(list(keys))
        return [" & ".join(Path(p).name for p in paths[k]) if k in paths else k for k in keys]


__all__ = ["PairMatcher"]
