"""Suites are plain data: which expectations a source gets depends on its fields, its history and the policy."""

from __future__ import annotations

import re

import pandas as pd

from quality.metrics import POSTCODE_SPACED, completeness, duplicate_rates, validity
from quality.policy import QualityPolicy
from quality.store import resolve_redirects
from quality.suites import CRITICAL, WARNING, batch_suite, extract_suite, sampled_floor, year_columns


def _kinds(suite) -> list[tuple[str, str | None, str]]:  # noqa: ANN001
    return [(e.kind, e.column, e.severity) for e in suite.expectations]


def test_first_run_gets_validity_gates_and_completeness_warnings_only() -> None:
    suite = extract_suite("ctax", ("full_name", "nino", "postcode"), rows=500, previous_completeness={},
                          previous_rows=None, full_extract=True)
    kinds = _kinds(suite)
    assert ("ExpectColumnValuesToBeUnique", "source_key", CRITICAL) in kinds
    assert ("ExpectColumnValuesToMatchRegex", "nino", CRITICAL) in kinds
    assert ("ExpectColumnValuesToNotBeNull", "postcode", WARNING) in kinds
    assert not any(k == "ExpectTableRowCountToBeBetween" for k, _c, _s in kinds)
    assert suite.meta["policy"]["completeness_drop"] == 0.10


def test_a_date_of_death_is_not_expected_to_be_complete() -> None:
    """Most people are alive: an empty date of death is normal, not a completeness warning."""
    suite = extract_suite("benefits", ("full_name", "date_of_death"), rows=500, previous_completeness={},
                          previous_rows=None, full_extract=True)
    kinds = _kinds(suite)
    assert ("ExpectColumnValuesToNotBeNull", "full_name", WARNING) in kinds
    assert not any(k == "ExpectColumnValuesToNotBeNull" and c == "date_of_death" for k, c, _s in kinds)
    assert ("ExpectColumnValuesToMatchRegex", "date_of_death", CRITICAL) in kinds


def test_previous_run_turns_completeness_and_row_count_into_drift_gates() -> None:
    policy = QualityPolicy(completeness_drop=0.05, row_count_drop=0.5)
    suite = extract_suite("ctax", ("full_name", "postcode"), rows=500, previous_completeness={"postcode": 0.9,
                          "full_name": 0.02}, previous_rows=1000, full_extract=True, policy=policy)
    by_column = {(e.kind, e.column): e for e in suite.expectations}
    drift = by_column[("ExpectColumnValuesToNotBeNull", "postcode")]
    assert drift.severity == CRITICAL and drift.kwargs["mostly"] == 0.85
    assert by_column[("ExpectColumnValuesToNotBeNull", "full_name")].severity == WARNING  # floor would be < 0
    assert by_column[("ExpectTableRowCountToBeBetween", None)].kwargs["min_value"] == 500
    small = extract_suite("ctax", ("postcode",), rows=10, previous_completeness={"postcode": 0.9}, previous_rows=1000,
                          full_extract=True, policy=policy)
    assert [e.severity for e in small.expectations if e.column == "postcode" and "Null" in e.kind] == [WARNING]


def test_completeness_warning_allows_for_sampling_in_small_batches() -> None:
    """17 rows with 5 emails (29 %) are no evidence that a source's email is under 50 % complete; 10,000 are."""
    def warn_floor(rows: int) -> float:
        suite = extract_suite("requests", ("email",), rows=rows, previous_completeness={}, previous_rows=None,
                              full_extract=False)
        return next(e.kwargs["mostly"] for e in suite.expectations
                    if e.kind == "ExpectColumnValuesToNotBeNull" and e.column == "email")

    assert warn_floor(17) < 5 / 17 < 0.5
    assert 0.48 < warn_floor(10_000) < 0.5 and warn_floor(10_000) > 0.29
    assert sampled_floor(0.5, 0) == 0.0 and sampled_floor(0.9, 100) < sampled_floor(0.9, 1000) < 0.9


def test_quarantine_rate_gates_only_batches_big_enough_to_judge() -> None:
    rate = [e for e in batch_suite("ctax", extracted=1000).expectations if e.column == "quarantine_rate"]
    assert rate[0].severity == CRITICAL and rate[0].kwargs["max_value"] == 0.2
    assert [e.severity for e in batch_suite("ctax", extracted=3).expectations if e.column == "quarantine_rate"] == [WARNING]


def test_canonical_postcode_pattern_follows_the_boundary_rules() -> None:
    pattern = re.compile(POSTCODE_SPACED)
    good = ["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "GIR 0AA"]
    bad = ["SW1A1AA", "AB1 2CD", "QA1 1AA", "sw1a 1aa", "12345"]
    assert all(pattern.match(p) for p in good)
    assert not any(pattern.match(p) for p in bad)


def test_completeness_validity_years_and_duplicates() -> None:
    frame = pd.DataFrame({"postcode": ["SW1A 1AA", "bad", None, ""], "date_of_birth": ["1980-02-03", None, "2999-01-01", None]})
    assert completeness(frame, ("postcode", "date_of_birth")) == {"postcode": 0.5, "date_of_birth": 0.5}
    assert validity(frame, ("postcode", "date_of_birth")) == {"postcode": 0.5, "date_of_birth": 1.0}
    assert year_columns(frame)["date_of_birth_year"].tolist()[::2] == [1980, 2999]
    xrefs = pd.DataFrame({"source": ["a", "a", "b"], "person_id": [1, 2, 1], "record_deleted": [False, False, False]})
    assert duplicate_rates(xrefs) == {"a": 0.0, "b": 0.0}


def test_redirect_chains_resolve_and_cycles_are_named() -> None:
    persons = pd.DataFrame({"person_id": [1, 2, 3, 4, 5], "status": ["active", "merged", "merged", "merged", "merged"],
                            "redirect_to": pd.array([None, 1, 2, 5, 4], dtype="Int64")})
    out = resolve_redirects(persons).set_index("person_id")
    assert out.loc[3, "final_id"] == 1 and out.loc[3, "chain_length"] == 2
    assert list(out.loc[[4, 5], "final_status"]) == ["cycle", "cycle"]


def test_uprn_match_rate_drift_is_a_gate_once_there_is_a_previous_run() -> None:
    from quality.suites import address_suite

    assert not any(e.kwargs.get("value_set") == ["auto"] for e in address_suite("ctax", rows=500).expectations)
    drift = [e for e in address_suite("ctax", rows=500, previous_match_rate=0.9).expectations
             if e.kwargs.get("value_set") == ["auto"]]
    assert [(e.severity, e.kwargs["mostly"]) for e in drift] == [(CRITICAL, 0.8)]
    assert not [e for e in address_suite("ctax", rows=5, previous_match_rate=0.9).expectations
                if e.kwargs.get("value_set") == ["auto"]]
