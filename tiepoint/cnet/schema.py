"""The fields of an ISIS3 control network: one table that the model and every codec share.

Each :class:`Field` names a column of :class:`tiepoint.cnet.ControlNetwork`, the protobuf field
number it has in ``ControlPointFileEntryV0002`` (points), its nested ``Measure`` message (measures) or
their ``...LogData`` messages (logs), the PVL keyword of the text format, and how "unset" is stored:

=========  ===================================  ==============================================
kind       column                               unset
=========  ===================================  ==============================================
``id``     object array of str                  never (required)
``str``    :class:`~tiepoint.cnet.Strings`      code -1
``enum``   int8                                 -1
``int``    int32 (non-negative values)          -1
``flag``   int8: 1 true, 0 false                -1 (ISIS reads absent as false)
``double`` float64                              NaN
``covar``  float64 (n, 6) upper triangle, m^2   a row of NaN
=========  ===================================  ==============================================

The enumerations are ISIS's (``ControlPointFileEntryV0002.proto``; measure log data types from
``ControlMeasureLogData.h``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POINT_TYPES = {"Free": 2, "Constrained": 3, "Fixed": 4}
"""Point type codes. Files may hold the obsolete 0 (Tie) and 1 (Ground): read as Free and Fixed."""
OBSOLETE_POINT_TYPES = {0: 2, 1: 4}
MEASURE_TYPES = {"Candidate": 0, "Manual": 1, "RegisteredPixel": 2, "RegisteredSubPixel": 3}
APRIORI_SOURCES = {
    "None": 0,
    "User": 1,
    "AverageOfMeasures": 2,
    "Reference": 3,
    "Ellipsoid": 4,
    "DEM": 5,
    "Basemap": 6,
    "BundleSolution": 7,
}
"""A-priori source codes, shared by the surface point and the radius."""
SURFACE_SOURCES = frozenset({0, 1, 2, 3, 6, 7})
"""Surface point sources ISIS accepts on reading (not Ellipsoid, DEM)."""
RADIUS_SOURCES = frozenset({0, 1, 2, 4, 5, 7})
"""Radius sources ISIS accepts on reading (not Reference, Basemap)."""
LOG_TYPES = {
    "Obsolete_Eccentricity": 1,
    "GoodnessOfFit": 2,
    "MinimumPixelZScore": 3,
    "MaximumPixelZScore": 4,
    "PixelShift": 5,
    "WholePixelCorrelation": 6,
    "SubPixelCorrelation": 7,
    "Obsolete_AverageResidual": 8,
}
"""Measure log data types (ISIS ``ControlMeasureLogData::NumericLogDataType``)."""

UNSET = -1
"""The "absent" value of enum, int and flag columns."""

KIND_DTYPES = {
    "id": np.dtype(object),
    "enum": np.dtype(np.int8),
    "int": np.dtype(np.int32),
    "flag": np.dtype(np.int8),
    "double": np.dtype(np.float64),
    "covar": np.dtype(np.float64),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a point, measure or log message."""

    name: str
    """Column name in the model."""
    number: int
    """Protobuf field number."""
    kind: str
    """``id``, ``str``, ``enum``, ``int``, ``flag``, ``double`` or ``covar``."""
    pvl: str | None
    """Keyword in the PVL text format (None: not a plain keyword there)."""
    required: bool = False


POINT_FIELDS: tuple[Field, ...] = (
    Field("id", 1, "id", "PointId", required=True),
    Field("type", 2, "enum", "PointType", required=True),
    Field("chooser_name", 3, "str", "ChooserName"),
    Field("datetime", 4, "str", "DateTime"),
    Field("edit_lock", 5, "flag", "EditLock"),
    Field("ignore", 6, "flag", "Ignore"),
    Field("jigsaw_rejected", 7, "flag", "JigsawRejected"),
    Field("reference_index", 8, "int", None),
    Field("apriori_surf_source", 9, "enum", "AprioriXYZSource"),
    Field("apriori_surf_source_file", 10, "str", "AprioriXYZSourceFile"),
    Field("apriori_radius_source", 11, "enum", "AprioriRadiusSource"),
    Field("apriori_radius_source_file", 12, "str", "AprioriRadiusSourceFile"),
    Field("latitude_constrained", 13, "flag", "LatitudeConstrained"),
    Field("longitude_constrained", 14, "flag", "LongitudeConstrained"),
    Field("radius_constrained", 15, "flag", "RadiusConstrained"),
    Field("apriori_x", 16, "double", "AprioriX"),
    Field("apriori_y", 17, "double", "AprioriY"),
    Field("apriori_z", 18, "double", "AprioriZ"),
    Field("apriori_covar", 19, "covar", "AprioriCovarianceMatrix"),
    Field("adjusted_x", 20, "double", "AdjustedX"),
    Field("adjusted_y", 21, "double", "AdjustedY"),
    Field("adjusted_z", 22, "double", "AdjustedZ"),
    Field("adjusted_covar", 23, "covar", "AdjustedCovarianceMatrix"),
)
POINT_LOG_NUMBER = 24
MEASURES_NUMBER = 25

MEASURE_FIELDS: tuple[Field, ...] = (
    Field("serial", 1, "str", "SerialNumber", required=True),
    Field("type", 2, "enum", "MeasureType", required=True),
    Field("sample", 3, "double", "Sample"),
    Field("line", 4, "double", "Line"),
    Field("sample_residual", 5, "double", "SampleResidual"),
    Field("line_residual", 6, "double", "LineResidual"),
    Field("chooser_name", 7, "str", "ChooserName"),
    Field("datetime", 8, "str", "DateTime"),
    Field("edit_lock", 9, "flag", "EditLock"),
    Field("ignore", 10, "flag", "Ignore"),
    Field("jigsaw_rejected", 11, "flag", "JigsawRejected"),
    Field("diameter", 12, "double", "Diameter"),
    Field("apriori_sample", 13, "double", "AprioriSample"),
    Field("apriori_line", 14, "double", "AprioriLine"),
    Field("sample_sigma", 15, "double", "SampleSigma"),
    Field("line_sigma", 16, "double", "LineSigma"),
)
MEASURE_LOG_NUMBER = 17

LOG_FIELDS: tuple[Field, ...] = (
    Field("double_type", 1, "int", None),
    Field("double_value", 2, "double", None),
    Field("bool_type", 3, "int", None),
    Field("bool_value", 4, "flag", None),
)
"""``PointLogData`` and ``Measure.MeasureLogData`` have the same four fields."""

HEADER_FIELDS = {
    "network_id": 1,
    "target_name": 2,
    "created": 3,
    "last_modified": 4,
    "description": 5,
    "user_name": 6,
}
"""String fields of ``ControlNetFileHeaderV0002`` / ``V0005`` (the V5 header adds ``numPoints = 7``
and ``targetRadii = 10``; the V2 header has ``pointMessageSizes = 7``)."""
V2_POINT_SIZES_NUMBER = 7
V5_NUM_POINTS_NUMBER = 7
V5_TARGET_RADII_NUMBER = 10


def empty_column(kind: str, n: int) -> np.ndarray:
    """A column of *n* unset values of *kind* (not ``str``: see :class:`tiepoint.cnet.Strings`)."""
    if kind == "double":
        return np.full(n, np.nan)
    if kind == "covar":
        return np.full((n, 6), np.nan)
    if kind == "id":
        return np.full(n, "", dtype=object)
    return np.full(n, UNSET, dtype=KIND_DTYPES[kind])
