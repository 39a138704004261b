"""The PVL text form of ISIS control networks (``Object = ControlNetwork``), read and write.

Reading accepts PVL versions 1 to 5 (no ``Version`` keyword means 1) and converts the old
keywords as ISIS's ``ControlNetVersioner`` does: point types ``Tie``/``Ground`` become Free/Fixed
(``Held = True`` too), measure types ``Estimated``/``Unmeasured`` become Candidate, ``Automatic``/
``ValidatedManual``/``AutomaticPixel`` RegisteredPixel, ``ValidatedAutomatic``/``AutomaticSubPixel``
RegisteredSubPixel; ``ErrorSample``/``ErrorLine`` are the residuals; ``Reference = True`` sets the
point's reference index; ``ZScore`` and ``ErrorMagnitude`` are dropped; other measure keywords are
log data (``GoodnessOfFit``, ``WholePixelCorrelation``, ...). Version 1's latitude/longitude/radius
points become body-fixed X/Y/Z (spherical, as ISIS's ``SurfacePoint``).

Writing produces version 5 as ISIS's ``cnetbin2pvl`` does (keyword order, ``True`` flags only,
units on coordinates, sigmas and residuals), with doubles in their shortest exact form. The text
format has no place for point log entries or boolean measure log entries; they are not written.

Text networks are small: this module works point by point, unlike the binary codec.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.cnet import pvl_text
from tiepoint.cnet.model import CnetError, ControlNetwork, LogTable, NetworkHeader
from tiepoint.cnet.schema import (
    APRIORI_SOURCES,
    LOG_TYPES,
    MEASURE_FIELDS,
    MEASURE_TYPES,
    POINT_FIELDS,
    POINT_TYPES,
    UNSET,
)

_POINT_TYPE_NAMES = {"tie": 2, "free": 2, "constrained": 3, "ground": 4, "fixed": 4}
_MEASURE_TYPE_NAMES = {
    "candidate": 0,
    "estimated": 0,
    "unmeasured": 0,
    "manual": 1,
    "registeredpixel": 2,
    "automatic": 2,
    "validatedmanual": 2,
    "automaticpixel": 2,
    "registeredsubpixel": 3,
    "validatedautomatic": 3,
    "automaticsubpixel": 3,
}
_SOURCE_NAMES = {k.lower(): v for k, v in APRIORI_SOURCES.items()}
_LOG_NAMES = {k.lower(): v for k, v in LOG_TYPES.items()}
_LOG_BY_CODE = {v: k for k, v in LOG_TYPES.items()}
_DROPPED = {"zscore", "errormagnitude"}


def _flag(raw: Any) -> int:
    return 1 if isinstance(raw, str) and raw.lower() in ("true", "yes", "1") else 0


def _float(raw: Any, what: str, path: str) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise CnetError(f"{what}: {raw!r} is not a number", path) from None


def _xyz(lat: float, lon: float, radius: float) -> tuple[float, float, float]:
    la, lo = math.radians(lat), math.radians(lon)
    return radius * math.cos(la) * math.cos(lo), radius * math.cos(la) * math.sin(lo), radius * math.sin(la)


def read(path: str | Path) -> ControlNetwork:
    """Read a PVL text control network (versions 1-5)."""
    path = Path(path)
    text = path.read_bytes().decode("utf-8", errors="replace")
    return decode(text, str(path))


def decode(text: str, path: str = "") -> ControlNetwork:
    """A network from PVL text."""
    root = pvl_text.parse_raw(text, path)
    nets = [c for c in root.children if c.kind == "Object" and c.name.lower() == "controlnetwork"]
    if not nets:
        raise CnetError("the PVL text has no 'Object = ControlNetwork'", path)
    net = nets[0]
    version = int(_float(net.keys.get("version", 1), "Version", path))
    if version not in (1, 2, 3, 4, 5):
        raise CnetError(f"PVL control network version {version} is not supported (1-5)", path)
    header = NetworkHeader(
        network_id=net.keys.get("networkid"),
        target_name=net.keys.get("targetname"),
        created=net.keys.get("created"),
        last_modified=net.keys.get("lastmodified"),
        description=net.keys.get("description"),
        user_name=net.keys.get("username"),
    )
    points: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    logs: list[tuple[int, int, float]] = []
    counts: list[int] = []
    for p_index, obj in enumerate(c for c in net.children if c.name.lower() == "controlpoint"):
        point = _read_point(obj, p_index, version, path)
        groups = [g for g in obj.children if g.name.lower() == "controlmeasure"]
        for g_index, group in enumerate(groups):
            measure, reference, entries = _read_measure(group, point["id"], path)
            if reference:
                point["reference_index"] = g_index
            logs.extend((len(measures), t, v) for t, v in entries)
            measures.append(measure)
        counts.append(len(groups))
        points.append(point)
    return _assemble(header, points, measures, counts, logs, path)


def _read_point(obj: pvl_text.Node, index: int, version: int, path: str) -> dict[str, Any]:
    k = obj.keys
    pid = k.get("pointid")
    if not pid:
        raise CnetError(f"control point at index {index} has no PointId", path)
    where = f"point {pid!r} (index {index})"
    type_name = str(k.get("pointtype") or "").lower()
    if type_name not in _POINT_TYPE_NAMES:
        raise CnetError(f"{where}: invalid PointType {k.get('pointtype')!r}", path)
    point: dict[str, Any] = {"id": pid, "type": _POINT_TYPE_NAMES[type_name]}
    if _flag(k.get("held")):
        point["type"] = POINT_TYPES["Fixed"]
    for fld in POINT_FIELDS:
        if fld.pvl is None or fld.name in ("id", "type") or fld.pvl.lower() not in k:
            continue
        raw = k[fld.pvl.lower()]
        if raw is None:
            continue
        if fld.kind == "str":
            point[fld.name] = str(raw)
        elif fld.kind == "flag":
            point[fld.name] = _flag(raw)
        elif fld.kind == "double":
            point[fld.name] = _float(raw, f"{where} {fld.pvl}", path)
        elif fld.kind == "covar":
            values = raw if isinstance(raw, list) else [raw]
            if len(values) != 6:
                raise CnetError(f"{where}: {fld.pvl} has {len(values)} values, not 6", path)
            point[fld.name] = [_float(v, f"{where} {fld.pvl}", path) for v in values]
        elif fld.kind == "enum":
            name = str(raw).lower()
            if name not in _SOURCE_NAMES:
                raise CnetError(f"{where}: invalid {fld.pvl} {raw!r}", path)
            point[fld.name] = _SOURCE_NAMES[name]
    if version == 1:
        _read_point_v1(k, point, where, path)
    return point


def _read_point_v1(k: dict[str, Any], point: dict[str, Any], where: str, path: str) -> None:
    """Version-1 keywords: lat/lon/radius or X/Y/Z points, old source names, sigma forms."""
    if "aprioriLatLonSource".lower() in k and k["aprioriLatLonSource".lower()]:
        name = str(k["aprioriLatLonSource".lower()]).lower()
        if name not in _SOURCE_NAMES:
            raise CnetError(
                f"{where}: invalid AprioriLatLonSource {k['aprioriLatLonSource'.lower()]!r}", path
            )
        point["apriori_surf_source"] = _SOURCE_NAMES[name]
    if k.get("aprioriLatLonSourceFile".lower()):
        point["apriori_surf_source_file"] = str(k["aprioriLatLonSourceFile".lower()])
    for prefix, target in (("", "adjusted"), ("apriori", "apriori")):
        lat, lon, rad = (k.get(prefix + s) for s in ("latitude", "longitude", "radius"))
        x, y, z = (k.get(prefix + s) for s in ("x", "y", "z")) if prefix == "" else (None, None, None)
        if None not in (lat, lon, rad):
            xyz = _xyz(*(_float(v, where, path) for v in (lat, lon, rad)))
        elif None not in (x, y, z):
            xyz = tuple(_float(v, where, path) for v in (x, y, z))
        else:
            continue
        point[f"{target}_x"], point[f"{target}_y"], point[f"{target}_z"] = xyz
    if "apriori_x" not in point and "adjusted_x" in point:
        for axis in "xyz":
            point[f"apriori_{axis}"] = point[f"adjusted_{axis}"]
    if "apostcovariancematrix" in k:
        values = k["apostcovariancematrix"]
        point["adjusted_covar"] = [_float(v, where, path) for v in values]
    for name in ("AprioriCovarianceMatrix", "ApostCovarianceMatrix"):
        if name.lower() in k:
            for axis in ("latitude", "longitude", "radius"):
                point[f"{axis}_constrained"] = 1
    sigma_keys = [key for key in k if key.startswith(("apriorisigma", "adjustedsigma"))]
    if sigma_keys:
        raise CnetError(f"{where}: version-1 sigma keywords {sigma_keys} are not supported", path)


def _read_measure(
    group: pvl_text.Node, point_id: str, path: str
) -> tuple[dict[str, Any], bool, list[tuple[int, float]]]:
    k = dict(group.keys)
    where = f"a measure of point {point_id!r}"
    if not k.get("serialnumber"):
        raise CnetError(f"{where} has no SerialNumber", path)
    mtype = str(k.pop("measuretype", "") or "").lower()
    if mtype not in _MEASURE_TYPE_NAMES:
        raise CnetError(f"{where}: unknown MeasureType {mtype!r}", path)
    measure: dict[str, Any] = {"type": _MEASURE_TYPE_NAMES[mtype]}
    reference = _flag(k.pop("reference", None)) == 1
    for old, new in (("errorsample", "sampleresidual"), ("errorline", "lineresidual")):
        if old in k:
            k[new] = k.pop(old)
    for fld in MEASURE_FIELDS:
        if fld.pvl is None or fld.name == "type" or fld.pvl.lower() not in k:
            continue
        raw = k.pop(fld.pvl.lower())
        if raw is None:
            continue
        if fld.kind == "str":
            measure[fld.name] = str(raw)
        elif fld.kind == "flag":
            measure[fld.name] = _flag(raw)
        elif fld.kind == "double":
            try:
                measure[fld.name] = float(raw)
            except (TypeError, ValueError):
                if fld.name not in ("sample", "line"):
                    raise CnetError(f"{where}: {fld.pvl} {raw!r} is not a number", path) from None
                measure[fld.name] = 0.0  # as ISIS: a non-numeric coordinate is 0 and the measure ignored
                measure["ignore"] = 1
    entries = []
    for name, raw in k.items():
        if name in _DROPPED or raw is None:
            continue
        if name not in _LOG_NAMES:
            raise CnetError(f"{where}: unknown keyword {name!r}", path)
        entries.append((_LOG_NAMES[name], _float(raw, f"{where} {name}", path)))
    return measure, reference, entries


def _assemble(header, points, measures, counts, logs, path) -> ControlNetwork:
    from tiepoint.cnet.model import _coerce
    from tiepoint.cnet.schema import empty_column

    n_p, n_m = len(points), len(measures)
    offsets = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    def columns(rows, fields, n):
        cols = {}
        for fld in fields:
            if fld.kind == "str":
                cols[fld.name] = _coerce("str", fld.name, [r.get(fld.name) for r in rows], n)
            elif fld.kind == "id":
                cols[fld.name] = _coerce("id", fld.name, [r[fld.name] for r in rows], n)
            else:
                col = empty_column(fld.kind, n)
                for i, r in enumerate(rows):
                    if fld.name in r:
                        col[i] = r[fld.name]
                cols[fld.name] = col
        return cols

    point_cols = columns(points, POINT_FIELDS, n_p)
    measure_cols = columns(measures, MEASURE_FIELDS, n_m)
    measure_logs = None
    if logs:
        owner, dtype, value = (np.array(v) for v in zip(*logs, strict=True))
        measure_logs = LogTable.from_entries(n_m, owner, double_type=dtype, double_value=value)
    return ControlNetwork(header, point_cols, measure_cols, offsets, None, measure_logs)


# -- writing ----------------------------------------------------------------------------------------------

_POINT_TYPE_BY_CODE = {v: k for k, v in POINT_TYPES.items()}
_MEASURE_TYPE_BY_CODE = {v: k for k, v in MEASURE_TYPES.items()}
_SOURCE_BY_CODE = {v: k for k, v in APRIORI_SOURCES.items()}


def encode(net: ControlNetwork, path: str | None = None) -> str:
    """*net* as PVL text, version 5."""
    net.validate(path)
    h = net.header
    out = [
        "Object = ControlNetwork",
        *pvl_text.keywords(
            [
                ("NetworkId", pvl_text.quote(h.network_id or "")),
                ("TargetName", pvl_text.quote(h.target_name or "")),
                ("UserName", pvl_text.quote(h.user_name or "")),
                ("Created", pvl_text.quote(h.created or "")),
                ("LastModified", pvl_text.quote(h.last_modified or "")),
                ("Description", pvl_text.quote(h.description or "")),
                ("Version", "5"),
            ],
            2,
        ),
    ]
    p, m = net.points, net.measures
    logs = net.measure_logs
    offsets = net.point_offsets
    for i in range(net.n_points):  # text output: one point at a time
        keys = [("PointType", _POINT_TYPE_BY_CODE[int(p.type[i])]), ("PointId", pvl_text.quote(p.id[i]))]
        keys += _string_keys(p, i, (("chooser_name", "ChooserName"), ("datetime", "DateTime")))
        keys += _flag_keys(
            p, i, (("edit_lock", "EditLock"), ("ignore", "Ignore"), ("jigsaw_rejected", "JigsawRejected"))
        )
        if p.apriori_surf_source[i] != UNSET:
            keys.append(("AprioriXYZSource", _SOURCE_BY_CODE[int(p.apriori_surf_source[i])]))
        keys += _string_keys(p, i, (("apriori_surf_source_file", "AprioriXYZSourceFile"),))
        if p.apriori_radius_source[i] != UNSET:
            keys.append(("AprioriRadiusSource", _SOURCE_BY_CODE[int(p.apriori_radius_source[i])]))
        keys += _string_keys(p, i, (("apriori_radius_source_file", "AprioriRadiusSourceFile"),))
        for prefix, pvl_prefix in (("apriori", "Apriori"), ("adjusted", "Adjusted")):
            for axis in "xyz":
                value = getattr(p, f"{prefix}_{axis}")[i]
                if not np.isnan(value):
                    keys.append((f"{pvl_prefix}{axis.upper()}", f"{pvl_text.number(value)} <meters>"))
            covar = getattr(p, f"{prefix}_covar")[i]
            if not np.isnan(covar).any():
                keys.append(
                    (
                        f"{pvl_prefix}CovarianceMatrix",
                        "(" + ", ".join(pvl_text.number(v) for v in covar) + ")",
                    )
                )
            if prefix == "apriori":
                keys += _flag_keys(
                    p,
                    i,
                    (
                        ("latitude_constrained", "LatitudeConstrained"),
                        ("longitude_constrained", "LongitudeConstrained"),
                        ("radius_constrained", "RadiusConstrained"),
                    ),
                )
        body = ["", *pvl_text.keywords(keys, 4)]
        ref = int(p.reference_index[i])
        for j in range(int(offsets[i]), int(offsets[i + 1])):
            body += [
                "",
                *pvl_text.block(
                    "Group",
                    "ControlMeasure",
                    pvl_text.keywords(_measure_keys(m, logs, j, j - int(offsets[i]) == ref), 6),
                    4,
                ),
            ]
        out += ["", *pvl_text.block("Object", "ControlPoint", body[1:], 2)]
    out += ["End_Object", "End"]
    return "\n".join(out) + "\n"


def _string_keys(cols, i: int, names) -> list[tuple[str, str]]:
    out = []
    for name, key in names:
        value = getattr(cols, name)[i]
        if value is not None:
            out.append((key, pvl_text.quote(value)))
    return out


def _flag_keys(cols, i: int, names) -> list[tuple[str, str]]:
    return [(key, "True") for name, key in names if getattr(cols, name)[i] == 1]


def _measure_keys(m, logs: LogTable, j: int, reference: bool) -> list[tuple[str, str]]:
    keys = [
        ("SerialNumber", pvl_text.quote(m.serial[j])),
        ("MeasureType", _MEASURE_TYPE_BY_CODE[int(m.type[j])]),
    ]
    keys += _string_keys(m, j, (("chooser_name", "ChooserName"), ("datetime", "DateTime")))
    keys += _flag_keys(m, j, (("edit_lock", "EditLock"), ("ignore", "Ignore")))
    for name, key, unit in (
        ("sample", "Sample", ""),
        ("line", "Line", ""),
        ("diameter", "Diameter", ""),
        ("apriori_sample", "AprioriSample", ""),
        ("apriori_line", "AprioriLine", ""),
        ("sample_sigma", "SampleSigma", " <pixels>"),
        ("line_sigma", "LineSigma", " <pixels>"),
        ("sample_residual", "SampleResidual", " <pixels>"),
        ("line_residual", "LineResidual", " <pixels>"),
    ):
        value = getattr(m, name)[j]
        if not np.isnan(value):
            keys.append((key, pvl_text.number(value) + unit))
    keys += _flag_keys(m, j, (("jigsaw_rejected", "JigsawRejected"),))
    for row in range(int(logs.offsets[j]), int(logs.offsets[j + 1])):
        code = int(logs.double_type[row])
        if code in _LOG_BY_CODE and not np.isnan(logs.double_value[row]):
            keys.append((_LOG_BY_CODE[code], pvl_text.number(logs.double_value[row])))
    if reference:
        keys.append(("Reference", "True"))
    return keys
