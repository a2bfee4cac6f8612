"""Blocking rules, their union, the per-rule report, the block-size guard, link-only and new-id modes."""

from __future__ import annotations

import pytest

from matching.blocking import UNION_RULE, candidate_pairs
from matching.errors import SettingsError
from matching.settings import DEFAULT_BLOCKING_RULES, BlockingRule, MatchSettings
from matching.standardise import standardise_people
from matching_fixtures import people

RECORDS = standardise_people(
    people(
        [
            {"first_name": "John", "last_name": "Smith", "postcode": "LS1 4AB", "uprn": "10", "date_of_birth": "1980-01-01"},
            {"first_name": "Jon", "last_name": "Smyth", "postcode": "ls14ab", "uprn": "10", "nino": "JK482913C"},
            {"first_name": "Mary", "last_name": "Jones", "postcode": "LS2 9ZZ", "date_of_birth": "01/01/1980"},
            {"first_name": "Jim", "last_name": "Smith", "postcode": "M1 1AE", "nino": "JK 48 29 13 C"},
            {"first_name": "Ann", "last_name": "Lee", "address": "12 High Street", "postcode": "LS2 9ZZ"},
            {"first_name": "Bob", "last_name": "Wong", "address": "12, High St", "postcode": "LS2 9ZZ"},
        ]
    )
)


def pairs_for(*rules: BlockingRule, **kw) -> set[tuple[int, int]]:
    c = candidate_pairs(RECORDS, MatchSettings(blocking_rules=rules, **kw))
    return set(zip(c.left.tolist(), c.right.tolist()))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("uprn", {(0, 1)}),
        ("postcode_surname_initial", {(0, 1)}),
        ("postcode_house_numbers", {(4, 5)}),
        ("dob", {(0, 2)}),
        ("nino", {(1, 3)}),
        ("surname_first_phonetic", {(0, 1)}),
    ],
)
def test_each_default_rule(rule: str, expected: set) -> None:
    (chosen,) = [r for r in DEFAULT_BLOCKING_RULES if r.name == rule]
    assert pairs_for(chosen) == expected


def test_rules_are_unioned_without_duplicates_and_reported() -> None:
    c = candidate_pairs(RECORDS, MatchSettings())
    got = list(zip(c.left.tolist(), c.right.tolist()))
    assert sorted(got) == sorted(set(got)) == [(0, 1), (0, 2), (1, 3), (4, 5)]
    report = c.report.set_index("rule")
    assert report.loc["uprn", "candidate_pairs"] == 1
    assert report.loc["surname_first_phonetic", "candidate_pairs"] == 1
    assert report.loc[UNION_RULE, "candidate_pairs"] == 4
    assert {"rule", "candidate_pairs", "capped_blocks"} <= set(c.report.columns)


def test_block_size_guard_skips_and_reports_big_blocks() -> None:
    rule = BlockingRule("postcode", ("postcode",))
    c = candidate_pairs(RECORDS, MatchSettings(blocking_rules=(rule,), max_block_size=2))
    row = c.report.set_index("rule").loc["postcode"]
    assert (row["capped_blocks"], row["records_in_capped_blocks"], row["largest_block"]) == (1, 3, 3)
    assert set(zip(c.left.tolist(), c.right.tolist())) == {(0, 1)}


def test_link_only_pairs_cross_sources() -> None:
    frame = RECORDS.copy()
    frame["source"] = ["a", "a", "b", "b", "a", "b"]
    rule = BlockingRule("phonetic", ("last_metaphone", "first_initial"))
    c = candidate_pairs(frame, MatchSettings(blocking_rules=(rule,), link_only=True))
    assert set(zip(c.left.tolist(), c.right.tolist())) == {(0, 3), (1, 3)}


def test_new_ids_only_pairs_touching_new_records() -> None:
    rule = BlockingRule("phonetic", ("last_metaphone", "first_initial"))
    is_new = RECORDS["unique_id"].isin(["s:3"]).to_numpy()
    c = candidate_pairs(RECORDS, MatchSettings(blocking_rules=(rule,)), is_new=is_new)
    assert set(zip(c.left.tolist(), c.right.tolist())) == {(0, 3), (1, 3)}


def test_unknown_key_column_fails_fast() -> None:
    with pytest.raises(SettingsError, match="shoe_size"):
        candidate_pairs(RECORDS, MatchSettings(blocking_rules=(BlockingRule("x", ("shoe_size",)),)))
