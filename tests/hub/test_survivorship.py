"""Survivorship rules choose each attribute and say which record it came from."""

from __future__ import annotations

import pandas as pd
import pytest

from hub.survivorship import choose_attributes, without_placeholders


@pytest.fixture
def records() -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": [1, 2, 3, 4],
        "cluster_id": ["c", "c", "c", "d"],
        "trust": [1, 3, 2, 1],
        "recency": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01", "2024-01-01"], utc=True),
        "first_name": ["BOB", "ROBERT", "ROBERT", None],
        "email": [None, "r@x.uk", "robert.smith@example.org", None],
        "uprn": [200, 100, None, None],
        "address": ["2 NEW RD", "1 OLD RD", None, None],
        "postcode": ["AB1 2CD", "AB1 1AA", None, None],
    })


def test_trust_rule_prefers_highest_trust(records: pd.DataFrame) -> None:
    out = choose_attributes(records, ("first_name",), {"first_name": "trust"})
    assert out.loc["c", "first_name"] == "ROBERT" and out.loc["c", "first_name__record_id"] == 2


def test_recent_rule_prefers_latest(records: pd.DataFrame) -> None:
    out = choose_attributes(records, ("first_name",), {"first_name": "recent"})
    assert out.loc["c", "first_name"] == "BOB" and out.loc["c", "first_name__rule"] == "recent"


def test_complete_and_frequent_rules(records: pd.DataFrame) -> None:
    out = choose_attributes(records, ("email", "first_name"), {"email": "complete", "first_name": "frequent"})
    assert out.loc["c", "email"] == "robert.smith@example.org"
    assert out.loc["c", "first_name"] == "ROBERT"


def test_address_chosen_as_one_unit_from_newest_record(records: pd.DataFrame) -> None:
    out = choose_attributes(records, ("address",), {})
    assert (out.loc["c", "uprn"], out.loc["c", "address"], out.loc["c", "postcode"]) == (200, "2 NEW RD", "AB1 2CD")


def test_cluster_with_no_value_gets_none(records: pd.DataFrame) -> None:
    out = choose_attributes(records, ("first_name",), {})
    assert pd.isna(out.loc["d", "first_name"])


def test_unknown_rule_is_an_error(records: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown survivorship rule"):
        choose_attributes(records, ("first_name",), {"first_name": "loudest"})


def test_placeholders_are_blanked_as_the_matcher_reads_them_and_real_values_keep_their_spelling() -> None:
    recs = pd.DataFrame({"first_name": ["Ann", "Bob", "Unknown"], "last_name": ["NOT-KNOWN", "Smith-Jones", "Ng"],
                         "nino": ["AB123456C", "JK482913C", None], "phone": ["07000 000000", "+33 1 23 45 67 89", None]})
    out = without_placeholders(recs)
    assert out.values.tolist() == [["Ann", None, None, None], ["Bob", "Smith-Jones", "JK482913C", "+33 1 23 45 67 89"],
                                   [None, "Ng", None, None]]
