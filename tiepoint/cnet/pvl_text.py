"""PVL text in ISIS's style: keyword alignment, quoting and ``Null`` for empty values.

Used for the 65,536-byte label of binary networks and for the PVL text network format. ISIS pads
keyword names to the longest name in their object or group, quotes values containing spaces or
any of ``(){},=`` (or ending in ``-``), and writes an empty value as ``Null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_NEEDS_QUOTES = set(" (){},=\t")


def quote(value: str) -> str:
    """A value as ISIS writes it."""
    if not value:
        return "Null"
    if value[0] in "({" and value[-1] == {"(": ")", "{": "}"}[value[0]]:
        return value
    if any(c in _NEEDS_QUOTES for c in value) or value.endswith("-"):
        q = "'" if '"' in value else '"'
        return q + value + q
    return value


def number(value: float) -> str:
    """A double that reads back exactly (shortest repr; integers keep a ``.0``)."""
    return repr(float(value))


def keywords(pairs: Sequence[tuple[str, str]], indent: int) -> list[str]:
    """Aligned ``Name = value`` lines; values are written as given (quote them first)."""
    if not pairs:
        return []
    width = max(len(name) for name, _ in pairs)
    pad = " " * indent
    return [f"{pad}{name.ljust(width)} = {value}" for name, value in pairs]


def block(kind: str, name: str, body: Iterable[str], indent: int) -> list[str]:
    """``Object = Name`` / ``Group = Name`` ... ``End_Object`` / ``End_Group``."""
    pad = " " * indent
    return [f"{pad}{kind} = {name}", *body, f"{pad}End_{kind}"]
