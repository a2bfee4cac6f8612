"""Validation at the boundary: map a source's raw rows to canonical fields, quarantining bad rows with a reason."""

from __future__ import annotations

import hashlib
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
NULL_MARK = "\x00"  # stands for NULL in content hashes: a real value never holds NUL (it is quarantined)

QUARANTINE_COLUMNS = ("source_key", "row_number", "field", "reason", "raw")
LOADED_COLUMNS = (SOURCE_KEY, *PersonRecord.CANONICAL_FIELDS, ATTRIBUTES, SOURCE_UPDATED_AT, RAW, CONTENT_HASH, ROW_NUMBER)


@dataclass
class ValidatedChunk:
    """Rows that passed (canonical fields) and rows quarantined (field and reason), summing to the input."""

    records: pd.DataFrame
    quarantined: pd.DataFrame


def _join_address_parts(frame: pd.DataFrame) -> pd.Series:
    """Address parts joined with ", ", skipping empty parts; None when every part is empty."""
    parts = [frame[c].tolist() for c in PersonRecord.ADDRESS_PART_FIELDS if c in frame]
    if not parts:
        return pd.Series(None, index=frame.index, dtype=object)
    # Missing parts arrive as None or NaN depending on the column's history: keep only real text.
    joined = [", ".join(v for v in vals if isinstance(v, str) and v) or None for vals in zip(*parts)]
    return pd.Series(joined, index=frame.index, dtype=object)


def _payload_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in (ROW_NUMBER, RAGGED)]


def _raw_payload(rows: pd.DataFrame) -> pd.Series:
    cols = _payload_columns(rows)
    values = zip(*(rows[c].tolist() for c in cols)) if cols else ((),) * len(rows)
    return pd.Series([dict(zip(cols, v)) for v in values], index=rows.index, dtype=object)


def _hash(rows: pd.DataFrame) -> pd.Series:
    """SHA-256 of a row's content: column names and values, NULL distinct from any text.

    The drop file a row came from is left out, so the same row in tomorrow's file is "unchanged".
    """
    cols = sorted(c for c in _payload_columns(rows) if c != DROP_FILE)
    head = "\x1e".join(cols) + "\x1d"
    lists = [[NULL_MARK if v is None else str(v) for v in rows[c].tolist()] for c in cols]
    sha = hashlib.sha256
    digests = [sha((head + "\x1f".join(vals)).encode("utf-8", "surrogatepass")).hexdigest()
               for vals in zip(*lists)] if cols else [sha(head.encode()).hexdigest()] * len(rows)
    return pd.Series(digests, index=rows.index, dtype=object)


def _text_flags(values: pd.Series, limit: int) -> tuple[pd.Series, pd.Series]:
    """Masks of values holding NUL/undecodable characters and of values longer than ``limit`` (one pass)."""
    items = [v for v in values.tolist() if isinstance(v, str)]
    none = pd.Series(False, index=values.index, dtype=bool)
    if not items:
        return none, none
    # Fast path: one C-level scan of the whole column; the per-value pass runs only when something is wrong.
    joined = "".join(items)
    bad_chars, too_long = none, none
    if "\x00" in joined or "\ufffd" in joined:
        bad_chars = pd.Series([isinstance(v, str) and ("\x00" in v or "\ufffd" in v) for v in values.tolist()],
                              index=values.index, dtype=bool)
    if max(map(len, items)) > limit:
        too_long = pd.Series([isinstance(v, str) and len(v) > limit for v in values.tolist()],
                             index=values.index, dtype=bool)
    return bad_chars, too_long


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
    # Set membership per key: pandas' isin would copy the whole (growing) set every chunk, quadratic over an extract.
    dup_earlier = pd.Series([k is not None and k in seen_keys for k in key.tolist()], index=index, dtype=bool)
    q.flag(dup_in_chunk | dup_earlier, cfg.key, "duplicate key in this extract")
    out[SOURCE_KEY] = key

    missing_cols = sorted(col for col in cfg.fields.values() if col not in rows)
    if missing_cols and len(rows):
        q.flag(pd.Series(True, index=index), "(mapping)", f"mapped column(s) {missing_cols} not in source")

    for field in PersonRecord.CANONICAL_FIELDS:
        col = cfg.fields.get(field)
        out[field] = rows[col] if col in rows else pd.Series(None, index=index, dtype=object)

    for field in (f for f in PersonRecord.CANONICAL_FIELDS if f in cfg.fields):
        limit = 1000 if field == "address" else MAX_TEXT
        bad_chars, too_long = _text_flags(out[field], limit)
        q.flag(bad_chars, field, "invalid characters (NUL or undecodable bytes: wrong encoding?)")
        q.flag(too_long, field, f"longer than {limit} characters")

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
    out[CONTENT_HASH] = _hash(rows)
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
