"""Gazetteer file readers and format detection; :func:`read_gazetteer` is the entry point."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from gazetteer.errors import FormatError
from gazetteer.model import Gazetteer
from gazetteer.readers.flat import ABPLUS_MARKERS, read_abplus, read_minimal
from gazetteer.readers.records import read_record_csv
from gazetteer.readers.sources import Member, members

__all__ = ["detect_format", "members", "read_gazetteer"]


def _first_rows(source: Path | list[Member], n: int = 2000) -> list[list[str]]:
    """The first ``n`` non-blank rows across the supply's members (header files may be tiny)."""
    rows: list[list[str]] = []
    for m in (members(source) if isinstance(source, Path) else source):
        with m.open() as f:
            for row in csv.reader(f):
                if row:
                    rows.append(row)
                if len(rows) >= n:
                    return rows
    return rows


def detect_format(path: Path | list[Member]) -> str:
    """Return ``abp``, ``dtf73``, ``abplus`` or ``minimal`` from the supply's first rows."""
    rows = [r for r in _first_rows(path) if r[0].strip().strip('"').upper() != "RECORD_IDENTIFIER"]
    name = path.name if isinstance(path, Path) else (path[0].name if path else "supply")
    if not rows:
        raise FormatError(f"{name}: empty file")
    header = {c.strip().upper() for c in rows[0]}
    if "UPRN" in header and header & (ABPLUS_MARKERS - {"UPRN"}):
        return "abplus"
    if {"UPRN", "ADDRESS"} <= header:
        return "minimal"
    types = {r[0].strip() for r in rows}
    if not types & {"11", "15", "21", "24", "28", "32"}:
        raise FormatError(f"{name}: neither a record-type gazetteer nor a CSV with UPRN/ADDRESS headers")
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
    """Read a gazetteer supply in any supported format into data frames.

    ``path`` is a CSV, a folder of CSV chunks, or a zip of them (members are streamed, never extracted).
    Record-type supplies (AddressBase Premium, DTF 7.3) may be split across any number of chunks, with
    the header (10), trailer (99) and column-name header files in their own members; flat CSVs
    (AddressBase Plus, ``uprn,address,postcode``) must be a single member.

    Examples:
        >>> g = read_gazetteer(Path("AddressBasePremium_FULL.zip"))  # doctest: +SKIP
        >>> g.rows_read == g.rows_loaded + len(g.rejects)  # doctest: +SKIP
        True
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    mems = members(path)
    fmt = detect_format(mems)
    if fmt in ("abp", "dtf73"):
        return read_record_csv(mems, fmt)
    if len(mems) > 1:
        raise FormatError(f"{path.name}: {len(mems)} CSV files of a flat ({fmt}) gazetteer; give them one at a time")
    if not path.is_file() or zipfile.is_zipfile(path):
        with mems[0].open() as f:  # one flat member of a zip or folder: pandas reads the stream
            return (read_abplus if fmt == "abplus" else read_minimal)(f, chunksize=chunksize)  # type: ignore[arg-type]
    if fmt == "abplus":
        return read_abplus(path, chunksize=chunksize)
    return read_minimal(path, chunksize=chunksize)
