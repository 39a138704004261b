"""Fixtures of the control-network tests: the real networks and the protobuf runtime's decoder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cnet_dir(shared_dir: Path) -> Path:
    """Folder of the real ISIS control networks."""
    return shared_dir / "data" / "cnet"


@pytest.fixture(scope="session")
def proto(tmp_path_factory) -> dict[str, type]:
    """Message classes compiled from the official .proto texts (tests/cnet/data)."""
    from cnet_proto import messages

    return messages(str(tmp_path_factory.mktemp("proto")))
