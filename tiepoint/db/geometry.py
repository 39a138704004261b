"""Geometry encoding shared by both backends: MultiPolygon promotion, GeoPackage binary, body CRS WKT.

GeoPackage geometry blobs (OGC 12-128r18, clause 2.1.3) are a small header followed by ISO WKB::

    b"GP" | version (0) | flags | srs_id (int32) | envelope (n doubles) | WKB

``flags`` bit 0 is the byte order of the header (1 = little endian), bits 1-3 the envelope kind
(0 none, 1 = [minx, maxx, miny, maxy], 2 = + [minz, maxz], 3 = + [minm, maxm], 4 = z and m),
bit 4 marks an empty geometry and bit 5 an extended (non-standard) geometry type.
"""

from __future__ import annotations

import struct

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GPKG_MAGIC = b"GP"
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def to_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Return *geom* as a MultiPolygon (a Polygon is promoted; the polygonal parts of a collection kept).

    Raises
    ------
    ValueError
        If *geom* has no polygonal part.
    """
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, (Polygon, MultiPolygon))]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    polys = [p for p in polys if not p.is_empty]
    if not polys:
        raise ValueError(f"expected a polygonal geometry, got {geom.geom_type}")
    return MultiPolygon(polys)


def polygonal(geom: BaseGeometry | None) -> MultiPolygon:
    """The polygonal part of *geom* as a MultiPolygon, empty when there is none."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    try:
        return to_multipolygon(geom)
    except ValueError:
        return MultiPolygon()


def polygonal_many(geoms: np.ndarray) -> np.ndarray:
    """:func:`polygonal` of each geometry of an array; vectorized for Polygons and MultiPolygons."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    types = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    single = (types == shapely.GeometryType.POLYGON) & ~empty
    multi = (types == shapely.GeometryType.MULTIPOLYGON) & ~empty
    if single.any():
        out[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    out[multi] = geoms[multi]
    rest = np.flatnonzero(~(single | multi))
    out[rest] = [polygonal(g) for g in geoms[rest]]
    return out


def gpkg_encode_many(geoms: np.ndarray, srs_id: int) -> list[bytes]:
    """:func:`gpkg_encode` of many non-empty geometries at once (vectorized WKB and envelopes)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return []
    if shapely.is_empty(geoms).any() or shapely.is_missing(geoms).any():
        raise ValueError("gpkg_encode_many needs non-empty geometries")
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    header = np.zeros(
        len(geoms),
        dtype=[("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs", "<i4"), ("env", "<f8", 4)],
    )
    header["magic"], header["flags"], header["srs"] = GPKG_MAGIC, 0b0000_0011, srs_id
    header["env"] = bounds[:, [0, 2, 1, 3]]  # minx, maxx, miny, maxy
    raw, size = header.tobytes(), header.dtype.itemsize
    return [raw[i * size : (i + 1) * size] + w for i, w in enumerate(wkb.tolist())]


def gpkg_encode(geom: BaseGeometry | None, srs_id: int) -> bytes | None:
    """Encode *geom* as a little-endian GeoPackage binary blob with an XY envelope.

    Parameters
    ----------
    geom : shapely geometry or None
    srs_id : int
        The ``gpkg_spatial_ref_sys.srs_id`` the coordinates are in.
    """
    if geom is None:
        return None
    if geom.is_empty:
        header = GPKG_MAGIC + struct.pack("<BBi", 0, 0b0001_0001, srs_id)
        return header + shapely.to_wkb(geom, byte_order=1, flavor="iso")
    minx, miny, maxx, maxy = geom.bounds
    header = GPKG_MAGIC + struct.pack("<BBi4d", 0, 0b0000_0011, srs_id, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, flavor="iso")


def _gpkg_header(blob: bytes) -> tuple[str, int, int, int]:
    """Return (byte-order char, srs_id, envelope kind, WKB offset) of a GeoPackage blob."""
    if len(blob) < 8 or blob[:2] != GPKG_MAGIC:
        raise ValueError("not a GeoPackage geometry blob (bad magic)")
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    kind = (flags >> 1) & 0b111
    if kind not in _ENVELOPE_DOUBLES:
        raise ValueError(f"invalid GeoPackage envelope indicator {kind}")
    (srs_id,) = struct.unpack(order + "i", blob[4:8])
    return order, srs_id, kind, 8 + 8 * _ENVELOPE_DOUBLES[kind]


def gpkg_decode(blob: bytes | None) -> BaseGeometry | None:
    """Decode a GeoPackage binary blob to a shapely geometry (SRID set from the header)."""
    if blob is None:
        return None
    blob = bytes(blob)
    _, srs_id, _, offset = _gpkg_header(blob)
    geom = shapely.from_wkb(blob[offset:])
    return shapely.set_srid(geom, srs_id) if srs_id > 0 else geom


def gpkg_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob, from its header when present; None when empty."""
    if blob is None:
        return None
    blob = bytes(blob)
    order, _, kind, offset = _gpkg_header(blob)
    if blob[3] & 0b1_0000:
        return None
    if kind:
        return struct.unpack(order + "4d", blob[8:40])
    geom = shapely.from_wkb(blob[offset:])
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def is_empty_blob(blob: bytes | None) -> bool:
    """True if the GeoPackage blob is NULL or flagged empty."""
    if blob is None:
        return True
    return bool(bytes(blob)[3] & 0b1_0000)


def validate_lonlat(geom: MultiPolygon) -> None:
    """Check a lat/lon footprint: finite, longitudes in [-180, 360], latitudes in [-90, 90].

    Raises
    ------
    ValueError
        Naming the offending range.
    """
    coords = shapely.get_coordinates(geom)
    if coords.size == 0:
        raise ValueError("footprint is empty")
    if not np.isfinite(coords).all():
        raise ValueError("footprint has non-finite coordinates")
    lon, lat = coords[:, 0], coords[:, 1]
    if lon.min() < -180.0 or lon.max() > 360.0:
        raise ValueError(f"footprint longitudes [{lon.min():.6g}, {lon.max():.6g}] outside [-180, 360]")
    if lat.min() < -90.0 or lat.max() > 90.0:
        raise ValueError(f"footprint latitudes [{lat.min():.6g}, {lat.max():.6g}] outside [-90, 90]")
