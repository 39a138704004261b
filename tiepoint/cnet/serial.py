"""ISIS serial numbers: how control networks name images.

A measure identifies its image only by the image's serial number, which ISIS builds from the cube
label with a per-mission rule: ``<spacecraft>/<instrument>/<clock count or start time>[/...]``,
each part read from a label keyword and possibly translated (``Mars_Reconnaissance_Orbiter`` ->
``MRO``). Cubes initialised for a CSM camera (a ``CsmInfo`` group) use
``<CSMPlatformID>/<CSMInstrumentId>/<ReferenceTime>``. The rules below are tiepoint's own table of
common missions, written from the rules ISIS documents in its serial-number translation tables;
an image of any other mission, a label without the needed keywords, or a non-ISIS image gets its
file stem.

Values are taken from the label text as written (``StartTime = 1971-07-31T01:25:02.243`` stays that
string), and translations compare case-insensitively, as ISIS does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tiepoint.cnet import pvl_text
from tiepoint.cnet.model import CnetError
from tiepoint.errors import ImageError

ANY = "*"


@dataclass(frozen=True, slots=True)
class Part:
    """One ``/``-separated part of a serial number."""

    keyword: str
    """Label keyword holding the value."""
    group: str = "Instrument"
    """Group of ``IsisCube`` that holds it."""
    translations: tuple[tuple[str, str], ...] = ((ANY, ANY),)
    """(output, input) pairs tried in order; input ``*`` matches anything, output ``*`` keeps the value."""
    optional: bool = False
    """Left out (not an error) when the keyword is missing."""


@dataclass(frozen=True, slots=True)
class Rule:
    """The serial-number rule of one mission's instrument."""

    spacecraft: frozenset[str]
    """``SpacecraftName`` values (upper-case) the rule applies to."""
    instruments: frozenset[str]
    """``InstrumentId`` values (upper-case); empty: any."""
    parts: tuple[Part, ...]


def _rule(spacecraft: set[str], instruments: set[str], *parts: Part) -> Rule:
    return Rule(frozenset(s.upper() for s in spacecraft), frozenset(i.upper() for i in instruments), parts)


_MRO = {"Mars_Reconnaissance_Orbiter", "MARS RECONNAISSANCE ORBITER"}
_INSTRUMENT = Part("InstrumentId")
RULES: tuple[Rule, ...] = (
    *(
        _rule(
            {f"APOLLO {n}", f"APOLLO{n}"},
            {"METRIC"},
            Part("SpacecraftName", translations=((f"APOLLO{n}", ANY),)),
            _INSTRUMENT,
            Part("StartTime"),
        )
        for n in (15, 16, 17)
    ),
    _rule(
        _MRO,
        {"CTX"},
        Part("SpacecraftName", translations=(("MRO", "Mars_Reconnaissance_Orbiter"), (ANY, ANY))),
        _INSTRUMENT,
        Part("SpacecraftClockCount"),
    ),
    _rule(
        _MRO,
        {"HIRISE"},
        Part("SpacecraftName", translations=(("MRO", "MARS RECONNAISSANCE ORBITER"),)),
        _INSTRUMENT,
        Part("ObservationStartCount"),
        Part("CcdId"),
        Part("ChannelNumber"),
    ),
    _rule(
        _MRO,
        {"CRISM"},
        Part("SpacecraftName", translations=(("MRO", "MARS RECONNAISSANCE ORBITER"), (ANY, ANY))),
        _INSTRUMENT,
        Part("SpacecraftClockStartCount"),
    ),
    _rule(
        {"LUNAR RECONNAISSANCE ORBITER"},
        {"NACL", "NACR"},
        Part("SpacecraftName", translations=(("LRO", "LUNAR RECONNAISSANCE ORBITER"), (ANY, ANY))),
        Part("SpacecraftClockStartCount"),
        _INSTRUMENT,
    ),
    _rule(
        {"KAGUYA", "SELENE", "SELENE-M"},
        {"TC", "TC1", "TC2"},
        Part("SpacecraftName"),
        Part("InstrumentId", translations=(("TC1", "TC"), (ANY, ANY))),
        Part("StartTime"),
    ),
    _rule(
        {"KAGUYA", "SELENE", "SELENE-M"},
        {"MI-VIS", "MI-NIR"},
        Part("SpacecraftName"),
        _INSTRUMENT,
        Part("StartTime"),
    ),
    _rule(
        {"MARS_ODYSSEY"},
        {"THEMIS_IR", "THEMIS_VIS"},
        Part("SpacecraftName", translations=(("Odyssey", "MARS_ODYSSEY"), (ANY, ANY))),
        Part("InstrumentId", translations=(("themis", "THEMIS-IR"), (ANY, ANY))),
        Part("SpacecraftClockCount"),
        Part("Framelets", optional=True),
    ),
    _rule(
        {"MARS EXPRESS", "MARS_EXPRESS"},
        {"HRSC"},
        Part("SpacecraftName", translations=(("MEX", "MARS EXPRESS"), ("MEX", "MARS_EXPRESS"), (ANY, ANY))),
        Part("SpacecraftClockStartCount"),
        _INSTRUMENT,
        Part("DetectorId", group="Archive"),
    ),
    _rule(
        {"MARS GLOBAL SURVEYOR", "MARSGLOBALSURVEYOR"},
        {"MOC-NA", "MOC-WA"},
        Part(
            "SpacecraftName",
            translations=(("MGS", "MARSGLOBALSURVEYOR"), ("MGS", "MARS GLOBAL SURVEYOR"), (ANY, ANY)),
        ),
        Part("SpacecraftClockCount"),
        _INSTRUMENT,
        Part("FilterName", group="BandBin"),
    ),
    _rule(
        {"MESSENGER"},
        {"MDIS-NAC", "MDIS-WAC"},
        Part("SpacecraftName", translations=(("MeSSEnGeR", "Messenger"), (ANY, ANY))),
        _INSTRUMENT,
        Part("SpacecraftClockCount"),
    ),
    _rule(
        {"TRACE GAS ORBITER"},
        {"CASSIS", "CaSSIS"},
        Part("SpacecraftName", translations=(("TGO", "TRACE GAS ORBITER"),)),
        Part("InstrumentId", translations=(("CaSSIS", ANY),)),
        Part("StartTime"),
        Part("Filter"),
    ),
    *(
        _rule(
            {f"VIKING_ORBITER_{n}"},
            {f"VISUAL_IMAGING_SUBSYSTEM_CAMERA_{c}"},
            Part("SpacecraftName", translations=((f"Viking{n}", f"VIKING_ORBITER_{n}"), (ANY, ANY))),
            Part(
                "InstrumentId", translations=((f"VIS{c}", f"VISUAL_IMAGING_SUBSYSTEM_CAMERA_{c}"), (ANY, ANY))
            ),
            Part("SpacecraftClockCount"),
        )
        for n in (1, 2)
        for c in ("A", "B")
    ),
    _rule(
        {"CASSINI-HUYGENS", "CASSINI"},
        {"ISSNA", "ISSWA"},
        Part("SpacecraftName", translations=(("Cassini", "CASSINI"), (ANY, ANY))),
        _INSTRUMENT,
        Part("SpacecraftClockCount"),
    ),
    _rule(
        {"DAWN"},
        {"FC1", "FC2"},
        Part("SpacecraftName", translations=(("DAWN", "DAWN"), (ANY, ANY))),
        _INSTRUMENT,
        Part("SpacecraftClockStartCount"),
    ),
)
CSM_RULE = (
    Part("CSMPlatformID", "CsmInfo"),
    Part("CSMInstrumentId", "CsmInfo"),
    Part("ReferenceTime", "CsmInfo"),
)
"""Serial of cubes with a ``CsmInfo`` group (ISIS ``csminit``)."""


def _translate(part: Part, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    for output, match in part.translations:
        if match == ANY or match.casefold() == value.casefold():
            return value if output == ANY else output
    return None


def _groups(label: pvl_text.Node) -> dict[str, dict[str, object]]:
    cubes = [c for c in label.children if c.name.lower() == "isiscube"]
    if not cubes:
        return {}
    return {g.name.lower(): g.keys for g in cubes[0].children if g.kind == "Group"}


def _compose(groups: dict[str, dict[str, object]], parts: tuple[Part, ...]) -> str | None:
    out = []
    for part in parts:
        raw = groups.get(part.group.lower(), {}).get(part.keyword.lower())
        if isinstance(raw, list):
            raw = ",".join(str(v) for v in raw)
        value = _translate(part, None if raw is None else str(raw))
        if value is None:
            if part.optional:
                continue
            return None
        out.append(value)
    return "/".join(out)


def serial_from_label(text: str, fallback: str) -> str:
    """The serial number from ISIS cube label *text*, or *fallback* when no rule applies."""
    try:
        groups = _groups(pvl_text.parse_raw(text))
    except CnetError:
        return fallback
    if "csminfo" in groups:
        return _compose(groups, CSM_RULE) or fallback
    inst = groups.get("instrument", {})
    spacecraft = str(inst.get("spacecraftname") or "").upper()
    instrument = str(inst.get("instrumentid") or "").upper()
    for rule in RULES:
        if spacecraft in rule.spacecraft and (not rule.instruments or instrument in rule.instruments):
            return _compose(groups, rule.parts) or fallback
    return fallback


def serial_number(path: str | os.PathLike[str]) -> str:
    """The ISIS serial number of an image, or its file stem when ISIS would not make one.

    Parameters
    ----------
    path : path
        An ISIS cube (attached label) or any other image file.

    Raises
    ------
    ImageError
        If the file does not exist.
    """
    from tiepoint.io.isis_label import is_isis_label, read_label_text

    path = Path(path)
    if not path.is_file():
        raise ImageError("no such file", path)
    with open(path, "rb") as f:
        head = f.read(4096)
    if not is_isis_label(head):
        return path.stem
    try:
        text = read_label_text(path)
    except ImageError:
        return path.stem
    return serial_from_label(text, path.stem)
