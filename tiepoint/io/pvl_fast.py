"""A fast parser for the PVL subset ISIS3 writes, producing the same objects as ``pvl.loads``.

pvl's character-by-character lexer takes ~0.2 s for a 13 KB ISIS label and ~40 ms for a tiny one.
This parser tokenizes with one regular expression and decodes every simple value with pvl's own
``OmniDecoder`` (so numbers, dates, strings, None and booleans come out exactly as pvl makes them),
building :class:`pvl.PVLModule` / ``PVLObject`` / ``PVLGroup``. Whatever it does not understand
raises :class:`FastPVLError`; callers then fall back to ``pvl.loads``. Blocks nested deeper than
:data:`MAX_DEPTH` raise :class:`PVLDepthError` (no fallback: pvl would hit Python's recursion limit).
"""

from __future__ import annotations

import re
from typing import Any

import pvl
from pvl.decoder import OmniDecoder
from pvl.grammar import OmniGrammar

_DASH = re.compile(r"-[\n\r\f]\s*")  # ISIS line continuation, removed first (as pvl does)
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/|\#[^\n]*)
  | (?P<quoted>"[^"]*"|'[^']*')
  | (?P<units><[^<>]*>)
  | (?P<delim>[=(){},;])
  | (?P<word>[^\s=(){},;<>"'#]+(?:\#[^\s=(){},;<>"'\#]*\#)?)
    """,
    re.VERBOSE | re.DOTALL,
)
_BEGIN = {
    "object": pvl.PVLObject,
    "begin_object": pvl.PVLObject,
    "group": pvl.PVLGroup,
    "begin_group": pvl.PVLGroup,
}
_END = {"end_object": pvl.PVLObject, "end_group": pvl.PVLGroup}
_GRAMMAR = OmniGrammar()
_DECODER = OmniDecoder(grammar=_GRAMMAR)  # what pvl.loads uses
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?\d+\.\d+(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {k.casefold() for k in (_GRAMMAR.none_keyword, _GRAMMAR.true_keyword, _GRAMMAR.false_keyword)}


def _simple(tok: str) -> Any:
    """Decode one simple value as pvl does; plain integers, decimals and identifiers directly."""
    if _INT.fullmatch(tok):
        return int(tok)
    if _FLOAT.fullmatch(tok):
        return float(tok)
    if _IDENT.fullmatch(tok) and tok.casefold() not in _KEYWORDS:
        return tok
    return _DECODER.decode_simple_value(tok)


class FastPVLError(ValueError):
    """The text is outside the subset this parser handles (use ``pvl.loads``)."""


class PVLDepthError(ValueError):
    """Aggregation blocks (``Object``/``Group``) nest deeper than :data:`MAX_DEPTH`.

    Not a :class:`FastPVLError`: ``pvl.loads`` would only fail later with a bare ``RecursionError``.
    """


MAX_DEPTH = 64
"""Deepest ``Object``/``Group`` nesting accepted; ISIS labels nest 3 or 4 deep."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FastPVLError(f"cannot tokenize at character {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind, m.group()))  # type: ignore[arg-type]
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise FastPVLError("unexpected end of text")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        _, tok = self.take()
        if tok != value:
            raise FastPVLError(f"expected {value!r}, found {tok!r}")

    def block(self, container: Any, end: type | None, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise PVLDepthError(f"Object/Group blocks nest more than {MAX_DEPTH} deep")
        while True:
            tok = self.peek()
            if tok is None:
                if end is None:
                    return container
                raise FastPVLError("unterminated aggregation block")
            kind, word = tok
            if kind != "word":
                raise FastPVLError(f"expected a keyword, found {word!r}")
            low = word.lower()
            if low == "end":
                self.take()
                if end is not None:
                    raise FastPVLError("End inside an aggregation block")
                if self.i < len(self.toks):
                    raise FastPVLError("text after End")
                return container
            if low in _END:
                self.take()
                if _END[low] is not end:
                    raise FastPVLError(f"mismatched {word}")
                nxt = self.peek()
                if nxt is not None and nxt[1] == "=":  # END_OBJECT = NAME
                    self.take()
                    self.take()
                return container
            self.take()
            self.expect("=")
            if low in _BEGIN:
                _, name = self.take()
                child = _BEGIN[low]()
                self.block(child, _BEGIN[low], depth + 1)
                container.append(_DECODER.decode_simple_value(name) if name[0] in "\"'" else name, child)
            else:
                container.append(word, self.value())

    def value(self) -> Any:
        kind, tok = self.take()
        if tok == "(" or tok == "{":
            close = ")" if tok == "(" else "}"
            items: list[Any] = []
            if self.peek() is not None and self.peek()[1] == close:  # type: ignore[index]
                self.take()
            else:
                while True:
                    items.append(self.value())
                    _, sep = self.take()
                    if sep == close:
                        break
                    if sep != ",":
                        raise FastPVLError(f"expected ',' or {close!r} in a sequence, found {sep!r}")
            out: Any = items if close == ")" else frozenset(items)
        elif kind in ("word", "quoted"):
            out = _simple(tok)
        else:
            raise FastPVLError(f"expected a value, found {tok!r}")
        nxt = self.peek()
        if nxt is not None and nxt[0] == "units":
            self.take()
            units = nxt[1][1:-1].strip()
            if not units:
                raise FastPVLError("empty units")
            out = _DECODER.decode_quantity(out, units)
        return out


def loads(text: str) -> pvl.PVLModule:
    """Parse ISIS PVL *text* into a :class:`pvl.PVLModule`.

    Raises
    ------
    FastPVLError
        The text is outside the subset handled here (``pvl.loads`` may still read it).
    PVLDepthError
        Blocks nest deeper than :data:`MAX_DEPTH` (no PVL parser should try it).
    """
    text = _DASH.sub("", text)
    return _Parser(_tokens(text)).block(pvl.PVLModule(), None)
