"""The current-address rule: kept until a trusted, live source record newly states another UPRN."""

from __future__ import annotations

import pandas as pd

from hub.survivorship_address import KEPT, MOVED, choose_address


def recs(rows: list[dict]) -> pd.DataFrame:
    base = {"cluster_id": "c", "address": "SOMEWHERE", "postcode": None, "trust": 3, "live": True, "trusted": True,
            "fresh": False, "recency": pd.Timestamp("2026-01-01", tz="UTC")}
    f = pd.DataFrame([{**base, "record_id": i + 1, **r} for i, r in enumerate(rows)])
    f["uprn"] = f["uprn"].astype("Int64")
    return f


def pick(f: pd.DataFrame, prior: dict | None = None, rule: str | None = None) -> tuple:
    row = choose_address(f, pd.Series(prior or {}, dtype="Int64"), rule).loc["c"]
    return (None if pd.isna(row.uprn) else int(row.uprn)), int(row.address__record_id), row.address__rule


def test_fresh_trusted_live_record_moves_the_person() -> None:
    f = recs([{"uprn": 10}, {"uprn": 20, "fresh": True}])
    assert pick(f, {"c": 10}) == (20, 2, MOVED)


def test_new_record_at_the_old_address_or_touched_stale_record_keeps_it() -> None:
    f = recs([{"uprn": 10}, {"uprn": 10, "fresh": True}, {"uprn": 30, "recency": pd.Timestamp("2026-03-01", tz="UTC")}])
    assert pick(f, {"c": 10})[0::2] == (10, KEPT)


def test_untrusted_or_ended_news_does_not_move_anyone() -> None:
    f = recs([{"uprn": 10}, {"uprn": 20, "fresh": True, "trusted": False, "trust": 1},
              {"uprn": 30, "fresh": True, "live": False}])
    assert pick(f, {"c": 10}) == (10, 1, KEPT)


def test_closed_at_the_old_address_with_nothing_new_keeps_the_last_known_address() -> None:
    f = recs([{"uprn": 10, "live": False}, {"uprn": 40, "trust": 2}])  # a record that always disagreed
    assert pick(f, {"c": 10}) == (10, 1, KEPT)


def test_first_choice_ranks_trusted_then_live_then_rule() -> None:
    newest = pd.Timestamp("2026-05-01", tz="UTC")
    f = recs([{"uprn": 10, "live": False}, {"uprn": 20, "trusted": False, "trust": 1, "recency": newest},
              {"uprn": 30, "recency": pd.Timestamp("2025-01-01", tz="UTC")}, {"uprn": 40, "trust": 4}])
    assert pick(f) == (40, 4, "recent")
    assert pick(f, rule="trust") == (40, 4, "trust")


def test_no_address_anywhere_gives_an_empty_unit_with_the_rule() -> None:
    f = recs([{"uprn": None, "address": None}])
    out = choose_address(f, pd.Series(dtype="Int64"))
    assert pd.isna(out.loc["c", "uprn"]) and out.loc["c", "address__rule"] == "recent"


def test_without_a_current_uprn_only_a_new_record_elsewhere_moves_the_person() -> None:
    f = recs([{"uprn": None, "address": "1 Old Rd", "is_new": False},
              {"uprn": 20, "address": "2 NEW RD", "fresh": True, "is_new": True}])
    text = pd.Series({"c": "1 OLD RD"})
    row = choose_address(f, pd.Series(dtype="Int64"), prior_text=text).loc["c"]
    assert (int(row.uprn), row.address__rule) == (20, MOVED)
    # the old record's own address resolved to a UPRN: not news of a move
    g = recs([{"uprn": 10, "address": "1 Old Rd.", "fresh": True, "is_new": False}])
    assert choose_address(g, pd.Series(dtype="Int64"), prior_text=text).loc["c", "address__rule"] != MOVED


def test_a_resolved_address_ranks_before_an_unresolved_one() -> None:
    newest = pd.Timestamp("2026-05-01", tz="UTC")
    f = recs([{"uprn": 10}, {"uprn": None, "address": "FLAT A/1 SOMEWHERE", "recency": newest}])
    assert pick(f) == (10, 1, "recent")
