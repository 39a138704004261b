"""Shared data of the matching tests: synthetic CTX images with a 300 m a-priori pointing error.

Five real CTX geometries are rendered at 800 x 800 through *truth* cameras biased by 300 m (each
in its own direction); the sidecar ISDs are the unbiased a-priori cameras, so matching sees what it
would see on real data, and the truth cameras give every keypoint's true correspondence.
"""

from __future__ import annotations

import pytest
from match_data import B10, ERROR_M, G02, K12, N06, N12, SIZE, Rendered


@pytest.fixture(scope="session")
def ctx(tmp_path_factory, ctx_isd_dir) -> Rendered:
    from tiepoint.synthetic import synthesize

    folder = tmp_path_factory.mktemp("ctx-pe300")
    names = [G02, N06, B10, K12, N12]
    results = {n: synthesize(ctx_isd_dir / f"{n}.json", folder, lines=SIZE, samples=SIZE,
                             pointing_error_m=ERROR_M, seed=1) for n in names}  # fmt: skip
    return Rendered(folder, results)
