"""Must-links for moved and renamed people: kept memberships and NINO + date-of-birth links."""

from __future__ import annotations

import pandas as pd

from hub.identity_links import identifier_links, kept_memberships


def test_moved_or_renamed_records_keep_their_person_unless_identity_conflicts() -> None:
    recs = pd.DataFrame({
        "unique_id": ["1", "2", "3", "4", "5"],
        "date_of_birth": ["1980-01-02", "1980-01-02", None, "1990-09-09", None],
        "nino": ["JK482913C", None, None, None, "ZZ999999Z"],
        "first_name": ["ANN", "ANNE", None, "ANN", "BOB"],
    })
    current = pd.DataFrame({"unique_id": ["1", "2", "3", "4", "5", "6"], "cluster_id": ["p1"] * 5 + ["p2"]})
    kept = kept_memberships(recs, {"1"}, current, cannot={("1", "3")})
    # 2 agrees, 3 was split from 1 by a steward, 4 has another date of birth, 5 another NINO and initial,
    # 6 belongs to another person
    assert kept == {("1", "2")}
    assert kept_memberships(recs, set(), current, set()) == set()
    assert kept_memberships(recs, {"6"}, current, set()) == set()


def test_a_new_record_joins_the_one_person_holding_its_nino_and_date_of_birth() -> None:
    recs = pd.DataFrame({
        "unique_id": ["1", "2", "3", "4", "5", "6"],
        "date_of_birth": ["1930-09-19", None, "1930-09-19", "1950-01-01", "1950-01-01", "1950-01-01"],
        "nino": ["JM405800D", None, "JM405800D", "AA111111A", "AA111111A", "AA111111A"],
        "first_name": ["DAVID", None, "DAVE", "ANN", "ANN", "ROSE"],
    })
    # 1+2: a person (2 is a name-only record at the old address); 3: the new tenancy at the new address
    # 4 and 5: two people holding one NINO + DOB (a data error); 6 is new and would join either: joins neither
    current = pd.DataFrame({"unique_id": ["1", "2", "4", "5"], "cluster_id": ["p1", "p1", "p4", "p5"]})
    assert identifier_links(recs, {"3", "6"}, current, set()) == {("1", "3"), ("2", "3")}
    assert identifier_links(recs, {"3"}, current, {("2", "3")}) == {("1", "3")}
    conflicting = recs.assign(first_name=["DAVID", "MARY", "DAVE", "ANN", "ANN", "ROSE"])  # 2 is someone else
    assert identifier_links(conflicting, {"3"}, current, set()) == set()


def test_a_placeholder_nino_and_date_of_birth_join_nobody() -> None:
    recs = pd.DataFrame({
        "unique_id": ["1", "2"],
        "date_of_birth": ["1900-01-01", "1900-01-01"],
        "nino": ["AB123456C", "AB123456C"],
        "first_name": ["ANN", "ANN"],
    })
    current = pd.DataFrame({"unique_id": ["1"], "cluster_id": ["p1"]})
    assert identifier_links(recs, {"2"}, current, set()) == set()
    real = recs.assign(date_of_birth=["1961-04-05"] * 2, nino=["JK482913C"] * 2)
    assert identifier_links(real, {"2"}, current, set()) == {("1", "2")}
