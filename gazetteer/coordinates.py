"""British National Grid (EPSG:27700) → WGS84 latitude/longitude, OSTN15 where available offline."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Plausible BNG extent (metres): anything outside is an impossible coordinate.
EASTING_RANGE = (0.0, 700_000.0)
NORTHING_RANGE = (0.0, 1_300_000.0)


@lru_cache(maxsize=1)
def _helmert():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


@lru_cache(maxsize=1)
def _ostn15():
    """convertbng's OSTN15 (Rust, vectorised), or None when not installed."""
    try:
        from convertbng.cutil import convert_lonlat
    except ImportError:
        return None
    return convert_lonlat


@lru_cache(maxsize=1)
def _pyproj_grid_available() -> bool:
    from pyproj.transformer import TransformerGroup

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup("EPSG:27700", "EPSG:4326")
    return bool(group.best_available)


def transformation_accuracy() -> str:
    """Say which BNG → WGS84 transformation :func:`to_wgs84` uses and its accuracy."""
    if _ostn15() is not None:
        return "OSTN15 via convertbng (offline grid, ~0.1 m; pyproj Helmert ~2 m outside the grid's coverage)"
    if _pyproj_grid_available():
        return "OSTN15 via PROJ grid uk_os_OSTN15_NTv2_OSGBtoETRS.tif (<=1 m)"
    return "Helmert 7-parameter via pyproj (no OSTN15 grid offline; ~2 m, up to 3.5 m from OSTN15)"


def to_wgs84(easting: object, northing: object) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised BNG easting/northing → (latitude, longitude); NaN where the input is missing.

    Examples:
        >>> lat, lon = to_wgs84([530000.0], [180000.0])
        >>> round(float(lat[0]), 3), round(float(lon[0]), 3)
        (51.504, -0.128)
    """
    e = np.asarray(easting, dtype="float64").ravel()
    n = np.asarray(northing, dtype="float64").ravel()
    lat = np.full(e.shape, np.nan)
    lon = np.full(e.shape, np.nan)
    ok = np.isfinite(e) & np.isfinite(n)
    if not ok.any():
        return lat, lon
    ostn = _ostn15()
    if ostn is not None:
        lo, la = ostn(np.ascontiguousarray(e[ok]), np.ascontiguousarray(n[ok]))
        lon[ok], lat[ok] = np.asarray(lo, dtype="float64"), np.asarray(la, dtype="float64")
    miss = ok & ~np.isfinite(lat)
    if miss.any():  # outside OSTN15 coverage (offshore) or convertbng absent
        lo, la = _helmert().transform(e[miss], n[miss])
        lon[miss], lat[miss] = lo, la
    return lat, lon
