"""Validation at the boundary: map a source's raw rows to canonical fields, quarantining bad rows with a reason."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd

from connectors.pull import DROP_FILE, ROW_NUMBER
from schemas.columns import PersonRecord
from schemas.config import SourceConfig
from schemas.validators import normalise_nino, normalise_postcode, parse_dates

MAX_TEXT = 255
MAX_KEY = 128
RAGGED = "_ragged"
SOURCE_KEY = "source_key"
CONTENT_HASH = "content_hash"
RAW = "raw"
SOURCE_UPDATED_AT = "source_updated_at"
ATTRIBUTES = "attributes"

QUARANTINE_COLUMNS = ("source_key", "row_number", "field", "reason", "raw")
LOADED_COLUMNS = (SOURCE_KEY, *PersonRecord.CANONICAL_FIELDS, ATTRIBUTES, SOURCE_UPDATED_AT, RAW, CONTENT_HASH, ROW_NUMBER)


@dataclass
class ValidatedChunk:
    """Rows that passed (canonical fields) and rows quarantined (field and reason), summing to the input."""

    records: pd.DataFrame
    quarantined: pd.DataFrame


def _join_address_parts(frame: pd.DataFrame) -> pd.Series:
    parts = [c for c in PersonRecord.ADDRESS_PART_FIELDS if c in frame]
    if not parts:
        return pd.Series(None, index=frame.index, dtype=object)
    joined = frame[parts].apply(lambda row: ", ".join(v for v in row if isinstance(v, str) and v), axis=1)
    return joined.where(joined != "", None)


def _raw_payload(rows: pd.DataFrame) -> pd.Series:
    cols = [c for c in rows.columns if c not in (ROW_NUMBER, RAGGED)]
    return pd.Series(rows[cols].to_dict(orient="records"), index=rows.index, dtype=object)


def _hash(payloads: pd.Series) -> pd.Series:
    return payloads.map(lambda p: hashlib.sha256(json.dumps(p, sort_keys=True, default=str).encode()).hexdigest())


class _Quarantine:
    """Collects the first failing field of each row (a row is quarantined once, for its first problem)."""

    def __init__(self, index: pd.Index) -> None:
        self.field = pd.Series(None, index=index, dtype=object)
        self.reason = pd.Series(None, index=index, dtype=object)

    def flag(self, mask: pd.Series, field: str, reason: str | pd.Series) -> None:
        new = mask & self.field.isna()
        self.field[new] = field
        self.reason[new] = reason[new] if isinstance(reason, pd.Series) else reason

    @property
    def mask(self) -> pd.Series:
        return self.field.notna()


def validate_chunk(rows: pd.DataFrame, cfg: SourceConfig, *, seen_keys: set[str] | None = None) -> ValidatedChunk:
    """Map and validate one chunk of raw rows from ``cfg``'s source.

    ``seen_keys`` carries keys already loaded earlier in the same extract so duplicates across chunks
    are caught too; it is updated in place.
    """
    seen_keys = seen_keys if seen_keys is not None else set()
    index = rows.index
    q = _Quarantine(index)
    out = pd.DataFrame(index=index)

    if RAGGED in rows:
        q.flag(rows[RAGGED].notna(), "(row)", "ragged row: " + rows[RAGGED].fillna("").astype(str))

    key = rows[cfg.key] if cfg.key in rows else pd.Series(None, index=index, dtype=object)
    if cfg.key not in rows and len(rows):
        q.flag(pd.Series(True, index=index), cfg.key, f"key column {cfg.key!r} missing from source")
    q.flag(key.isna(), cfg.key, "missing key")
    q.flag(key.fillna("").str.len() > MAX_KEY, cfg.key, f"key longer than {MAX_KEY} characters")
    dup_in_chunk = key.notna() & key.duplicated(keep="first")
    dup_earlier = key.notna() & key.isin(seen_keys)
    q.flag(dup_in_chunk | dup_earlier, cfg.key, "duplicate key in this extract")
    out[SOURCE_KEY] = key

    missing_cols = sorted(col for col in cfg.fields.values() if col not in rows)
    if missing_cols and len(rows):
        q.flag(pd.Series(True, index=index), "(mapping)", f"mapped column(s) {missing_cols} not in source")

    for field in PersonRecord.CANONICAL_FIELDS:
        col = cfg.fields.get(field)
        out[field] = rows[col] if col in rows else pd.Series(None, index=index, dtype=object)

    for field in PersonRecord.CANONICAL_FIELDS:
        values = out[field].astype("string")
        q.flag(values.str.contains("\x00|\ufffd", regex=True).fillna(False).astype(bool), field,
               "invalid characters (NUL or undecodable bytes: wrong encoding?)")
        limit = 1000 if field == "address" else MAX_TEXT
        q.flag((values.str.len() > limit).fillna(False).astype(bool), field, f"longer than {limit} characters")

    for field in ("date_of_birth", "date_of_death"):
        iso, bad = parse_dates(out[field], date_format=cfg.date_format)
        expected = f"expected {cfg.date_format}" if cfg.date_format else "unrecognised format"
        q.flag(bad, field, f"unparseable or impossible date ({expected})")
        out[field] = iso
    out["nino"], bad_nino = normalise_nino(out["nino"])
    q.flag(bad_nino, "nino", "malformed National Insurance number")
    out["postcode"], bad_pc = normalise_postcode(out["postcode"])
    q.flag(bad_pc, "postcode", "malformed postcode")
    uprn = out["uprn"].astype("string").str.strip()
    bad_uprn = uprn.notna() & ~uprn.str.fullmatch(r"[0-9]{1,12}").fillna(False).astype(bool)
    q.flag(bad_uprn, "uprn", "UPRN is not an integer of up to 12 digits")
    out["uprn"] = uprn.where(~bad_uprn).astype(object).where(uprn.notna() & ~bad_uprn, None)
    out["email"] = out["email"].astype("string").str.lower().astype(object).where(out["email"].notna(), None)

    no_address = out["address"].isna()
    out.loc[no_address, "address"] = _join_address_parts(out.loc[no_address])

    raw = _raw_payload(rows)
    out[ATTRIBUTES] = (pd.Series(rows[[c for c in cfg.attributes.values() if c in rows]]
                                 .rename(columns={v: k for k, v in cfg.attributes.items()})
                                 .to_dict(orient="records"), index=index, dtype=object)
                       if cfg.attributes else pd.Series(None, index=index, dtype=object))
    out[SOURCE_UPDATED_AT] = rows[cfg.updated_at] if cfg.updated_at and cfg.updated_at in rows else None
    out[RAW] = raw
    out[CONTENT_HASH] = _hash(raw)
    out[ROW_NUMBER] = rows[ROW_NUMBER] if ROW_NUMBER in rows else range(1, len(rows) + 1)

    bad = q.mask
    seen_keys.update(k for k in key[~bad & key.notna()])
    quarantined = pd.DataFrame({
        "source_key": key[bad],
        "row_number": out.loc[bad, ROW_NUMBER],
        "field": q.field[bad],
        "reason": q.reason[bad],
        "raw": raw[bad],
    })
    if DROP_FILE in rows:
        quarantined["reason"] = quarantined["reason"] + " (file " + rows.loc[bad, DROP_FILE].fillna("?").astype(str) + ")"
    return ValidatedChunk(records=out.loc[~bad, list(LOADED_COLUMNS)].reset_index(drop=True),
                          quarantined=quarantined.reset_index(drop=True))
