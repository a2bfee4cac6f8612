"""The AddressBase outputs parse back with the csv module and hang together."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from synthetic.abp import PLUS_COLUMNS

# Columns per record type in OS AddressBase Premium CSV.
WIDTH = {10: 9, 11: 24, 15: 13, 21: 22, 24: 26, 32: 12, 99: 5}


def _premium(path: Path) -> dict[int, list[list[str]]]:
    out: dict[int, list[list[str]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            out.setdefault(int(row[0]), []).append(row)
    return out


def test_premium_record_types_and_widths(council):
    rec = _premium(council.addressbase_premium)
    assert set(rec) == set(WIDTH)
    for rtype, rows in rec.items():
        assert {len(r) for r in rows} == {WIDTH[rtype]}, rtype
    assert len(rec[10]) == len(rec[99]) == 1
    assert int(rec[99][0][2]) == sum(len(v) for v in rec.values())
    assert len(rec[21]) == len(rec[32]) == council.properties
    assert len(rec[24]) == council.lpis and len(rec[11]) == len(rec[15]) == council.streets


def test_premium_keys_are_consistent(council):
    rec = _premium(council.addressbase_premium)
    uprns = {r[3] for r in rec[21]}
    usrns = {r[3] for r in rec[11]}
    assert {r[3] for r in rec[24]} <= uprns
    assert {r[21] for r in rec[24]} <= usrns
    parents = {r[7] for r in rec[21] if r[7]}
    assert parents and parents <= uprns
    assert Counter(r[6] for r in rec[24]).keys() >= {"1", "3", "8"}
    lpi_keys = [r[4] for r in rec[24]]
    assert len(set(lpi_keys)) == len(lpi_keys)


def test_plus_header_rows_and_statuses(council):
    with council.addressbase_plus.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == PLUS_COLUMNS
    assert len(rows) == council.lpis
    assert {r["LOGICAL_STATUS"] for r in rows} == {"1", "3", "8"}
    assert all(len(r["UPRN"]) <= 12 for r in rows)
    for col in ("UPRN", "PARENT_UPRN", "USRN", "PAO_START_NUMBER", "PAO_END_NUMBER", "SAO_START_NUMBER"):
        assert all(r[col] == "" or r[col].isdigit() for r in rows), col


def test_coordinates_are_in_great_britain(council):
    plus = pd.read_csv(council.addressbase_plus)
    assert plus.X_COORDINATE.between(0, 700_000).all() and plus.Y_COORDINATE.between(0, 1_300_000).all()
    t = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = t.transform(plus.X_COORDINATE.to_numpy(), plus.Y_COORDINATE.to_numpy())
    assert np.all((lat > 55.5) & (lat < 56.3) & (lon > -4.6) & (lon < -3.4))  # central Scotland
    assert np.allclose(lat, plus.LATITUDE, atol=1e-5)


def test_postcodes_are_well_formed(council):
    plus = pd.read_csv(council.addressbase_plus)
    assert plus.POSTCODE_LOCATOR.str.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][ABD-HJLNP-UW-Z]{2}").all()
