"""Write the gazetteer as AddressBase Premium record-type CSV and as a flat AddressBase Plus-style CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from synthetic.gazgen import Gazetteer
from synthetic.models import DAY0
from synthetic.places import COUNCIL_NAME, LOCAL_CUSTODIAN_CODE

ENTRY = "2008-04-01"
PLUS_COLUMNS = (
    "UPRN", "PARENT_UPRN", "USRN", "CLASS", "SAO_START_NUMBER", "SAO_START_SUFFIX", "SAO_END_NUMBER", "SAO_END_SUFFIX",
    "SAO_TEXT", "PAO_START_NUMBER", "PAO_START_SUFFIX", "PAO_END_NUMBER", "PAO_END_SUFFIX", "PAO_TEXT", "STREET_DESCRIPTION",
    "LOCALITY", "TOWN_NAME", "POSTCODE_LOCATOR", "X_COORDINATE", "Y_COORDINATE", "LATITUDE", "LONGITUDE", "LOGICAL_STATUS",
    "BLPU_STATE", "RPC", "LOCAL_CUSTODIAN_CODE", "COUNTRY", "ADMINISTRATIVE_AREA", "LPI_KEY",
)


def lat_lon(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 latitude/longitude from British National Grid (pyproj; Helmert, about 2 m without OSTN15 grids)."""
    t = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = t.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.round(lat, 7), np.round(lon, 7)


def _write(fh, df: pd.DataFrame) -> None:
    df.to_csv(fh, header=False, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")


def write_premium(path: Path, gaz: Gazetteer) -> int:
    """Record types 10, 11, 15, 21, 24, 32, 99 in one file, no header, strings quoted (OS AddressBase Premium CSV)."""
    day0 = DAY0.isoformat()
    s, b, lp = gaz.streets, gaz.blpus, gaz.lpis
    ns, nb, nl = len(s), len(b), len(lp)
    slat, slon = lat_lon(s.x_start, s.y_start)
    elat, elon = lat_lon(s.x_end, s.y_end)
    blat, blon = lat_lon(b.x, b.y)
    r11 = pd.DataFrame({
        "RECORD_IDENTIFIER": 11, "CHANGE_TYPE": "I", "PRO_ORDER": np.arange(1, ns + 1), "USRN": s.usrn, "RECORD_TYPE": 1,
        "SWA_ORG_REF_NAMING": LOCAL_CUSTODIAN_CODE, "STATE": 2, "STATE_DATE": ENTRY, "STREET_SURFACE": 1,
        "STREET_CLASSIFICATION": 8, "VERSION": 1, "STREET_START_DATE": ENTRY, "STREET_END_DATE": None,
        "LAST_UPDATE_DATE": day0, "RECORD_ENTRY_DATE": ENTRY, "STREET_START_X": s.x_start, "STREET_START_Y": s.y_start,
        "STREET_START_LAT": slat, "STREET_START_LONG": slon, "STREET_END_X": s.x_end, "STREET_END_Y": s.y_end,
        "STREET_END_LAT": elat, "STREET_END_LONG": elon, "STREET_TOLERANCE": 10,
    })
    r15 = pd.DataFrame({
        "RECORD_IDENTIFIER": 15, "CHANGE_TYPE": "I", "PRO_ORDER": np.arange(ns + 1, 2 * ns + 1), "USRN": s.usrn,
        "STREET_DESCRIPTION": s.street_description, "LOCALITY": s.locality.replace("", None), "TOWN_NAME": s.town_name,
        "ADMINISTRATIVE_AREA": COUNCIL_NAME.replace(" COUNCIL", ""), "LANGUAGE": "ENG", "START_DATE": ENTRY, "END_DATE": None,
        "LAST_UPDATE_DATE": day0, "ENTRY_DATE": ENTRY,
    })
    retired = b.logical_status.to_numpy() == 8
    r21 = pd.DataFrame({
        "RECORD_IDENTIFIER": 21, "CHANGE_TYPE": "I", "PRO_ORDER": np.arange(1, nb + 1) + 2 * ns, "UPRN": b.uprn,
        "LOGICAL_STATUS": b.logical_status, "BLPU_STATE": b.blpu_state, "BLPU_STATE_DATE": ENTRY, "PARENT_UPRN": b.parent_uprn,
        "X_COORDINATE": b.x, "Y_COORDINATE": b.y, "LATITUDE": blat, "LONGITUDE": blon, "RPC": 1,
        "LOCAL_CUSTODIAN_CODE": LOCAL_CUSTODIAN_CODE, "COUNTRY": "S", "START_DATE": ENTRY,
        "END_DATE": np.where(retired, "2023-06-30", None), "LAST_UPDATE_DATE": day0, "ENTRY_DATE": ENTRY,
        "ADDRESSBASE_POSTAL": np.where(b.classification == "PP", "N", "D"), "POSTCODE_LOCATOR": b.postcode,
        "MULTI_OCC_COUNT": b.uprn.map(b.parent_uprn.value_counts()).fillna(0).astype(np.int64),
    })
    lstat = lp.logical_status.to_numpy()
    r24 = pd.DataFrame({
        "RECORD_IDENTIFIER": 24, "CHANGE_TYPE": "I", "PRO_ORDER": np.arange(1, nl + 1) + 2 * ns + nb, "UPRN": lp.uprn,
        "LPI_KEY": lp.lpi_key, "LANGUAGE": "ENG", "LOGICAL_STATUS": lp.logical_status, "START_DATE": ENTRY,
        "END_DATE": np.where(lstat == 8, "2021-03-31", None), "LAST_UPDATE_DATE": day0, "ENTRY_DATE": ENTRY,
        **{c.upper(): lp[c] for c in ("sao_start_number", "sao_start_suffix", "sao_end_number", "sao_end_suffix", "sao_text",
                                      "pao_start_number", "pao_start_suffix", "pao_end_number", "pao_end_suffix", "pao_text")},
        "USRN": lp.usrn, "USRN_MATCH_INDICATOR": 1, "AREA_NAME": None, "LEVEL": None, "OFFICIAL_FLAG": "Y",
    })
    r32 = pd.DataFrame({
        "RECORD_IDENTIFIER": 32, "CHANGE_TYPE": "I", "PRO_ORDER": np.arange(1, nb + 1) + 2 * ns + nb + nl, "UPRN": b.uprn,
        "CLASS_KEY": [f"{LOCAL_CUSTODIAN_CODE}C{i:09d}" for i in range(1, nb + 1)], "CLASSIFICATION_CODE": b.classification,
        "CLASS_SCHEME": "AddressBase Premium Classification Scheme", "SCHEME_VERSION": 1.0, "START_DATE": ENTRY,
        "END_DATE": None, "LAST_UPDATE_DATE": day0, "ENTRY_DATE": ENTRY,
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    total = 2 + ns * 2 + nb * 2 + nl
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        w.writerow([10, COUNCIL_NAME, LOCAL_CUSTODIAN_CODE, day0, 1, day0, "00:00:00", "1.0", "F"])
        for frame in (r11, r15, r21, r24, r32):
            _write(fh, frame)
        w.writerow([99, 0, total, day0, "00:00:00"])
    return total


def write_plus(path: Path, gaz: Gazetteer) -> int:
    """Flat file with AddressBase Plus column names: one row per LPI (alternative and historical ones too)."""
    lp, b, s = gaz.lpis, gaz.blpus.set_index("uprn"), gaz.streets.set_index("usrn")
    lat, lon = lat_lon(b.x.to_numpy(), b.y.to_numpy())
    lat, lon = pd.Series(lat, index=b.index), pd.Series(lon, index=b.index)
    u = lp.uprn.to_numpy()
    out = pd.DataFrame({
        "UPRN": u, "PARENT_UPRN": b.parent_uprn.reindex(u).to_numpy(), "USRN": lp.usrn.to_numpy(),
        "CLASS": b.classification.reindex(u).to_numpy(),
        **{c.upper(): lp[c].to_numpy() for c in ("sao_start_number", "sao_start_suffix", "sao_end_number", "sao_end_suffix",
                                                "sao_text", "pao_start_number", "pao_start_suffix", "pao_end_number",
                                                "pao_end_suffix", "pao_text")},
        "STREET_DESCRIPTION": s.street_description.reindex(lp.usrn).to_numpy(), "LOCALITY": s.locality.reindex(lp.usrn).to_numpy(),
        "TOWN_NAME": s.town_name.reindex(lp.usrn).to_numpy(), "POSTCODE_LOCATOR": b.postcode.reindex(u).to_numpy(),
        "X_COORDINATE": b.x.reindex(u).to_numpy(), "Y_COORDINATE": b.y.reindex(u).to_numpy(),
        "LATITUDE": lat.reindex(u).to_numpy(), "LONGITUDE": lon.reindex(u).to_numpy(),
        "LOGICAL_STATUS": lp.logical_status.to_numpy(), "BLPU_STATE": b.blpu_state.reindex(u).to_numpy(), "RPC": 1,
        "LOCAL_CUSTODIAN_CODE": LOCAL_CUSTODIAN_CODE, "COUNTRY": "S", "ADMINISTRATIVE_AREA": COUNCIL_NAME.replace(" COUNCIL", ""),
        "LPI_KEY": lp.lpi_key.to_numpy(),
    })
    out["LOCALITY"] = out.LOCALITY.replace("", None)
    for col in ("PARENT_UPRN", "SAO_START_NUMBER", "SAO_END_NUMBER", "PAO_START_NUMBER", "PAO_END_NUMBER"):
        out[col] = pd.array(pd.to_numeric(pd.Series(out[col], dtype=object)), dtype="Int64")
    assert tuple(out.columns) == PLUS_COLUMNS
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return len(out)
