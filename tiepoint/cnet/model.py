"""The control-network data model: column arrays for points, measures and their logs.

A :class:`ControlNetwork` holds

- ``header``: a :class:`NetworkHeader` (network id, target, description, dates, user, target radii);
- point columns (length ``P``) and measure columns (length ``M``) named as in
  :mod:`tiepoint.cnet.schema`, read as ``net.points.apriori_x`` or ``net.measures.sample``;
- ``point_offsets`` (``P + 1``): the measures of point ``i`` are rows
  ``point_offsets[i]:point_offsets[i + 1]`` of the measure columns (CSR), so ``measure_point`` is
  derived, never stored twice;
- ``point_logs`` and ``measure_logs``: :class:`LogTable` s, CSR over points / measures.

Unset values are NaN (doubles, a covariance row), -1 (enums, ints, flags) or code -1
(:class:`Strings`), and the writers leave such fields out of the file. Sample and line are in the
ISIS convention (1-based, centre of the first pixel at 1.0): convert OpenCV positions with
:func:`tiepoint.pixels.to_isis_coords`.

Objects exist only as views: ``net.points[i]`` is a :class:`PointView` whose attributes read the
columns, and ``net.points[i].measures`` a list of :class:`MeasureView`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from tiepoint.cnet.schema import (
    APRIORI_SOURCES,
    LOG_FIELDS,
    MEASURE_FIELDS,
    MEASURE_TYPES,
    POINT_FIELDS,
    POINT_TYPES,
    RADIUS_SOURCES,
    SURFACE_SOURCES,
    UNSET,
    empty_column,
)
from tiepoint.errors import CnetError

# -- string columns -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Strings:
    """A string column stored as codes into its distinct values (serial numbers repeat).

    Attributes
    ----------
    codes : ndarray of int32
        Index into ``values`` per row; -1 means unset.
    values : ndarray of object
        The distinct strings.
    """

    codes: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.codes = np.asarray(self.codes, dtype=np.int32)
        self.values = np.asarray(self.values, dtype=object).reshape(-1)

    @classmethod
    def from_values(cls, values: Iterable[str | None] | np.ndarray | Strings) -> Strings:
        """Encode a sequence of str (None: unset); values are numbered in order of first use."""
        if isinstance(values, Strings):
            return values
        arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
        index: dict[object, int] = {None: UNSET}
        # a dict is much faster than sorting a million strings with np.unique
        codes = np.fromiter(
            (index.setdefault(v, len(index) - 1) for v in arr.reshape(-1)), np.int32, arr.size
        )
        del index[None]
        bad = [v for v in index if not isinstance(v, str)]
        if bad:
            raise CnetError(f"string columns take str or None, got {bad[0]!r}")
        return cls(codes, np.array(list(index), dtype=object))

    @classmethod
    def constant(cls, n: int, value: str | None) -> Strings:
        """*n* rows of *value* (None: all unset)."""
        if value is None:
            return cls(np.full(n, UNSET, dtype=np.int32), np.empty(0, dtype=object))
        return cls(np.zeros(n, dtype=np.int32), np.array([value], dtype=object))

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def __getitem__(self, i: int) -> str | None:
        code = int(self.codes[i])
        return None if code < 0 else str(self.values[code])

    @property
    def present(self) -> np.ndarray:
        """Boolean mask of the rows that have a value."""
        return self.codes >= 0

    def to_array(self) -> np.ndarray:
        """Object array of str, None where unset."""
        table = np.append(self.values, None) if self.values.size else np.array([None], dtype=object)
        return table[np.where(self.codes >= 0, self.codes, table.shape[0] - 1)]

    def take(self, index: np.ndarray) -> Strings:
        """The rows *index* (an integer or boolean array), sharing ``values``."""
        return Strings(self.codes[index], self.values)

    def compact(self) -> Strings:
        """The same strings with unused values dropped (codes renumbered)."""
        used = np.zeros(self.values.shape[0] + 1, dtype=bool)
        used[self.codes + 1] = True
        keep = used[1:]
        remap = np.cumsum(keep, dtype=np.int32) - 1
        codes = np.where(self.codes >= 0, remap[np.maximum(self.codes, 0)], UNSET).astype(np.int32)
        return Strings(codes, self.values[keep])

    def equals(self, other: Strings) -> bool:
        """True if both columns hold the same strings row by row."""
        return len(self) == len(other) and bool(np.array_equal(self.to_array(), other.to_array()))


# -- logs -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class LogTable:
    """Log entries (``PointLogData`` / ``MeasureLogData``), CSR over their owners.

    The entries of owner ``i`` are rows ``offsets[i]:offsets[i + 1]``. Columns: ``double_type``
    (int32, -1 unset; see :data:`tiepoint.cnet.schema.LOG_TYPES`), ``double_value`` (float64, NaN
    unset), ``bool_type`` (int32, -1 unset), ``bool_value`` (int8 flag, -1 unset).
    """

    offsets: np.ndarray
    double_type: np.ndarray
    double_value: np.ndarray
    bool_type: np.ndarray
    bool_value: np.ndarray

    @classmethod
    def empty(cls, owners: int) -> LogTable:
        """A table with no entries for *owners* owners."""
        return cls(np.zeros(owners + 1, dtype=np.int64), *(empty_column(f.kind, 0) for f in LOG_FIELDS))

    @classmethod
    def from_entries(
        cls,
        owners: int,
        owner: np.ndarray,
        double_type: np.ndarray | None = None,
        double_value: np.ndarray | None = None,
        bool_type: np.ndarray | None = None,
        bool_value: np.ndarray | None = None,
    ) -> LogTable:
        """Build from one row per entry; *owner* is each entry's owner index (entries are grouped
        by owner, keeping their given order within an owner)."""
        owner = np.asarray(owner, dtype=np.int64).reshape(-1)
        n = owner.shape[0]
        if n and (owner.min() < 0 or owner.max() >= owners):
            raise CnetError(f"log entry owners must be in 0..{owners - 1}")
        order = np.argsort(owner, kind="stable")
        offsets = np.zeros(owners + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=owners), out=offsets[1:])
        cols = []
        for fld, values in zip(LOG_FIELDS, (double_type, double_value, bool_type, bool_value), strict=True):
            col = empty_column(fld.kind, n) if values is None else np.asarray(values).reshape(-1)
            if col.shape[0] != n:
                raise CnetError(f"log column {fld.name} has {col.shape[0]} rows, expected {n}")
            cols.append(col.astype(empty_column(fld.kind, 0).dtype)[order])
        return cls(offsets, *cols)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def owner(self) -> np.ndarray:
        """Owner index of each entry."""
        return np.repeat(np.arange(self.offsets.shape[0] - 1), np.diff(self.offsets))

    def columns(self) -> dict[str, np.ndarray]:
        """The four value columns by name."""
        return {f.name: getattr(self, f.name) for f in LOG_FIELDS}

    def take_owners(self, index: np.ndarray) -> LogTable:
        """The logs of owners *index* (integer array), in that order."""
        rows, offsets = _csr_take(self.offsets, np.asarray(index, dtype=np.int64))
        return LogTable(offsets, *(col[rows] for col in self.columns().values()))

    def entries(self, owner: int) -> list[dict[str, Any]]:
        """The entries of one owner as dicts (unset values left out)."""
        out = []
        for row in range(int(self.offsets[owner]), int(self.offsets[owner + 1])):
            entry = {}
            for name, col in self.columns().items():
                value = col[row]
                if np.issubdtype(col.dtype, np.floating):
                    if not np.isnan(value):
                        entry[name] = float(value)
                elif value >= 0:
                    entry[name] = bool(value) if name == "bool_value" else int(value)
            out.append(entry)
        return out

    def equals(self, other: LogTable) -> bool:
        """Field-by-field equality (NaN equal to NaN)."""
        return np.array_equal(self.offsets, other.offsets) and all(
            np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating))
            for a, b in zip(self.columns().values(), other.columns().values(), strict=True)
        )


def _csr_take(offsets: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the CSR groups *index* (in that order) and the new offsets."""
    counts = (offsets[1:] - offsets[:-1])[index]
    new_offsets = np.zeros(index.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    starts = offsets[:-1][index]
    rows = np.arange(new_offsets[-1], dtype=np.int64) - np.repeat(new_offsets[:-1] - starts, counts)
    return rows, new_offsets


# -- the network ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class NetworkHeader:
    """Network-level fields. None means absent (the binary writers write required ones as "")."""

    network_id: str | None = None
    target_name: str | None = None
    created: str | None = None
    last_modified: str | None = None
    description: str | None = None
    user_name: str | None = None
    target_radii: tuple[float, ...] | None = None
    """Target radii (metres), written to V5 headers and labels when set."""


class _Columns:
    """Attribute access to a dict of columns, plus views by index."""

    __slots__ = ("_cols", "_net", "_view")

    def __init__(self, net: ControlNetwork, cols: dict[str, Any], view: type) -> None:
        self._net = net
        self._cols = cols
        self._view = view

    def __getattr__(self, name: str) -> Any:
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(name) from None

    def __len__(self) -> int:
        return len(self._cols["type"])

    def __getitem__(self, i: int) -> Any:
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} rows")
        return self._view(self._net, i % n)

    def __iter__(self):
        return (self._view(self._net, i) for i in range(len(self)))

    def keys(self) -> list[str]:
        """Column names."""
        return list(self._cols)


def _value(col: Any, i: int) -> Any:
    if isinstance(col, Strings):
        return col[i]
    value = col[i]
    if isinstance(value, np.ndarray):  # covariance row
        return None if np.isnan(value).all() else value.copy()
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return None if value < 0 else int(value)
    return value


class _RowView:
    """One row of a network's point or measure columns, read through them (unset values read as None)."""

    __slots__ = ("_i", "_net")
    _table: ClassVar[str]
    """The network attribute holding the columns (``_points`` or ``_measures``)."""

    def __init__(self, net: ControlNetwork, i: int) -> None:
        self._net, self._i = net, i

    def __getattr__(self, name: str) -> Any:
        cols = getattr(self._net, self._table)
        if name not in cols:
            raise AttributeError(name)
        return _value(cols[name], self._i)

    @property
    def index(self) -> int:
        """Row of this point or measure."""
        return self._i


class PointView(_RowView):
    """One point of a network, read through its columns (unset values read as None)."""

    __slots__ = ()
    _table = "_points"

    @property
    def measures(self) -> list[MeasureView]:
        """Views of this point's measures, in order."""
        start, stop = self._net.point_offsets[self._i : self._i + 2]
        return [MeasureView(self._net, j) for j in range(int(start), int(stop))]

    @property
    def logs(self) -> list[dict[str, Any]]:
        """This point's log entries."""
        return self._net.point_logs.entries(self._i)

    def __repr__(self) -> str:
        return f"PointView(id={self.id!r}, measures={len(self.measures)})"


class MeasureView(_RowView):
    """One measure of a network, read through its columns (unset values read as None)."""

    __slots__ = ()
    _table = "_measures"

    @property
    def point_index(self) -> int:
        """Row of the point this measure belongs to."""
        return int(np.searchsorted(self._net.point_offsets, self._i, side="right") - 1)

    @property
    def logs(self) -> list[dict[str, Any]]:
        """This measure's log entries."""
        return self._net.measure_logs.entries(self._i)

    def __repr__(self) -> str:
        return f"MeasureView(serial={self.serial!r}, sample={self.sample!r}, line={self.line!r})"


def _coerce(fld_kind: str, name: str, values: Any, n: int) -> Any:
    """One column of kind *fld_kind* and length *n* from user values (scalars broadcast)."""
    if fld_kind == "str":
        if values is None or isinstance(values, str):
            return Strings.constant(n, values)
        col = Strings.from_values(values)
    elif fld_kind == "id":
        col = np.asarray(values).reshape(-1).astype(str).astype(object)
    elif fld_kind == "covar":
        col = np.asarray(values, dtype=np.float64)
        if col.ndim == 1 and col.shape == (6,):
            col = np.broadcast_to(col, (n, 6))
        col = np.array(col, dtype=np.float64, copy=True)
        if col.shape != (n, 6):
            raise CnetError(f"column {name} must have shape ({n}, 6), got {col.shape}")
        return col
    else:
        arr = np.asarray(values)
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, (n,))
        if fld_kind == "flag" and arr.dtype == bool:
            col = np.where(arr, 1, UNSET).astype(np.int8)  # ISIS writes flags only when true
        elif fld_kind == "double":
            col = arr.astype(np.float64, copy=True)
        else:
            dtype = empty_column(fld_kind, 0).dtype
            wide = arr.astype(np.int64)
            if wide.size and (wide.min() < UNSET or wide.max() > np.iinfo(dtype).max):
                raise CnetError(f"column {name} holds values outside {UNSET}..{np.iinfo(dtype).max}")
            col = wide.astype(dtype)
    if len(col) != n:
        raise CnetError(f"column {name} has {len(col)} rows, expected {n}")
    return col


def _codes(mapping: Mapping[str, int], name: str, values: Any) -> Any:
    """Accept enum names (str) as well as codes."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
        scalar = True
    else:
        scalar = False
    arr = np.asarray(values, dtype=object).reshape(-1) if not isinstance(values, np.ndarray) else values
    if arr.dtype == object and arr.size and isinstance(arr[0], str):
        try:
            arr = np.array([mapping[v] for v in arr], dtype=np.int64)
        except KeyError as exc:
            raise CnetError(f"unknown {name} {exc.args[0]!r}; expected one of {sorted(mapping)}") from None
    return arr[0] if scalar else arr


class ControlNetwork:
    """An ISIS3 control network as column arrays (see the module docstring).

    Build one with :meth:`from_arrays` (or read one with :func:`tiepoint.cnet.read`); the
    constructor takes already-validated columns and is what the codecs use.
    """

    __slots__ = ("_measures", "_points", "header", "measure_logs", "point_logs", "point_offsets")

    def __init__(
        self,
        header: NetworkHeader,
        points: dict[str, Any],
        measures: dict[str, Any],
        point_offsets: np.ndarray,
        point_logs: LogTable | None = None,
        measure_logs: LogTable | None = None,
    ) -> None:
        self.header = header
        self.point_offsets = np.asarray(point_offsets, dtype=np.int64)
        n_points = self.point_offsets.shape[0] - 1
        n_measures = int(self.point_offsets[-1])
        self._points = {f.name: points.get(f.name) for f in POINT_FIELDS}
        self._measures = {f.name: measures.get(f.name) for f in MEASURE_FIELDS}
        for cols, fields, n in (
            (self._points, POINT_FIELDS, n_points),
            (self._measures, MEASURE_FIELDS, n_measures),
        ):
            for fld in fields:
                if cols[fld.name] is None:
                    cols[fld.name] = (
                        Strings.constant(n, None) if fld.kind == "str" else empty_column(fld.kind, n)
                    )
                if len(cols[fld.name]) != n:
                    raise CnetError(f"column {fld.name} has {len(cols[fld.name])} rows, expected {n}")
        self.point_logs = point_logs if point_logs is not None else LogTable.empty(n_points)
        self.measure_logs = measure_logs if measure_logs is not None else LogTable.empty(n_measures)
        if (
            self.point_logs.offsets.shape[0] != n_points + 1
            or self.measure_logs.offsets.shape[0] != n_measures + 1
        ):
            raise CnetError("log tables do not match the number of points / measures")

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        point_ids: Sequence[str] | np.ndarray,
        measure_point: Sequence[int] | np.ndarray,
        serials: Sequence[str] | np.ndarray | Strings,
        samples: Sequence[float] | np.ndarray,
        lines: Sequence[float] | np.ndarray,
        *,
        point_types: Any = "Free",
        measure_types: Any = "Candidate",
        reference_index: Sequence[int] | np.ndarray | None = None,
        points: Mapping[str, Any] | None = None,
        measures: Mapping[str, Any] | None = None,
        measure_logs: Mapping[str, Any] | None = None,
        header: NetworkHeader | None = None,
        **header_fields: Any,
    ) -> ControlNetwork:
        """Build a network from one row per point and one row per measure.

        Parameters
        ----------
        point_ids : sequence of str, length P
            Unique, non-empty point ids.
        measure_point : int array, length M
            The point (row of *point_ids*) each measure belongs to. Measures are grouped by point,
            keeping their given order within a point; all measure columns follow that order.
        serials : sequence of str or :class:`Strings`, length M
            ISIS serial number of each measure's image (:func:`tiepoint.cnet.serial_number`). A
            ``Strings(codes=image index per measure, values=serial per image)`` is the fastest.
        samples, lines : float arrays, length M
            ISIS pixel coordinates (1-based; ``tiepoint.pixels.to_isis_coords(x, y)``). NaN: unset.
        point_types, measure_types : str, int or array
            Names (``"Free"``, ``"RegisteredSubPixel"``, ...) or codes; a scalar applies to all.
        reference_index : int array, length P, optional
            Index of each point's reference measure *within the point* (-1: none).
        points, measures : mapping of column name -> values, optional
            Any other column of :mod:`tiepoint.cnet.schema` (``apriori_x``, ``apriori_covar``
            (P, 6), ``ignore`` (bool: True written, False absent), ``apriori_sample``,
            ``sample_sigma``, ``chooser_name``, ...). Source columns also take names.
        measure_logs : mapping, optional
            ``{"measure": int array (one row per entry: measure row in the caller's order),
            "double_type": ..., "double_value": ...}`` (e.g. type 6/7 for correlations).
        header : NetworkHeader, optional
            Or give its fields as keywords (``network_id=..., target_name=...``).

        Raises
        ------
        CnetError
            Naming the column that has the wrong length, an unknown name, or a point index out of range.
        """
        ids = _coerce("id", "point_ids", point_ids, len(point_ids))
        n_points = ids.shape[0]
        owner = np.asarray(measure_point, dtype=np.int64).reshape(-1)
        n_measures = owner.shape[0]
        if n_measures and (owner.min() < 0 or owner.max() >= n_points):
            raise CnetError(f"measure_point must be in 0..{n_points - 1}")
        order = np.argsort(owner, kind="stable")
        offsets = np.zeros(n_points + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n_points), out=offsets[1:])

        point_in = dict(points or {})
        point_in["id"] = ids
        point_in["type"] = _codes(POINT_TYPES, "point type", point_types)
        if reference_index is not None:
            point_in["reference_index"] = reference_index
        for name, mapping in (
            ("apriori_surf_source", APRIORI_SOURCES),
            ("apriori_radius_source", APRIORI_SOURCES),
        ):
            if name in point_in:
                point_in[name] = _codes(mapping, name, point_in[name])
        measure_in = dict(measures or {})
        measure_in.update(serial=serials, sample=samples, line=lines)
        measure_in["type"] = _codes(MEASURE_TYPES, "measure type", measure_types)

        point_cols = _build_columns(POINT_FIELDS, point_in, n_points, "point")
        measure_cols = _build_columns(MEASURE_FIELDS, measure_in, n_measures, "measure")
        measure_cols = {
            k: (v.take(order) if isinstance(v, Strings) else v[order]) for k, v in measure_cols.items()
        }

        logs = None
        if measure_logs:
            entries = dict(measure_logs)
            try:
                log_owner = np.asarray(entries.pop("measure"), dtype=np.int64)
            except KeyError:
                raise CnetError("measure_logs needs a 'measure' column") from None
            unknown = set(entries) - {f.name for f in LOG_FIELDS}
            if unknown:
                raise CnetError(f"unknown log columns {sorted(unknown)}")
            if log_owner.size and (log_owner.min() < 0 or log_owner.max() >= n_measures):
                raise CnetError(f"measure_logs['measure'] must be in 0..{n_measures - 1}")
            new_row = np.empty(n_measures, dtype=np.int64)
            new_row[order] = np.arange(n_measures)
            logs = LogTable.from_entries(n_measures, new_row[log_owner], **entries)
        if header is None:
            header = NetworkHeader(**header_fields)
        elif header_fields:
            header = replace(header, **header_fields)
        return cls(header, point_cols, measure_cols, offsets, None, logs)

    # -- access -------------------------------------------------------------------------------------

    @property
    def points(self) -> _Columns:
        """Point columns by attribute (``net.points.id``); ``net.points[i]`` is a :class:`PointView`."""
        return _Columns(self, self._points, PointView)

    @property
    def measures(self) -> _Columns:
        """Measure columns by attribute; ``net.measures[j]`` is a :class:`MeasureView`."""
        return _Columns(self, self._measures, MeasureView)

    @property
    def n_points(self) -> int:
        return int(self.point_offsets.shape[0] - 1)

    @property
    def n_measures(self) -> int:
        return int(self.point_offsets[-1])

    @property
    def measure_point(self) -> np.ndarray:
        """Row of the point of each measure (int64, length M)."""
        return np.repeat(np.arange(self.n_points, dtype=np.int64), np.diff(self.point_offsets))

    @property
    def measure_counts(self) -> np.ndarray:
        """Number of measures of each point."""
        return np.diff(self.point_offsets)

    def serials(self) -> list[str]:
        """The distinct serial numbers that measures use, sorted."""
        col: Strings = self._measures["serial"]
        return sorted(str(v) for v in col.values[np.unique(col.codes[col.codes >= 0])])

    def __len__(self) -> int:
        return self.n_points

    def __repr__(self) -> str:
        return (
            f"ControlNetwork(id={self.header.network_id!r}, target={self.header.target_name!r}, "
            f"points={self.n_points}, measures={self.n_measures})"
        )

    # -- filtering ----------------------------------------------------------------------------------

    def select_points(self, mask: np.ndarray) -> ControlNetwork:
        """A new network with the points where *mask* is true (or an integer index), with their measures."""
        index = _as_index(mask, self.n_points, "select_points")
        rows, offsets = _csr_take(self.point_offsets, index)
        points = {k: (v.take(index) if isinstance(v, Strings) else v[index]) for k, v in self._points.items()}
        measures = {
            k: (v.take(rows) if isinstance(v, Strings) else v[rows]) for k, v in self._measures.items()
        }
        return ControlNetwork(
            replace(self.header),
            points,
            measures,
            offsets,
            self.point_logs.take_owners(index),
            self.measure_logs.take_owners(rows),
        )

    def drop_measures(self, mask: np.ndarray) -> ControlNetwork:
        """A new network without the measures where *mask* (length M) is true.

        Reference indices are recomputed: a point keeps its reference measure at its new position,
        and loses the reference (unset) if that measure was dropped. Points keep existing even if
        they lose all their measures; drop them with :meth:`select_points`.
        """
        drop = np.asarray(mask, dtype=bool).reshape(-1)
        if drop.shape[0] != self.n_measures:
            raise CnetError(f"drop_measures needs a mask of {self.n_measures} measures, got {drop.shape[0]}")
        keep_rows = np.flatnonzero(~drop)
        owner = self.measure_point
        offsets = np.zeros(self.n_points + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep_rows], minlength=self.n_points), out=offsets[1:])
        # new reference index = number of kept measures of the point before the reference measure
        ref = self._points["reference_index"].astype(np.int64)
        new_ref = np.full(self.n_points, UNSET, dtype=np.int32)
        has = (ref >= 0) & (ref < self.measure_counts)
        ref_row = self.point_offsets[:-1][has] + ref[has]
        kept_before = np.concatenate(([0], np.cumsum(~drop)))  # kept measures before each row
        alive = ~drop[ref_row]
        idx = np.flatnonzero(has)[alive]
        new_ref[idx] = kept_before[ref_row[alive]] - offsets[:-1][idx]
        points = dict(self._points)
        points["reference_index"] = new_ref
        measures = {
            k: (v.take(keep_rows) if isinstance(v, Strings) else v[keep_rows])
            for k, v in self._measures.items()
        }
        return ControlNetwork(
            replace(self.header),
            points,
            measures,
            offsets,
            self.point_logs,
            self.measure_logs.take_owners(keep_rows),
        )

    # -- checks -------------------------------------------------------------------------------------

    def validate(self, path: str | None = None) -> None:
        """Check what ISIS needs before writing; raise :class:`CnetError` naming the first bad point.

        Checks: non-empty unique point ids, point and measure types, a-priori sources ISIS accepts,
        reference index inside the point's measure list, every measure with a non-empty serial
        number, covariance rows complete (6 values) or absent, sample and line both set or both unset.
        """
        p, m = self._points, self._measures
        ids = p["id"]

        def fail(point: int, message: str) -> None:
            raise CnetError(f"point {ids[point]!r} (index {point}): {message}", path)

        if ids.size:
            empty = np.flatnonzero(np.char.str_len(ids.astype(str)) == 0)
            if empty.size:
                fail(int(empty[0]), "the point id is empty")
            if len(set(ids.tolist())) != ids.size:  # a set is faster than sorting the strings
                _, first, counts = np.unique(ids.astype(str), return_index=True, return_counts=True)
                fail(int(first[np.argmax(counts > 1)]), "the point id is used by more than one point")
        bad = np.flatnonzero(~np.isin(p["type"], list(POINT_TYPES.values())))
        if bad.size:
            fail(
                int(bad[0]),
                f"point type {int(p['type'][bad[0]])} is not Free (2), Constrained (3) or Fixed (4)",
            )
        for name, allowed in (
            ("apriori_surf_source", SURFACE_SOURCES),
            ("apriori_radius_source", RADIUS_SOURCES),
        ):
            col = p[name]
            bad = np.flatnonzero((col != UNSET) & ~np.isin(col, list(allowed)))
            if bad.size:
                fail(int(bad[0]), f"{name} {int(col[bad[0]])} is not one ISIS accepts ({sorted(allowed)})")
        ref = p["reference_index"]
        bad = np.flatnonzero((ref != UNSET) & ((ref < 0) | (ref >= self.measure_counts)))
        if bad.size:
            i = int(bad[0])
            fail(i, f"reference index {int(ref[i])} is outside its {int(self.measure_counts[i])} measures")
        for name in ("apriori_covar", "adjusted_covar"):
            nan = np.isnan(p[name])
            bad = np.flatnonzero(nan.any(axis=1) & ~nan.all(axis=1))
            if bad.size:
                fail(int(bad[0]), f"{name} must have all 6 values or none")
        owner = self.measure_point
        serial: Strings = m["serial"]
        empty_value = np.array([not v for v in serial.values], dtype=bool)
        bad = np.flatnonzero(
            (serial.codes < 0) | empty_value[np.maximum(serial.codes, 0)]
            if serial.values.size
            else serial.codes < 0
        )
        if bad.size:
            fail(
                int(owner[bad[0]]),
                f"measure {int(bad[0] - self.point_offsets[owner[bad[0]]])} has no serial number",
            )
        bad = np.flatnonzero(~np.isin(m["type"], list(MEASURE_TYPES.values())))
        if bad.size:
            fail(
                int(owner[bad[0]]),
                f"measure type {int(m['type'][bad[0]])} is not one of {sorted(MEASURE_TYPES.values())}",
            )

    def equals(self, other: ControlNetwork, *, header: bool = True) -> bool:
        """Field-by-field equality of two networks (NaN equals NaN)."""
        return not self.differences(other, header=header)

    def differences(self, other: ControlNetwork, *, header: bool = True) -> list[str]:
        """Names of the fields where two networks differ (empty: equal)."""
        out = []
        if header and self.header != other.header:
            out.append("header")
        if not np.array_equal(self.point_offsets, other.point_offsets):
            return [*out, "point_offsets"]
        for kind, a, b in (
            ("point", self._points, other._points),
            ("measure", self._measures, other._measures),
        ):
            for name in a:
                x, y = a[name], b[name]
                if isinstance(x, Strings):
                    same = x.equals(y)
                elif x.dtype == object:
                    same = bool(np.array_equal(x, y))
                else:
                    same = bool(np.array_equal(x, y, equal_nan=np.issubdtype(x.dtype, np.floating)))
                if not same:
                    out.append(f"{kind}.{name}")
        if not self.point_logs.equals(other.point_logs):
            out.append("point_logs")
        if not self.measure_logs.equals(other.measure_logs):
            out.append("measure_logs")
        return out


def concat(parts: Sequence[ControlNetwork], header: NetworkHeader | None = None) -> ControlNetwork:
    """The points of several networks, in order, as one network (header: *header* or the first's)."""
    if not parts:
        raise CnetError("concat needs at least one network")

    def join(cols: list[Any]) -> Any:
        if isinstance(cols[0], Strings):
            base = np.cumsum([0] + [c.values.shape[0] for c in cols[:-1]])
            codes = np.concatenate(
                [np.where(c.codes >= 0, c.codes + b, UNSET) for c, b in zip(cols, base, strict=True)]
            )
            values = np.concatenate([c.values for c in cols])
            if not values.size:
                return Strings(codes, values)
            uniq, inv = np.unique(values.astype(str), return_inverse=True)
            remap = inv.astype(np.int32)
            return Strings(np.where(codes >= 0, remap[np.maximum(codes, 0)], UNSET), uniq.astype(object))
        return np.concatenate(cols)

    def join_logs(tables: list[LogTable]) -> LogTable:
        base = np.cumsum([0] + [len(t) for t in tables[:-1]])
        offsets = np.concatenate([[0]] + [t.offsets[1:] + b for t, b in zip(tables, base, strict=True)])
        return LogTable(offsets, *(np.concatenate([getattr(t, f.name) for t in tables]) for f in LOG_FIELDS))

    points = {name: join([p._points[name] for p in parts]) for name in parts[0]._points}
    measures = {name: join([p._measures[name] for p in parts]) for name in parts[0]._measures}
    base = np.cumsum([0] + [p.n_measures for p in parts[:-1]])
    offsets = np.concatenate([[0]] + [p.point_offsets[1:] + b for p, b in zip(parts, base, strict=True)])
    return ControlNetwork(
        header if header is not None else replace(parts[0].header),
        points,
        measures,
        offsets,
        join_logs([p.point_logs for p in parts]),
        join_logs([p.measure_logs for p in parts]),
    )


def _as_index(mask: np.ndarray, n: int, what: str) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise CnetError(f"{what} needs a mask of {n} rows, got shape {arr.shape}")
        return np.flatnonzero(arr)
    arr = arr.astype(np.int64).reshape(-1)
    if arr.size and (arr.min() < -n or arr.max() >= n):
        raise CnetError(f"{what}: index out of range for {n} rows")
    return arr % n if arr.size else arr


def _build_columns(fields: Sequence[Any], values: Mapping[str, Any], n: int, what: str) -> dict[str, Any]:
    known = {f.name: f for f in fields}
    unknown = set(values) - set(known)
    if unknown:
        raise CnetError(f"unknown {what} columns {sorted(unknown)}; known: {sorted(known)}")
    return {name: _coerce(known[name].kind, name, v, n) for name, v in values.items() if v is not None}


__all__ = [
    "CnetError",
    "ControlNetwork",
    "LogTable",
    "MeasureView",
    "NetworkHeader",
    "PointView",
    "Strings",
    "concat",
]
