"""Descriptor distances, vectorized: L2 for SIFT (uint8 or float32), Hamming for binary ORB/AKAZE.

:class:`Descriptors` wraps one image's descriptor array with its norm and gives distances for a list
of index pairs (:meth:`Descriptors.pairs`, the gated matcher's candidates) or for a dense block
(:meth:`Descriptors.dense`, brute force through BLAS). Exactness:

* L2 on uint8: differences and squares in integers (exact), square root in float32;
* L2 on float32: ``|a|^2 + |b|^2 - 2 a.b`` in float32 (dense) or the difference (pairs);
* Hamming: XOR and popcount (pairs), or ``(bits - s_a . s_b) / 2`` with the bits as +-1 floats
  (dense; exact, since the dot products are small integers).
"""

from __future__ import annotations

import numpy as np

from tiepoint.errors import MatchingError

NORMS = ("l2", "hamming")
PAIR_CHUNK = 65536
"""Index pairs per gathered block in :meth:`Descriptors.pairs` (bounds temporary memory)."""
DENSE_SHARE = 0.05
""":meth:`Descriptors.pairs` computes whole rows through BLAS when the pairs are at least this share of
(rows asked x ``len(other)``): a dense distance costs ~1/50 of a gathered one (the gated matcher's
pilot at 800 keypoints per km^2: 12 % of the rows' distances, 1.25 M pairs, 10x faster dense)."""
DENSE_BLOCK_BYTES = 64 * 2**20


class Descriptors:
    """One side's descriptors, prepared for distances under ``norm``.

    Parameters
    ----------
    data : ndarray, shape (N, D)
        uint8 or float32 (L2), or uint8 packed bits (Hamming).
    norm : {"l2", "hamming"}

    Raises
    ------
    MatchingError
        Unknown norm, not a 2-D array, or binary descriptors that are not uint8.
    """

    def __init__(self, data: np.ndarray, norm: str) -> None:
        if norm not in NORMS:
            raise MatchingError(f"unknown descriptor norm {norm!r}; known: {list(NORMS)}")
        data = np.ascontiguousarray(data)
        if data.ndim != 2:
            raise MatchingError(f"descriptors must be a 2-D array, got shape {data.shape}")
        if norm == "hamming" and data.dtype != np.uint8:
            raise MatchingError(f"binary descriptors must be packed uint8, got {data.dtype}")
        self.norm = norm
        self.data = data
        self._float: np.ndarray | None = None
        self._sq: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        """Descriptor length in elements (bytes for binary descriptors)."""
        return int(self.data.shape[1])

    def subset(self, rows: np.ndarray) -> Descriptors:
        """The descriptors of ``rows`` (an index array or boolean mask)."""
        return Descriptors(self.data[rows], self.norm)

    def _dense_operand(self) -> tuple[np.ndarray, np.ndarray]:
        """float32 rows for BLAS and their squared norms (L2) or +-1 bits (Hamming)."""
        if self._float is None:
            if self.norm == "hamming":
                self._float = np.unpackbits(self.data, axis=1).astype(np.float32) * 2.0 - 1.0
                self._sq = np.zeros(len(self), np.float32)
            else:
                self._float = self.data.astype(np.float32)
                self._sq = np.einsum("ij,ij->i", self._float, self._float)
        return self._float, self._sq  # type: ignore[return-value]

    def dense(self, other: Descriptors, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Distances of ``self[rows]`` to every descriptor of ``other``, shape (len(rows), len(other)).

        Raises
        ------
        MatchingError
            The two sides have different norms or widths.
        """
        self._check(other)
        a, sa = self._dense_operand()
        b, sb = other._dense_operand()
        dot = a[rows] @ b.T
        if self.norm == "hamming":
            return (a.shape[1] - dot) * np.float32(0.5)
        d2 = sa[rows][:, None] + sb[None, :] - 2.0 * dot
        return np.sqrt(np.maximum(d2, 0.0, out=d2), out=d2)

    def pairs(self, other: Descriptors, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Distances between ``self[i[k]]`` and ``other[j[k]]`` for every k, float32 of len(i).

        Raises
        ------
        MatchingError
            The two sides have different norms or widths, or ``i`` and ``j`` differ in length.
        """
        self._check(other)
        i = np.asarray(i, dtype=np.intp)
        j = np.asarray(j, dtype=np.intp)
        if i.shape != j.shape:
            raise MatchingError(f"{len(i)} first indices but {len(j)} second indices")
        out = np.empty(len(i), np.float32)
        rows = np.unique(i)
        if len(i) >= DENSE_SHARE * len(rows) * len(other) and len(i):
            pos = np.searchsorted(rows, i)
            block = max(1, DENSE_BLOCK_BYTES // (4 * len(other)))
            for start in range(0, len(rows), block):
                mine = (pos >= start) & (pos < start + block)
                dist = self.dense(other, rows[start : start + block])
                out[mine] = dist[pos[mine] - start, j[mine]]
            return out
        for start in range(0, len(i), PAIR_CHUNK):
            part = slice(start, start + PAIR_CHUNK)
            a, b = self.data[i[part]], other.data[j[part]]
            if self.norm == "hamming":
                out[part] = np.bitwise_count(a ^ b).sum(axis=1, dtype=np.int32)
            elif a.dtype == np.uint8:
                diff = a.astype(np.int16) - b.astype(np.int16)
                out[part] = np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.int32))
            else:
                diff = a.astype(np.float32) - b.astype(np.float32)
                out[part] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return out

    def _check(self, other: Descriptors) -> None:
        if other.norm != self.norm or other.width != self.width:
            raise MatchingError(
                f"cannot compare {self.norm} descriptors of width {self.width} with {other.norm} "
                f"descriptors of width {other.width} (keypoints of different extractors?)"
            )
