"""Shared pieces of the gazetteer readers: validation into reject rows, address formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazetteer.coordinates import EASTING_RANGE, NORTHING_RANGE, to_wgs84
from gazetteer.postcode import normalise_postcode
from schemas.columns import LpiFrame as L
from schemas.columns import PropertyFrame as P
from schemas.columns import RejectFrame as R

LINE = "_line"


class Rejects:
    """Collects rejected rows (line, record type, key, field, reason) across checks."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(self, df: pd.DataFrame, bad: pd.Series, record_type: str, key_col: str | None, field: str, reason: str) -> pd.DataFrame:
        """Record the rows of ``df`` flagged in ``bad`` and return the rest."""
        bad = bad.fillna(True).astype(bool)
        if not bad.any():
            return df  # no copy of a million-row frame when every row is good
        if bad.any():
            rows = df.loc[bad]
            keys = rows[key_col].astype(str) if key_col and key_col in rows else pd.Series("", index=rows.index)
            self._parts.append(pd.DataFrame({
                R.line: rows[LINE].to_numpy(), R.record_type: record_type, R.key: keys.to_numpy(),
                R.field: field, R.reason: reason,
            }))
        return df.loc[~bad]

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in R.COLUMNS})
        return pd.concat(self._parts, ignore_index=True).sort_values(R.line, kind="stable").reset_index(drop=True)

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)


def blank(s: pd.Series) -> pd.Series:
    """True where a string field is missing or empty."""
    return s.isna() | (s == "")


def _numbers(s: pd.Series) -> pd.Series:
    v = s.where(~blank(s))
    try:  # fast path: every value numeric or missing
        return v.astype("float64")
    except (TypeError, ValueError):
        return pd.to_numeric(v, errors="coerce")


def bad_id(s: pd.Series, *, required: bool = True, max_digits: int = 12) -> pd.Series:
    """True where an identifier (UPRN/USRN) is not a whole number of 1..max_digits digits (blank is bad if required)."""
    v = _numbers(s)
    ok = v.notna() & (v >= 0) & (v < 10.0 ** max_digits) & (v == np.floor(v))
    if not required:
        ok = ok | blank(s)
    return ~ok


def to_int(s: pd.Series) -> pd.Series:
    """Digits → nullable Int64 (blank or non-numeric → <NA>)."""
    if s.dtype.kind in "iuf" or str(s.dtype) == "Int64":
        return s.astype("Int64")
    return _numbers(s.astype(object)).round().astype("Int64")


def map_unique(s: pd.Series, fn) -> np.ndarray:
    """Apply ``fn`` to each distinct value only (gazetteer text repeats heavily); missing → None."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return mapped[codes]  # code -1 picks the trailing None


def _text(u: object) -> str | None:
    t = str(u).strip().upper()
    return t or None


def text(s: pd.Series) -> pd.Series:
    """Trimmed upper-case text; blank → None."""
    return pd.Series(map_unique(s, _text), index=s.index, dtype=object)


def check_postcode(df: pd.DataFrame, col: str, rejects: Rejects, rtype: str, key_col: str) -> pd.DataFrame:
    """Reject rows whose non-blank postcode is malformed; canonicalise the rest in place."""
    pc = pd.Series(map_unique(df[col], normalise_postcode), index=df.index, dtype=object)
    bad = ~blank(df[col]) & pc.isna()
    df = df.assign(**{col: pc})
    return rejects.add(df, bad, rtype, key_col, col, "malformed postcode")


def check_coordinates(df: pd.DataFrame, xcol: str, ycol: str, rejects: Rejects, rtype: str, key_col: str) -> pd.DataFrame:
    """Reject rows with non-numeric or out-of-Great-Britain coordinates (blank allowed)."""
    x = _numbers(df[xcol])
    y = _numbers(df[ycol])
    given = ~blank(df[xcol]) | ~blank(df[ycol])
    inside = x.between(*EASTING_RANGE) & y.between(*NORTHING_RANGE)
    df = df.assign(**{xcol: x, ycol: y})
    return rejects.add(df, given & ~inside.fillna(False).astype(bool), rtype, key_col, f"{xcol}/{ycol}", "impossible coordinates")


def add_wgs84(props: pd.DataFrame) -> pd.DataFrame:
    """Fill latitude/longitude from easting/northing."""
    lat, lon = to_wgs84(props[P.easting].astype("float64").to_numpy(), props[P.northing].astype("float64").to_numpy())
    return props.assign(**{P.latitude: lat, P.longitude: lon})


def _str(s: pd.Series) -> np.ndarray:
    """Object array of strings, "" for missing; whole numbers without a trailing ".0"."""
    if s.dtype.kind in "iuf" or str(s.dtype) == "Int64":
        out = map_unique(s.astype("Int64"), lambda v: str(int(v)))
    else:
        out = map_unique(s, lambda v: str(v))
    return np.where(out == None, "", out).astype(object)  # noqa: E711


def _cat(a: np.ndarray, b: np.ndarray, sep: str) -> np.ndarray:
    both = (a != "") & (b != "")
    return a + np.where(both, sep, "") + b


def _num(start, suffix, end, end_suffix) -> np.ndarray:
    s = _str(start) + _str(suffix)
    e = _str(end) + _str(end_suffix)
    return _cat(s, e, "-")


def format_address(lpis: pd.DataFrame) -> np.ndarray:
    """Single-line address from LPI parts: ``ORG, SAO, PAO STREET, LOCALITY, TOWN, POSTCODE``."""
    sao = _cat(_str(lpis[L.sao_text]), _num(lpis[L.sao_start_number], lpis[L.sao_start_suffix], lpis[L.sao_end_number], lpis[L.sao_end_suffix]), " ")
    pao_num = _num(lpis[L.pao_start_number], lpis[L.pao_start_suffix], lpis[L.pao_end_number], lpis[L.pao_end_suffix])
    pao_line = _cat(pao_num, _str(lpis[L.street_description]), " ")
    town = _str(lpis[L.town])
    locality = _str(lpis[L.locality])
    locality = np.where(locality == town, "", locality).astype(object)
    out = _str(lpis[L.organisation])
    for part in (sao, _str(lpis[L.pao_text]), pao_line, locality, town, _str(lpis[L.postcode])):
        out = _cat(out, part, ", ")
    return out


def finish_lpis(lpis: pd.DataFrame) -> pd.DataFrame:
    """Types, formatted address and column order of an LPI frame."""
    for c in (L.sao_start_suffix, L.sao_end_suffix, L.sao_text, L.pao_start_suffix, L.pao_end_suffix, L.pao_text,
              L.organisation, L.street_description, L.locality, L.town):
        lpis[c] = text(lpis[c]) if lpis[c].dtype == object else lpis[c]
    for c in (L.sao_start_number, L.sao_end_number, L.pao_start_number, L.pao_end_number, L.logical_status, L.uprn, L.usrn):
        lpis[c] = to_int(lpis[c])
    lpis[L.address] = format_address(lpis)
    return lpis.loc[:, list(L.COLUMNS)].reset_index(drop=True)


def finish_properties(props: pd.DataFrame) -> pd.DataFrame:
    """Types, WGS84 and column order of a property frame."""
    for c in (P.uprn, P.parent_uprn, P.blpu_state, P.logical_status):
        props[c] = to_int(props[c])
    props[P.easting] = pd.to_numeric(props[P.easting], errors="coerce").astype("float64")
    props[P.northing] = pd.to_numeric(props[P.northing], errors="coerce").astype("float64")
    props = add_wgs84(props)
    return props.loc[:, list(P.COLUMNS)].reset_index(drop=True)
