"""Tests for connectors/validate.py: boundary validation, quarantine reasons and content hashes."""

from __future__ import annotations

import pandas as pd

from connectors.frames import as_strings
from connectors.pull import DROP_FILE, ROW_NUMBER
from connectors.validate import CONTENT_HASH, SOURCE_KEY, validate_chunk
from schemas.config import SourceConfig

CFG = SourceConfig(name="housing", url="drops", key="ref",
                   fields={"full_name": "name", "date_of_birth": "dob", "nino": "ni", "postcode": "pc",
                           "house_number": "no", "street": "street", "town": "town"})


def _rows(**cols: list) -> pd.DataFrame:
    frame = as_strings(pd.DataFrame(cols))
    frame[ROW_NUMBER] = range(2, len(frame) + 2)
    return frame


def test_bad_rows_quarantined_with_field_and_reason_rest_load() -> None:
    rows = _rows(ref=["1", "2", "3", "3", None, "6", "7"],
                 name=["A", "B", "C", "C2", "D", "F\ufffdG", "H"],
                 dob=["01/02/1980", "31/02/1980", None, None, None, None, None],
                 ni=[None, None, "AB123456C", None, None, None, "QQ123456C"],
                 pc=["ls1 1aa", None, None, None, None, None, None],
                 no=["12", None, None, None, None, None, None], street=["High St", None, None, None, None, None, None],
                 town=[None, None, None, None, None, None, None])
    seen = {"1"}  # key 1 was loaded from an earlier chunk of the same extract
    out = validate_chunk(rows, CFG, seen_keys=seen)
    assert len(out.records) + len(out.quarantined) == len(rows)
    assert out.records[SOURCE_KEY].tolist() == ["3"]
    reasons = dict(zip(out.quarantined["row_number"], zip(out.quarantined["field"], out.quarantined["reason"])))
    assert reasons[2] == ("ref", "duplicate key in this extract")
    assert reasons[3][0] == "date_of_birth"
    assert reasons[5] == ("ref", "duplicate key in this extract")
    assert reasons[6] == ("ref", "missing key")
    assert reasons[7][0] == "full_name" and "encoding" in reasons[7][1]
    assert reasons[8] == ("nino", "malformed National Insurance number")
    assert "3" in seen


def test_address_parts_joined_and_canonical_values() -> None:
    rows = _rows(ref=["1", "2"], name=["A", "B"], dob=["1980-02-01", None], ni=["ab 12 34 56 c", None],
                 pc=["ls11aa", None], no=["12", None], street=["High St", None], town=["Leeds", None])
    out = validate_chunk(rows, CFG).records
    assert out["address"].tolist() == ["12, High St, Leeds", None]
    assert out["postcode"].tolist() == ["LS1 1AA", None] and out["nino"].tolist() == ["AB123456C", None]
    assert out["date_of_birth"].tolist() == ["1980-02-01", None]


def test_content_hash_ignores_drop_file_but_sees_every_value() -> None:
    base = dict(ref=["1"], name=["A"], dob=[None], ni=[None], pc=[None], no=[None], street=[None], town=[None])
    today = _rows(**base)
    today[DROP_FILE] = "ctax_2026-11-22.csv"
    tomorrow = _rows(**base)
    tomorrow[DROP_FILE] = "ctax_2026-11-23.csv"
    changed = _rows(**{**base, "town": ["Leeds"]})
    h = [validate_chunk(f, CFG).records[CONTENT_HASH][0] for f in (today, tomorrow, changed)]
    assert h[0] == h[1] != h[2]
    assert validate_chunk(today, CFG).records["raw"][0][DROP_FILE] == "ctax_2026-11-22.csv"  # lineage kept


def test_overlong_text_quarantined_and_duplicates_across_chunks() -> None:
    base = dict(dob=[None, None], ni=[None, None], pc=[None, None], no=[None, None], street=[None, None],
                town=[None, None])
    seen: set[str] = set()
    first = validate_chunk(_rows(ref=["1", "2"], name=["A" * 256, "B"], **base), CFG, seen_keys=seen)
    assert first.quarantined[["field", "reason"]].values.tolist() == [["full_name", "longer than 255 characters"]]
    second = validate_chunk(_rows(ref=["2", "1"], name=["B", "A"], **base), CFG, seen_keys=seen)
    # Key 2 loaded in the first chunk is a duplicate now; key 1 was quarantined before, so it loads.
    assert second.records[SOURCE_KEY].tolist() == ["1"] and second.quarantined["source_key"].tolist() == ["2"]
