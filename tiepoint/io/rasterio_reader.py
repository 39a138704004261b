"""Reader of the formats GDAL knows (PDS3 ``.IMG``, GeoTIFF, PNG, JPEG, ...) through rasterio."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.errors import ImageError, UnsupportedFormatError
from tiepoint.io.base import ImageNotFoundError, ImageReader
from tiepoint.io.windows import Window, normalize_window


class RasterioImage(ImageReader):
    """An image opened with rasterio. Prefer :func:`tiepoint.io.open_image`.

    ``label`` is a dict: ``driver``, ``profile`` (rasterio's profile, CRS as WKT), ``tags`` (dataset
    metadata), ``band_tags`` (band 1 metadata). :meth:`read` applies the band's scale/offset (the
    result is then float64; else the stored dtype) and masks GDAL's no-data mask and NaN; masked float
    pixels hold NaN.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import rasterio
        from rasterio.errors import RasterioIOError

        self.path = Path(path)
        if not self.path.is_file():
            raise ImageNotFoundError("the file does not exist", self.path)
        try:
            self._ds = rasterio.open(self.path)
        except RasterioIOError as exc:
            raise UnsupportedFormatError(f"not an image format GDAL can read ({exc})", self.path) from None
        except Exception as exc:  # GDAL drivers on damaged files: e.g. UnicodeDecodeError of a message
            raise UnsupportedFormatError(
                f"GDAL cannot open it as an image: {type(exc).__name__}: {exc}", self.path
            ) from None
        ds = self._ds
        self.shape = (ds.height, ds.width)
        self.bands = ds.count
        self.dtype = np.dtype(ds.dtypes[0])
        profile: dict[str, Any] = dict(ds.profile)
        if profile.get("crs") is not None:
            profile["crs"] = profile["crs"].to_wkt()
        self.label = {
            "driver": ds.driver,
            "profile": profile,
            "tags": ds.tags(),
            "band_tags": ds.tags(1) if ds.count else {},
        }

    def read(self, window: Window | None = None, band: int = 1) -> np.ma.MaskedArray:
        """Read one band (1-based), or a window of it, in physical units with no-data masked."""
        from rasterio.errors import RasterioIOError
        from rasterio.windows import Window as RioWindow

        band = self._check_band(band)
        (l0, l1), (s0, s1) = normalize_window(window, self.shape, self.path)
        try:
            arr = self._ds.read(band, window=RioWindow(s0, l0, s1 - s0, l1 - l0), masked=True)
        except RasterioIOError as exc:
            raise ImageError(f"reading pixels failed: {exc}", self.path) from None
        except Exception as exc:  # as in __init__: whatever a GDAL driver raises on a damaged file
            raise ImageError(f"reading pixels failed: {type(exc).__name__}: {exc}", self.path) from None
        data, mask = np.ma.getdata(arr), np.ma.getmaskarray(arr).copy()
        scale, offset = self._ds.scales[band - 1], self._ds.offsets[band - 1]
        if scale != 1.0 or offset != 0.0:
            data = data * np.float64(scale) + np.float64(offset)
        if data.dtype.kind == "f":
            mask |= np.isnan(data)
            np.copyto(data, np.nan, where=mask)
        return np.ma.MaskedArray(data, mask=mask, copy=False)

    def close(self) -> None:
        """Close the rasterio dataset."""
        self._ds.close()

    def __reduce__(self) -> tuple:
        # pickle by path (e.g. to a Dask worker); the dataset handle cannot travel
        return (type(self), (str(self.path),))
