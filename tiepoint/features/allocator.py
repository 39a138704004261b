"""Keep the C heap between tiles: glibc's default returns freed memory to the kernel as it goes.

Tiled SIFT allocates and frees the same ~40 MB of pyramid buffers for every tile. With glibc's
adaptive defaults (or Dask's ``MALLOC_TRIM_THRESHOLD_``) much of it is unmapped or trimmed after each
tile and faulted back in, zero-filled, for the next one: measured, that made extraction on 384 px
tiles ~35% slower than in a process whose heap had already grown (``bench/bench_features.py``).
:func:`keep_heap` fixes glibc's thresholds so blocks up to 32 MiB come from the heap and up to
:data:`TRIM_BYTES` of free heap is kept: the process holds at most that much memory it is not using.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_BYTES = 32 << 20
"""Blocks below this come from the heap (glibc's largest allowed mmap threshold on 64-bit)."""
TRIM_BYTES = 128 << 20
"""Free memory at the top of the heap beyond this is returned to the kernel."""

_done: bool | None = None


def keep_heap() -> bool:
    """Set glibc's malloc thresholds once per process (see the module docstring).

    Returns
    -------
    bool
        True if they are set (glibc on Linux), False where there is nothing to set.
    """
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):  # not glibc (musl has no mallopt)
                return False
            mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            mmap_set = bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES))
            _done = mmap_set and bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))
    return _done
