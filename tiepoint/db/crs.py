"""The body's geographic CRS as written into ``gpkg_spatial_ref_sys`` / PostGIS ``spatial_ref_sys``.

When the configured SRID is an IAU_2015 code whose registered definition (PROJ's database, through
pyproj) is a geographic CRS on the configured ellipsoid, that official definition is written under
the ``IAU_2015`` authority. Otherwise a CRS is built from the configured radii and written under the
``tiepoint`` organization, so that no file claims an IAU code for a different shape. (For example
IAU_2015:49900 is the Mars *sphere*, R = 3396190 m; the Mars ellipsoid with planetocentric
latitudes is 49902.)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import pyproj
from pyproj.enums import WktVersion
from pyproj.exceptions import CRSError

from tiepoint.config import BodyConfig

IAU_AUTHORITY = "IAU_2015"
OWN_ORGANIZATION = "tiepoint"


@dataclass(frozen=True, slots=True)
class BodyCRS:
    """What the spatial reference tables need to know about the body's CRS."""

    organization: str
    name: str
    wkt: str
    """OGC WKT 1 (GDAL flavour)."""
    proj4: str


def _generated(body: BodyConfig) -> BodyCRS:
    a, b = body.semimajor, body.semiminor
    inv_f = 0.0 if a == b else a / (a - b)
    name = f"{body.name} geographic (a={a:.17g} m, b={b:.17g} m)"
    wkt = (
        f'GEOGCS["{name}",DATUM["D_{body.name}",SPHEROID["{body.name}",{a:.17g},{inv_f:.17g}]],'
        'PRIMEM["Reference_Meridian",0],UNIT["degree",0.0174532925199433]]'
    )
    proj4 = f"+proj=longlat +a={a:.17g} +b={b:.17g} +no_defs +type=crs"
    return BodyCRS(OWN_ORGANIZATION, name, wkt, proj4)


@lru_cache(maxsize=16)
def _official(srid: int, a: float, b: float) -> BodyCRS | None:
    try:
        crs = pyproj.CRS.from_authority(IAU_AUTHORITY, srid)
    except CRSError:
        return None
    ell = crs.ellipsoid
    planetocentric = crs.type_name == "Geodetic CRS" and not crs.is_geographic  # spherical CS
    if ell is None or not (crs.is_geographic or planetocentric):
        return None
    same_a = math.isclose(ell.semi_major_metre, a, rel_tol=1e-12)
    if not (same_a and math.isclose(ell.semi_minor_metre, b, rel_tol=1e-9)):
        return None
    # WKT1 cannot say "planetocentric latitude" (IAU_2015:49902): use WKT2 there, which GDAL reads too.
    wkt = crs.to_wkt(WktVersion.WKT2_2019 if planetocentric else WktVersion.WKT1_GDAL)
    if not wkt:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "PROJ strings lose information": known
        try:
            proj4 = crs.to_proj4()
        except CRSError:  # planetocentric CRSs have no PROJ string; PostGIS uses auth_name:auth_srid
            proj4 = f"+proj=longlat +a={a:.17g} +b={b:.17g} +no_defs +type=crs"
    return BodyCRS(IAU_AUTHORITY, crs.name, wkt, proj4)


def body_crs(body: BodyConfig) -> BodyCRS:
    """The CRS to register for *body* under ``body.srid`` (official IAU when it matches)."""
    return _official(body.srid, body.semimajor, body.semiminor) or _generated(body)
