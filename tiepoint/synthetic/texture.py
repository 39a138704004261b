"""A deterministic planetary ground texture defined on the body: craters plus multi-scale albedo.

The texture is a pure function of body-fixed position (and of the sun direction, for shading), so
any two images that see the same ground see the same craters at the same places: features of
rendered images lie at their true correspondences.

Design
------
* **Craters** sit on several levels of an (almost) equal-area latitude/longitude grid of the unit
  sphere. Level ``k`` has cells of about ``cell_k = 4 * d_max_k`` metres; in each cell a seeded hash
  decides whether there is a crater, its diameter in ``[d_max_k / 2, d_max_k]``, its freshness and
  its centre, placed so the crater and its ejecta (to two radii) stay inside the cell. A pixel
  therefore only looks up its own cell on each level: O(levels) per pixel, fully vectorized.
  Two grids per level (the second shifted by half a cell) double the density and let craters
  overlap. Longitude cell counts shrink with ``cos(latitude)`` so cells stay about square; cells
  within one band of a pole are wedges (craters there are still round, only sparser).
* **Crater profile** (radius ``R``, ``r`` = distance / ``R``): a parabolic bowl ``h = H + d (r^2 - 1)``
  inside, a raised rim ``H``, and ejecta ``H r^-3`` tapered to zero at ``r = 2``; depth ``d = 0.2 D``
  and rim ``H = 0.04 D`` for fresh craters, both scaled down by a per-crater freshness.
* **Shading**: Lambert on the analytic surface normal (sum of the craters' slope vectors), with the
  shadow a bowl's sun-facing rim casts on its floor computed analytically (ray to the rim versus rim
  height), and a little ambient light; the sun direction comes from the camera (the ISD).
* **Albedo**: 3D value noise (trilinear, smoothstep) at several wavelengths, continuous everywhere
  on the body, plus bright ejecta and slightly dark floors for fresh craters.

Scales suit MRO CTX (5-6 m/pixel): crater diameters from 15 m to ~2 km. Features much smaller than
a pixel are left out when a pixel size is given (no aliasing when rendering downscaled images).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


def _hash(*keys: np.ndarray | int) -> np.ndarray:
    """SplitMix64-style hash of integer arrays (broadcast together) to uint64.

    Scalar keys are folded first, so only the array keys cost a pass over the arrays.
    """
    with np.errstate(over="ignore"):
        h = np.uint64(0x9E3779B97F4A7C15)
        for k in sorted(keys, key=np.ndim):  # scalars first
            v = np.asarray(k).astype(np.int64).view(np.uint64)
            h = (h ^ v) * np.uint64(0xBF58476D1CE4E5B9)
            h = h ^ (h >> np.uint64(31))
            h = h * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(29))
    return h


def _pack3(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """One int64 key from three lattice indices (21 bits each; beyond that keys merely collide)."""
    m = (1 << 21) - 1
    return ((ix & m) << 42) | ((iy & m) << 21) | (iz & m)


def _uniform(h: np.ndarray, salt: int) -> np.ndarray:
    """A uniform float in [0, 1) derived from hash ``h`` and ``salt``."""
    with np.errstate(over="ignore"):
        v = (h ^ np.uint64(salt * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF)) * np.uint64(0xD6E8FEB86659FD93)
        v = v ^ (v >> np.uint64(32))
        v = v * np.uint64(0xD6E8FEB86659FD93)
        v = v ^ (v >> np.uint64(32))
    return (v >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


@dataclass(frozen=True, slots=True)
class TextureParams:
    """Parameters of :class:`GroundTexture` (all lengths in metres)."""

    seed: int = 20261125
    crater_levels: tuple[float, ...] = (30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0)
    """Largest crater diameter of each level; each level holds diameters in [d/2, d]."""
    crater_probability: float = 0.55
    """Chance that a grid cell holds a crater."""
    grids_per_level: int = 2
    albedo_wavelengths: tuple[float, ...] = (12.0, 40.0, 150.0, 600.0, 2500.0, 10000.0)
    albedo_amplitudes: tuple[float, ...] = (0.20, 0.25, 0.20, 0.15, 0.15, 0.15)
    base_albedo: float = 0.25
    ambient: float = 0.04
    """Fraction of light that is diffuse (so shadows are dark, not black)."""
    depth_ratio: float = 0.2
    rim_ratio: float = 0.04


@dataclass(slots=True)
class GroundTexture:
    """The ground texture of a body: craters and albedo at body-fixed positions.

    Parameters
    ----------
    radius : float
        Body radius (m) used to turn angles into ground distances (the mean radius is fine).
    params : TextureParams
        Crater and albedo parameters; the seed makes the ground.
    """

    radius: float
    params: TextureParams = field(default_factory=TextureParams)

    def shade(self, xyz: np.ndarray, sun_dir: np.ndarray, pixel_size: float | None = None) -> np.ndarray:
        """Reflectance (0..~1) of the ground at body-fixed points lit from ``sun_dir``.

        Parameters
        ----------
        xyz : (N, 3) float array
            Body-fixed points (m), all finite.
        sun_dir : (N, 3) or (3,) float array
            Unit vectors from the ground toward the sun (body-fixed).
        pixel_size : float, optional
            Ground size of a pixel (m); craters and albedo wavelengths below about one pixel are
            left out to avoid aliasing.

        Returns
        -------
        (N,) float64 array
            ``albedo * (ambient + (1 - ambient) * lambert * shadow)`` (see :meth:`lighting`).
        """
        albedo, lambert, shadow = self.lighting(xyz, sun_dir, pixel_size)
        a = self.params.ambient
        return albedo * (a + (1.0 - a) * lambert * shadow)

    def lighting(
        self, xyz: np.ndarray, sun_dir: np.ndarray, pixel_size: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The terms of :meth:`shade`: albedo, Lambert ``max(0, normal . sun)`` and shadow (0..1)."""
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        sun = np.broadcast_to(np.asarray(sun_dir, dtype=np.float64), xyz.shape)
        p = self.params
        up = xyz / np.linalg.norm(xyz, axis=1)[:, None]
        grad = np.zeros_like(up)  # slope vector dh/ds in the tangent plane (body frame)
        shadow = np.ones(len(up))
        albedo_gain = np.ones(len(up))
        sun_up = np.einsum("ij,ij->i", sun, up)
        for c in self._craters(up, pixel_size):
            inside = c.r < 1.0
            grad[c.idx] += c.dh_dr[:, None] * c.offset / np.maximum(c.r * c.rad, 1e-9)[:, None]
            # bright ejecta blanket, slightly dark floor (fresher craters show more)
            taper = np.clip(2.0 - c.r, 0.0, 1.0)
            gain = np.where(inside, 1.0 - 0.12 * c.fresh * (1.0 - c.r**2), 1.0 + 0.18 * c.fresh * taper)
            albedo_gain[c.idx] *= gain
            # the shadow the sun-side rim casts into the bowl: ray toward the sun versus rim height
            s, s_up, u = sun[c.idx], sun_up[c.idx], up[c.idx]
            s_t = s - s_up[:, None] * u
            s_t_norm = np.maximum(np.linalg.norm(s_t, axis=1), 1e-12)
            ph = np.einsum("ij,ij->i", c.offset / c.rad[:, None], s_t / s_t_norm[:, None])
            t = -ph + np.sqrt(np.clip(ph**2 - c.r**2 + 1.0, 0.0, None))  # to the rim, in radii
            tan_e = s_up / s_t_norm
            clearance = c.h - c.rim + t * c.rad * tan_e  # ray height above the rim where it crosses it
            soft = (pixel_size if pixel_size else 0.05 * c.rad) * np.maximum(tan_e, 0.05)
            lit = np.clip(0.5 + clearance / soft, 0.0, 1.0)
            shadow[c.idx] *= np.where(inside & (tan_e > 0), lit, 1.0)
        normal = up - grad
        normal /= np.linalg.norm(normal, axis=1)[:, None]
        lambert = np.clip(np.einsum("ij,ij->i", normal, sun), 0.0, None)
        return p.base_albedo * self.albedo(xyz, pixel_size) * albedo_gain, lambert, shadow

    def height(self, xyz: np.ndarray, pixel_size: float | None = None) -> np.ndarray:
        """Crater topography (m above the reference surface) at body-fixed points."""
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        up = xyz / np.linalg.norm(xyz, axis=1)[:, None]
        out = np.zeros(len(up))
        for c in self._craters(up, pixel_size):
            out[c.idx] += c.h
        return out

    def albedo(self, xyz: np.ndarray, pixel_size: float | None = None) -> np.ndarray:
        """Relative albedo (around 1) from multi-scale 3D value noise at body-fixed points."""
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        p = self.params
        out = np.ones(len(xyz))
        for octave, (wl, amp) in enumerate(zip(p.albedo_wavelengths, p.albedo_amplitudes, strict=True)):
            if pixel_size is not None and wl < 2.0 * pixel_size:
                continue
            out += 2.0 * amp * (_value_noise(xyz / wl, p.seed * 131 + octave) - 0.5)
        return np.clip(out, 0.05, None)

    def _craters(self, up: np.ndarray, pixel_size: float | None) -> Iterator[_CraterTerms]:
        """The crater terms of every level and grid (skipping craters below ~1.5 pixels)."""
        lat = np.arcsin(np.clip(up[:, 2], -1.0, 1.0))
        lon = np.arctan2(up[:, 1], up[:, 0]) % (2.0 * np.pi)
        for level, d_max in enumerate(self.params.crater_levels):
            if pixel_size is not None and d_max < 1.5 * pixel_size:
                continue
            for grid in range(self.params.grids_per_level):
                terms = self._crater_terms(up, lat, lon, level, grid, d_max, pixel_size)
                if terms is not None:
                    yield terms

    def _crater_terms(
        self,
        up: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        level: int,
        grid: int,
        d_max: float,
        pixel_size: float | None,
    ) -> _CraterTerms | None:
        p = self.params
        cell = 4.0 * d_max / self.radius  # cell size in radians
        n_bands = max(1, int(np.pi / cell))
        dlat = np.pi / n_bands
        shift = 0.5 * grid  # the second grid is offset by half a cell
        band = np.clip(np.floor((lat + 0.5 * np.pi) / dlat - shift), 0, n_bands - 1).astype(np.int64)
        # per-band quantities from a small table (an image spans few bands)
        b0 = int(band.min())
        bands = np.arange(b0, int(band.max()) + 1)
        lat0_b = (bands + shift) * dlat - 0.5 * np.pi
        n_lon_b = np.maximum(1, np.floor(2.0 * np.pi * np.cos(lat0_b + 0.5 * dlat) / dlat))
        lat0, n_lon = lat0_b[band - b0], n_lon_b[band - b0]
        dlon = 2.0 * np.pi / n_lon
        col = np.floor(((lon / dlon) - shift) % n_lon).astype(np.int64)
        h = _hash(p.seed, level, grid, (band << 32) | col)
        idx = np.nonzero(_uniform(h, 1) < p.crater_probability)[0]
        h = h[idx]
        diam = d_max * (0.5 + 0.5 * _uniform(h, 2))
        if pixel_size is not None:
            keep = diam >= 1.5 * pixel_size
            idx, h, diam = idx[keep], h[keep], diam[keep]
        if len(idx) == 0:
            return None
        rad = 0.5 * diam
        fresh = 0.25 + 0.75 * _uniform(h, 3) ** 0.7
        # centre: the crater and its ejecta (2 radii) stay inside the cell
        lat0i, dloni = lat0[idx], dlon[idx]
        slack_lat = np.clip(0.5 * dlat * self.radius - 2.0 * rad, 0.0, None) / self.radius  # radians
        coslat_min = np.cos(np.minimum(np.maximum(np.abs(lat0i), np.abs(lat0i + dlat)), 0.5 * np.pi))
        width_lon = np.maximum(dloni * self.radius * coslat_min, 1e-9)
        slack_lon = np.clip(0.5 * width_lon - 2.0 * rad, 0.0, None) / width_lon  # fraction of the cell
        clat = lat0i + 0.5 * dlat + (2.0 * _uniform(h, 4) - 1.0) * slack_lat
        clon = (col[idx] + shift + 0.5 + (2.0 * _uniform(h, 5) - 1.0) * slack_lon) * dloni
        cosl = np.cos(clat)
        # cheap local lat/lon distance first: most points are outside their cell's crater
        dlon_c = (lon[idx] - clon + np.pi) % (2.0 * np.pi) - np.pi
        approx = self.radius * np.hypot(lat[idx] - clat, cosl * dlon_c)
        near = approx < 2.2 * rad
        if not near.any():
            return None
        idx, rad, diam, fresh, clat, clon, cosl = (a[near] for a in (idx, rad, diam, fresh, clat, clon, cosl))
        centre = np.stack([cosl * np.cos(clon), cosl * np.sin(clon), np.sin(clat)], axis=1)
        u = up[idx]
        offset = (u - centre) * self.radius  # chord ~ arc at these scales
        offset -= np.einsum("ij,ij->i", offset, u)[:, None] * u  # into the tangent plane
        r = np.linalg.norm(offset, axis=1) / rad
        near = r < 2.0
        if not near.any():
            return None
        idx, r, rad, diam, fresh, offset = (a[near] for a in (idx, r, rad, diam, fresh, offset))
        depth = p.depth_ratio * diam * fresh
        rim = p.rim_ratio * diam * fresh
        inside = r < 1.0
        # bowl H + d (r^2 - 1) inside; ejecta H r^-3 (2 - r) outside (zero at two radii)
        r_out = np.maximum(r, 1.0)
        h_out = rim * r_out**-3 * (2.0 - r_out)
        dh_out = rim * (-3.0 * r_out**-4 * (2.0 - r_out) - r_out**-3)
        height = np.where(inside, rim + depth * (r**2 - 1.0), h_out)
        dh_dr = np.where(inside, 2.0 * depth * r, dh_out) / rad
        return _CraterTerms(idx, r, rad, fresh, offset, rim, height, dh_dr)


@dataclass(slots=True)
class _CraterTerms:
    """One grid's craters at the points they touch (arrays aligned with ``idx``)."""

    idx: np.ndarray
    """Indices of the points within two radii of their cell's crater (unique)."""
    r: np.ndarray
    """Distance from the crater centre, in radii."""
    rad: np.ndarray
    """Crater radius (m)."""
    fresh: np.ndarray
    offset: np.ndarray
    """Tangent-plane vector (m) from the crater centre to the point."""
    rim: np.ndarray
    """Rim height (m)."""
    h: np.ndarray
    """Height (m) of the crater's profile at the point."""
    dh_dr: np.ndarray
    """Radial slope (m/m)."""


def _smooth(t: np.ndarray) -> np.ndarray:
    return t * t * (3.0 - 2.0 * t)


def _value_noise(q: np.ndarray, seed: int) -> np.ndarray:
    """3D value noise in [0, 1]: trilinear (smoothstep) interpolation of hashed lattice values."""
    base = np.floor(q)
    f = _smooth(q - base)
    b = base.astype(np.int64)
    out = np.zeros(len(q))
    for dx in (0, 1):
        wx = f[:, 0] if dx else 1.0 - f[:, 0]
        for dy in (0, 1):
            wy = f[:, 1] if dy else 1.0 - f[:, 1]
            for dz in (0, 1):
                wz = f[:, 2] if dz else 1.0 - f[:, 2]
                v = _uniform(_hash(seed, _pack3(b[:, 0] + dx, b[:, 1] + dy, b[:, 2] + dz)), 7)
                out += wx * wy * wz * v
    return out
