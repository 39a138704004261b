"""PVL text in ISIS's style: keyword alignment, quoting and ``Null`` for empty values.

Used for the 65,536-byte label of binary networks and for the PVL text network format. ISIS pads
keyword names to the longest name in their object or group, quotes values containing spaces or
any of ``(){},=`` (or ending in ``-``), and writes an empty value as ``Null``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from tiepoint.cnet.model import CnetError

_NEEDS_QUOTES = set(" (){},=\t")
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>/\*.*?\*/|\#[^\n]*)|(?P<quoted>"[^"]*"|'[^']*')|(?P<units><[^<>]*>)
      |(?P<delim>[=(){},])|(?P<word>[^\s=(){},<>"'#]+)""",
    re.VERBOSE | re.DOTALL,
)


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


class Node:
    """A PVL object or group: raw keyword values (str, None for unquoted Null, or list) and children."""

    __slots__ = ("children", "keys", "kind", "name")

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.keys: dict[str, Any] = {}
        self.children: list[Node] = []


def parse_raw(text: str, path: str = "") -> Node:
    """Parse PVL keeping values as their raw text (dates, clock counts and ids stay strings).

    Values are str (quotes removed), None (unquoted ``Null``) or lists of those; units are dropped.
    Keyword names are lower-cased in ``Node.keys``.

    Raises
    ------
    CnetError
        If the text is not PVL.
    """
    text = re.sub(r"-[\n\r]\s*", "", text)
    toks: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise CnetError(f"the PVL text cannot be read at character {pos}: {text[pos : pos + 20]!r}", path)
        if m.lastgroup not in ("ws", "comment"):
            toks.append((m.lastgroup, m.group()))  # type: ignore[arg-type]
        pos = m.end()
    i = 0

    def value() -> Any:
        nonlocal i
        kind, tok = toks[i]
        i += 1
        if tok in "({":
            items = []
            while toks[i][1] not in ")}":
                items.append(value())
                if toks[i][1] == ",":
                    i += 1
            i += 1
            out: Any = items
        elif kind == "quoted":
            out = tok[1:-1]
        elif kind == "word":
            out = None if tok.lower() == "null" else tok
        else:
            raise CnetError(f"unexpected {tok!r} in the PVL text", path)
        if i < len(toks) and toks[i][0] == "units":
            i += 1
        return out

    root = Node("Root", "")
    stack = [root]
    try:
        while i < len(toks):
            word = toks[i][1]
            low = word.lower()
            if low == "end":
                break
            if low in ("end_object", "end_group"):
                i += 1
                if len(stack) == 1:
                    raise CnetError(f"unmatched {word} in the PVL text", path)
                stack.pop()
                if i < len(toks) and toks[i][1] == "=":
                    i += 2
                continue
            if toks[i + 1][1] != "=":
                raise CnetError(f"expected '=' after {word!r} in the PVL text", path)
            i += 2
            if low in ("object", "group", "begin_object", "begin_group"):
                node = Node("Object" if "object" in low else "Group", toks[i][1].strip("\"'"))
                i += 1
                stack[-1].children.append(node)
                stack.append(node)
            else:
                stack[-1].keys[word.lower()] = value()
    except IndexError:
        raise CnetError("the PVL text ends inside a keyword or block (truncated?)", path) from None
    if len(stack) > 1:
        raise CnetError(f"the PVL text ends inside {stack[-1].kind} {stack[-1].name!r} (truncated?)", path)
    return root
