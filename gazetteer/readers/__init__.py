"""Gazetteer file readers and format detection; :func:`read_gazetteer` is the entry point."""

from __future__ import annotations

import csv
from pathlib import Path

from gazetteer.errors import FormatError
from gazetteer.model import Gazetteer
from gazetteer.readers.flat import ABPLUS_MARKERS, read_abplus, read_minimal
from gazetteer.readers.records import read_record_csv

__all__ = ["detect_format", "read_gazetteer"]


def _first_rows(path: Path, n: int = 2000) -> list[list[str]]:
    rows: list[list[str]] = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for row in csv.reader(f):
            if row:
                rows.append(row)
            if len(rows) >= n:
                break
    return rows


def detect_format(path: Path) -> str:
    """Return ``abp``, ``dtf73``, ``abplus`` or ``minimal`` from the file's first rows."""
    rows = _first_rows(path)
    if not rows:
        raise FormatError(f"{path.name}: empty file")
    header = {c.strip().upper() for c in rows[0]}
    if "UPRN" in header and header & (ABPLUS_MARKERS - {"UPRN"}):
        return "abplus"
    if {"UPRN", "ADDRESS"} <= header:
        return "minimal"
    types = {r[0].strip() for r in rows}
    if not types & {"11", "15", "21", "24", "28", "32"}:
        raise FormatError(f"{path.name}: neither a record-type gazetteer nor a CSV with UPRN/ADDRESS headers")
    head = next((r for r in rows if r[0].strip() == "10"), None)
    if head is not None:
        joined = " ".join(head).upper()
        if "ADDRESSBASE" in joined or "ORDNANCE" in joined:
            return "abp"
        if len(head) > 7 and head[7].strip().startswith("7."):
            return "dtf73"
    if "28" in types:
        return "abp"
    # DTF 7.3 LPIs carry a postcode at field 25 and BLPUs a class code at field 8.
    lpi = next((r for r in rows if r[0].strip() == "24"), None)
    if lpi is not None and len(lpi) >= 28 and len(lpi) != 26:
        return "dtf73"
    blpu = next((r for r in rows if r[0].strip() == "21"), None)
    if blpu is not None and len(blpu) > 7 and blpu[7].strip()[:1].isalpha():
        return "dtf73"
    return "abp"


def read_gazetteer(path: Path, *, chunksize: int = 200_000) -> Gazetteer:
    """Read a gazetteer file in any supported format into data frames.

    Examples:
        >>> g = read_gazetteer(Path("addressbase_premium.csv"))  # doctest: +SKIP
        >>> g.rows_read == g.rows_loaded + len(g.rejects)  # doctest: +SKIP
        True
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: not a file")
    fmt = detect_format(path)
    if fmt in ("abp", "dtf73"):
        return read_record_csv(path, fmt)
    if fmt == "abplus":
        return read_abplus(path, chunksize=chunksize)
    return read_minimal(path, chunksize=chunksize)
