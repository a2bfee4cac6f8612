"""Readers for flat (one row per address) gazetteer CSVs: AddressBase Plus headers and minimal uprn,address,postcode."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gazetteer.model import DeletionFrame, Gazetteer
from gazetteer.parse import parse_addresses
from gazetteer.readers.common import (LINE, Rejects, bad_id, blank, check_coordinates, check_postcode,
                                      finish_lpis, finish_properties, text)
from schemas.columns import LpiFrame as L
from schemas.columns import PropertyFrame as P
from schemas.columns import StreetFrame as S

ABPLUS_MARKERS = {"UPRN", "PAO_START_NUMBER", "STREET_DESCRIPTION"}


def _read(path: Path, chunksize: int) -> pd.DataFrame:
    chunks = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunksize, encoding="utf-8-sig")
    df = pd.concat(list(chunks), ignore_index=True)
    df.columns = [c.strip().upper() for c in df.columns]
    df[LINE] = df.index + 2  # header is line 1
    return df


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series("", index=df.index, dtype=object)


def _deletions(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    ct = _col(df, "CHANGE_TYPE").astype(str).str.strip().str.upper()
    d = ct == "D"
    dels = pd.DataFrame({DeletionFrame.table: "property", DeletionFrame.key_column: P.uprn,
                         DeletionFrame.key: df.loc[d, "UPRN"].astype(str).str.strip().to_numpy(),
                         DeletionFrame.line: df.loc[d, LINE].to_numpy()})
    return df.loc[~d], dels


def read_abplus(path: Path, *, chunksize: int = 200_000) -> Gazetteer:
    """Read a flat CSV with AddressBase Plus headers: one approved LPI (+ PAF form) per UPRN."""
    df = _read(path, chunksize)
    rows_read = len(df)
    rejects = Rejects()
    df = rejects.add(df, bad_id(df["UPRN"]), "abplus", "UPRN", "UPRN", "non-numeric UPRN")
    df = rejects.add(df, bad_id(_col(df, "PARENT_UPRN"), required=False), "abplus", "UPRN", "PARENT_UPRN", "non-numeric parent UPRN")
    df = rejects.add(df, bad_id(_col(df, "USRN"), required=False), "abplus", "UPRN", "USRN", "non-numeric USRN")
    if "X_COORDINATE" in df:
        df = check_coordinates(df, "X_COORDINATE", "Y_COORDINATE", rejects, "abplus", "UPRN")
    for pc in ("POSTCODE_LOCATOR", "POSTCODE"):
        if pc in df:
            df = check_postcode(df, pc, rejects, "abplus", "UPRN")
    df, dels = _deletions(df)
    loaded = len(df) + len(dels)
    status = _col(df, "LOGICAL_STATUS").astype(str).str.strip().replace("", "1")
    df = df.assign(LOGICAL_STATUS=status)
    if "LPI_KEY" in df:  # one row per LPI: keep them all, the approved one describes the property
        df = df.drop_duplicates("LPI_KEY", keep="last")
        lpi_keys = df["LPI_KEY"].astype(str).str.strip()
    else:
        df = df.drop_duplicates("UPRN", keep="last")
        lpi_keys = df["UPRN"].astype(str).str.strip() + "L"
    postcode = _col(df, "POSTCODE_LOCATOR")
    postcode = postcode.where(postcode.notna() & (postcode.astype(str) != ""), _col(df, "POSTCODE"))
    state = _col(df, "BLPU_STATE") if "BLPU_STATE" in df else _col(df, "STATE")
    props = pd.DataFrame({
        P.uprn: df["UPRN"], P.parent_uprn: _col(df, "PARENT_UPRN"), P.classification: text(_col(df, "CLASS")),
        P.blpu_state: state, P.logical_status: df["LOGICAL_STATUS"],
        P.easting: _col(df, "X_COORDINATE"), P.northing: _col(df, "Y_COORDINATE"), P.latitude: None, P.longitude: None,
        P.postcode: postcode,
    })
    props = props.assign(_rank=pd.to_numeric(props[P.logical_status], errors="coerce").fillna(9))
    props = props.sort_values("_rank", kind="stable").drop_duplicates(P.uprn).drop(columns="_rank")
    town = text(_col(df, "TOWN_NAME"))
    lpi = pd.DataFrame({
        L.lpi_key: lpi_keys, L.uprn: df["UPRN"], L.kind: "lpi", L.logical_status: df["LOGICAL_STATUS"],
        L.organisation: _col(df, "LA_ORGANISATION"),
        **{c: _col(df, c.upper()) for c in (L.sao_start_number, L.sao_start_suffix, L.sao_end_number, L.sao_end_suffix,
                                            L.sao_text, L.pao_start_number, L.pao_start_suffix, L.pao_end_number,
                                            L.pao_end_suffix, L.pao_text, L.usrn)},
        L.street_description: _col(df, "STREET_DESCRIPTION"), L.locality: _col(df, "LOCALITY"),
        L.town: town.where(town.notna(), text(_col(df, "POST_TOWN"))), L.postcode: postcode,
    })
    has_paf = ~blank(_col(df, "THOROUGHFARE")) | ~blank(_col(df, "BUILDING_NAME")) | ~blank(_col(df, "UDPRN"))
    p = df.loc[has_paf]
    num = _col(p, "BUILDING_NUMBER").astype("string").str.strip()
    paf = pd.DataFrame({
        L.lpi_key: "PAF" + _col(p, "UDPRN").astype(str).str.strip().where(~blank(_col(p, "UDPRN")), p["UPRN"]),
        L.uprn: p["UPRN"], L.kind: "paf", L.logical_status: "1", L.organisation: _col(p, "RM_ORGANISATION_NAME"),
        L.sao_start_number: None, L.sao_start_suffix: None, L.sao_end_number: None, L.sao_end_suffix: None,
        L.sao_text: _col(p, "SUB_BUILDING_NAME"), L.pao_start_number: num.where(num.str.fullmatch(r"[0-9]+").fillna(False)),
        L.pao_start_suffix: None, L.pao_end_number: None, L.pao_end_suffix: None, L.pao_text: _col(p, "BUILDING_NAME"),
        L.usrn: None, L.street_description: _col(p, "THOROUGHFARE"), L.locality: _col(p, "DEPENDENT_LOCALITY"),
        L.town: _col(p, "POST_TOWN"), L.postcode: _col(p, "POSTCODE").where(~blank(_col(p, "POSTCODE")), None),
    })
    lpis = pd.concat([lpi, paf], ignore_index=True)
    streets = pd.DataFrame({S.usrn: pd.to_numeric(_col(df, "USRN").replace("", pd.NA), errors="coerce").astype("Int64"),
                            S.street_description: text(_col(df, "STREET_DESCRIPTION")), S.locality: text(_col(df, "LOCALITY")),
                            S.town: town, S.admin_area: text(_col(df, "ADMINISTRATIVE_AREA"))})
    streets = streets.dropna(subset=[S.usrn]).drop_duplicates(S.usrn).reset_index(drop=True)
    return Gazetteer(streets=streets, properties=finish_properties(props), lpis=finish_lpis(lpis),
                     rejects=rejects.frame(), deletions=dels, fmt="abplus", rows_read=rows_read,
                     rows_loaded=loaded, counts={"abplus": loaded})


def read_minimal(path: Path, *, chunksize: int = 200_000) -> Gazetteer:
    """Read a minimal ``uprn,address,postcode`` CSV (optional easting/northing); parts come from the parser."""
    df = _read(path, chunksize)
    rows_read = len(df)
    rejects = Rejects()
    df = rejects.add(df, bad_id(df["UPRN"]), "minimal", "UPRN", "UPRN", "non-numeric UPRN")
    if "POSTCODE" in df:
        df = check_postcode(df, "POSTCODE", rejects, "minimal", "UPRN")
    xcol = next((c for c in ("EASTING", "X_COORDINATE", "X") if c in df), None)
    ycol = next((c for c in ("NORTHING", "Y_COORDINATE", "Y") if c in df), None)
    if xcol and ycol:
        df = check_coordinates(df, xcol, ycol, rejects, "minimal", "UPRN")
    parsed = parse_addresses(df["ADDRESS"])
    postcode = _col(df, "POSTCODE").where(~blank(_col(df, "POSTCODE")), parsed["postcode"])
    props = pd.DataFrame({
        P.uprn: df["UPRN"], P.parent_uprn: None, P.classification: None, P.blpu_state: None, P.logical_status: "1",
        P.easting: df[xcol] if xcol else None, P.northing: df[ycol] if ycol else None,
        P.latitude: None, P.longitude: None, P.postcode: postcode,
    }).drop_duplicates(P.uprn, keep="last")
    sao_num = parsed["saon"].str.fullmatch(r"[0-9]+").fillna(False)
    lpis = pd.DataFrame({
        L.lpi_key: df["UPRN"].astype(str).str.strip() + ":" + df[LINE].astype(str), L.uprn: df["UPRN"], L.kind: "lpi",
        L.logical_status: "1", L.organisation: parsed["organisation"],
        L.sao_start_number: parsed["saon"].where(sao_num), L.sao_start_suffix: None, L.sao_end_number: None,
        L.sao_end_suffix: None, L.sao_text: parsed["saon"].where(~sao_num),
        L.pao_start_number: parsed["pao_start_number"], L.pao_start_suffix: parsed["pao_start_suffix"],
        L.pao_end_number: parsed["pao_end_number"], L.pao_end_suffix: parsed["pao_end_suffix"],
        L.pao_text: parsed["pao_text"], L.usrn: None, L.street_description: parsed["street"],
        L.locality: parsed["locality"], L.town: parsed["town"], L.postcode: postcode,
    })
    streets = pd.DataFrame({c: pd.Series(dtype=object) for c in S.COLUMNS})
    return Gazetteer(streets=streets, properties=finish_properties(props), lpis=finish_lpis(lpis),
                     rejects=rejects.frame(), deletions=pd.DataFrame(columns=DeletionFrame.COLUMNS), fmt="minimal",
                     rows_read=rows_read, rows_loaded=len(df), counts={"minimal": len(df)})
