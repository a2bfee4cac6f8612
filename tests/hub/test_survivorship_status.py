"""Record status for life events: live or ended at its source, trusted or not, and the death it records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from hub.survivorship_status import deceased_pattern, record_status
from schemas.config import ConfigError, parse_config

TODAY = dt.date(2026, 3, 1)


def config(**events):
    return parse_config({
        "hub": "sqlite://", "gazetteer": {"path": "g.csv"}, **({"events": events} if events else {}),
        "sources": [{"name": "ctax", "url": "c.csv", "key": "k", "trust": 3, "fields": {"full_name": "n"}},
                    {"name": "housing", "url": "h.csv", "key": "k", "trust": 4, "date_format": "%d/%m/%Y",
                     "fields": {"full_name": "n"}},
                    {"name": "requests", "url": "r.csv", "key": "k", "trust": 1, "fields": {"full_name": "n"}}],
    }, base_dir=Path("."))


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"deleted": False, "attributes": None, "date_of_death": None, "last_changed": pd.Timestamp("2026-02-10", tz="UTC")}
    f = pd.DataFrame([{**base, **r} for r in rows])
    f["trust"] = f["source"].map({"ctax": 3, "housing": 4, "requests": 1})
    return f


def test_ended_records_are_not_live() -> None:
    f = frame([
        {"source": "ctax"},
        {"source": "ctax", "deleted": True},
        {"source": "ctax", "attributes": {"end_date": "2026-01-31"}},
        {"source": "ctax", "attributes": {"end_date": "2026-12-31"}},  # notice given, still liable today
        {"source": "ctax", "attributes": {"status": "Closed"}},
        {"source": "housing", "attributes": {"end_date": "05/02/2026"}},  # the source's own date format
    ])
    assert record_status(f, config(), today=TODAY)["live"].tolist() == [True, False, False, True, False, False]


def test_deceased_closure_reason_records_a_death_on_the_end_date() -> None:
    f = frame([
        {"source": "ctax", "attributes": {"end_date": "2026-02-01", "end_reason": "DECEASED"}},
        {"source": "housing", "attributes": {"end_date": "05/02/2026", "end_reason": "Death of tenant"}},
        {"source": "ctax", "attributes": {"end_reason": "Tenant died"}},  # no end date: the day the hub saw it
        {"source": "ctax", "attributes": {"end_date": "2026-02-01", "end_reason": "MOVED OUT"}},
        {"source": "ctax", "attributes": {"status": "Deceased"}},
    ])
    out = record_status(f, config(), today=TODAY)
    assert out["deceased_on"].tolist() == ["2026-02-01", "2026-02-05", "2026-02-10", None, "2026-02-10"]
    assert not out["live"].any()


def test_date_of_death_counts_only_from_a_trusted_source() -> None:
    f = frame([{"source": "requests", "date_of_death": "2026-01-03"},
               {"source": "requests", "attributes": {"end_reason": "deceased"}},
               {"source": "ctax", "date_of_death": "2026-01-04"}])
    out = record_status(f, config(min_trust=2), today=TODAY)
    assert out["trusted"].tolist() == [False, False, True]
    assert out["deceased_on"].tolist() == [None, None, "2026-01-04"]
    assert record_status(f, config(), today=TODAY)["deceased_on"].tolist() == ["2026-01-03", "2026-02-10", "2026-01-04"]


def test_deceased_reasons_are_configurable_words() -> None:
    pattern = deceased_pattern(["verstorben", "rip"])
    assert pattern.search("VERSTORBEN") and pattern.search("closed - RIP") and not pattern.search("ripped")
    f = frame([{"source": "ctax", "attributes": {"end_reason": "RIP"}}, {"source": "ctax", "attributes": {"end_reason": "deceased"}}])
    assert record_status(f, config(deceased_reasons=["rip"]), today=TODAY)["deceased_on"].notna().tolist() == [True, False]


def test_event_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="events"):
        config(min_trust=-1)
    with pytest.raises(ConfigError, match="events"):
        config(deceased_reasons=[])
