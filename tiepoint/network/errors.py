"""The network stage's error: bad input to tracks, a-priori points or registration."""

from __future__ import annotations

from tiepoint.errors import TiepointError


class NetworkError(TiepointError):
    """Input the network stage cannot use (malformed match arrays, a camera missing for an image, ...).

    A measure that fails to register is not an error: it is a :class:`~tiepoint.network.register.Registration`
    with a non-``ok`` status.
    """


__all__ = ["NetworkError"]
