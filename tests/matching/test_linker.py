"""link_people end to end on small frames: rules, hard negatives, constraints, chaining, incremental runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching import Constraints, MatchSettings, explain_pair, link_people
from matching.model import FellegiSunterModel
from matching_fixtures import people

HOME = {"uprn": "100", "postcode": "LS1 4AB", "address": "1 Oak Road"}


def same_cluster(result, a: str, b: str) -> bool:
    c = result.clusters.set_index("unique_id")["cluster_id"]
    return c[a] == c[b]


def pair(result, a: str, b: str) -> pd.Series:
    p = result.pairs
    hit = ((p.unique_id_l == a) & (p.unique_id_r == b)) | ((p.unique_id_l == b) & (p.unique_id_r == a))
    return p[hit].iloc[0]


def test_result_frames_follow_the_contracts(model: FellegiSunterModel) -> None:
    recs = people([{"first_name": "Ann", "last_name": "Lee", **HOME}, {"first_name": "Anne", "last_name": "Lee", **HOME}])
    result = link_people(recs, model=model)
    assert list(result.pairs.columns[:6]) == ["unique_id_l", "unique_id_r", "match_weight", "match_probability", "band", "rule"]
    assert {"gamma_first_name", "weight_first_name"} <= set(result.pairs.columns)
    assert list(result.clusters.columns) == ["unique_id", "cluster_id"]
    assert sorted(result.clusters.unique_id) == ["s:0", "s:1"]
    assert {"rule", "candidate_pairs"} <= set(result.blocking_report.columns)
    assert same_cluster(result, "s:0", "s:1")


def test_true_duplicate_with_swapped_dob_and_nickname_merges(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "Robert", "last_name": "Brown", "date_of_birth": "1975-03-04", **HOME},
            {"full_name": "BROWN, BOB", "date_of_birth": "04/03/1975", **HOME},
            {"first_name": "Bob", "last_name": "Brown", "date_of_birth": "1975-04-03", **HOME},
        ]
    )
    result = link_people(recs, model=model)
    assert result.clusters.cluster_id.nunique() == 1


@pytest.mark.parametrize(
    ("a", "b", "case"),
    [
        ({"first_name": "John", "date_of_birth": "1990-05-01"}, {"first_name": "James", "date_of_birth": "1990-05-01"}, "twins"),
        ({"first_name": "John", "date_of_birth": "1960-02-11"}, {"first_name": "John", "date_of_birth": "1988-07-30"}, "father/son"),
        ({"full_name": "John Smith Sr"}, {"full_name": "John Smith Jr"}, "Sr/Jr"),
        ({"first_name": "John", "date_of_birth": "1960-02-11"}, {"first_name": "Mary", "date_of_birth": "1962-09-03"}, "spouses"),
    ],
)
def test_hard_negatives_stay_apart(model: FellegiSunterModel, a: dict, b: dict, case: str) -> None:
    recs = people([{"last_name": "Smith", **HOME, **a}, {"last_name": "Smith", **HOME, **b}])
    result = link_people(recs, model=model)
    assert not same_cluster(result, "s:0", "s:1"), case
    p = result.pairs
    assert not (p.band == "auto").any()  # dropped pairs (probability < min_pair_probability) are "none"
    if case == "twins":  # the model alone would merge them: the hard-negative rule is what keeps them apart
        loose = link_people(recs, model=model, settings=MatchSettings(hard_negatives=False))
        assert same_cluster(loose, "s:0", "s:1")


def test_same_nino_and_dob_outranks_the_model(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "Mary", "last_name": "Jones", "nino": "JK482913C", "date_of_birth": "1970-01-02", "postcode": "M1 1AE"},
            {"first_name": "Mary", "last_name": "Okafor", "nino": "JK 48 29 13", "date_of_birth": "1970-01-02", **HOME},
        ]
    )
    result = link_people(recs, model=model)
    row = pair(result, "s:0", "s:1")
    assert (row.band, row.rule) == ("auto", "nino_dob")
    assert same_cluster(result, "s:0", "s:1")
    off = link_people(recs, model=model, settings=MatchSettings(deterministic_nino_dob=False))
    assert pair(off, "s:0", "s:1").rule == ""


def test_no_chaining_through_a_vague_record(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "J", "last_name": "Smith", "date_of_birth": "1980-01-01", **HOME},
            {"first_name": "John", "last_name": "Smith", "date_of_birth": "1980-01-01", **HOME},
            {"first_name": "Jane", "last_name": "Smith", "date_of_birth": "1980-01-01", **HOME},
        ]
    )
    result = link_people(recs, model=model)
    assert pair(result, "s:0", "s:1").band == "auto" and pair(result, "s:0", "s:2").band == "auto"
    assert not same_cluster(result, "s:1", "s:2")
    # "J Smith" fits John and Jane equally well: ambiguous, so it joins neither and waits for review
    assert result.clusters.cluster_id.nunique() == 3


def test_clear_best_link_is_taken_when_not_ambiguous(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "J", "last_name": "Smith", "date_of_birth": "1980-01-01", "email": "js@x.org", **HOME},
            {"first_name": "John", "last_name": "Smith", "date_of_birth": "1980-01-01", "email": "js@x.org", **HOME},
            {"first_name": "Jane", "last_name": "Smith", "date_of_birth": "1980-01-01", **HOME},
        ]
    )
    result = link_people(recs, model=model)
    assert same_cluster(result, "s:0", "s:1") and not same_cluster(result, "s:1", "s:2")


def test_deduplicated_source_records_stay_apart(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"unique_id": "er:1", "first_name": "Jack", "last_name": "Reid", **HOME},
            {"unique_id": "er:2", "first_name": "Jack", "last_name": "Reid", **HOME},
            {"unique_id": "ct:1", "first_name": "Jack", "last_name": "Reid", **HOME},
        ]
    )
    assert link_people(recs, model=model).clusters.cluster_id.nunique() == 1
    result = link_people(recs, model=model, settings=MatchSettings(deduplicated_sources=("er",)))
    assert not same_cluster(result, "er:1", "er:2")
    assert pair(result, "er:1", "er:2").rule == "same_deduplicated_source"
    assert result.clusters.cluster_id.nunique() == 3  # the council-tax record is ambiguous between the two


def test_cannot_link_and_must_link_are_honoured(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01", **HOME},
            {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01", **HOME},
            {"first_name": "Zoe", "last_name": "Kay", "date_of_birth": "2001-06-06", "postcode": "M1 1AE"},
        ]
    )
    base = link_people(recs, model=model)
    assert same_cluster(base, "s:0", "s:1") and not same_cluster(base, "s:0", "s:2")
    c = Constraints(cannot_link=frozenset({("s:1", "s:0")}), must_link=frozenset({("s:0", "s:2")}))
    constrained = link_people(recs, model=model, constraints=c)
    assert not same_cluster(constrained, "s:0", "s:1")
    assert same_cluster(constrained, "s:0", "s:2")
    assert pair(constrained, "s:0", "s:1").rule == "cannot_link"


def test_cannot_link_beats_must_link_chain(model: FellegiSunterModel) -> None:
    recs = people([{"first_name": n, "last_name": "Lee", **HOME} for n in ("Ann", "Bea", "Cat")])
    c = Constraints(must_link=frozenset({("s:0", "s:1"), ("s:1", "s:2")}), cannot_link=frozenset({("s:0", "s:2")}))
    result = link_people(recs, model=model, constraints=c)
    assert not same_cluster(result, "s:0", "s:2")


def test_explain_contributions_sum_to_the_match_weight(model: FellegiSunterModel) -> None:
    a = {"first_name": "Bob", "last_name": "Brown", "date_of_birth": "1975-03-04", "nino": "JK482913C", **HOME}
    b = {"first_name": "Robert", "last_name": "Browne", "date_of_birth": "1975-04-03", "email": "b@x.org", **HOME}
    result = link_people(people([a, b]), model=model)
    contributions = explain_pair(result, a, b)
    assert contributions[0].comparison == "prior"
    levels = {c.comparison: c.level for c in contributions}
    assert levels["first_name"] == "nickname" and levels["date_of_birth"] == "day_month_swap"
    assert levels["nino"] == "null" and levels["email"] == "null" and levels["address"] == "null"
    total = sum(c.weight for c in contributions)
    assert total == pytest.approx(pair(result, "s:0", "s:1").match_weight)


def test_incremental_new_ids_only_scores_pairs_touching_them(model: FellegiSunterModel) -> None:
    old = [{"unique_id": f"old:{i}", "first_name": "Ann", "last_name": "Lee", **HOME} for i in range(3)]
    new = [{"unique_id": "new:1", "first_name": "Anne", "last_name": "Lee", **HOME},
           {"unique_id": "new:2", "first_name": "Zed", "last_name": "Ray", "postcode": "M1 1AE"}]  # fmt: skip
    recs = people(old + new)
    full = link_people(recs, model=model)
    existing = full.clusters[full.clusters.unique_id.str.startswith("old")]
    inc = link_people(recs, model=model, new_ids={"new:1", "new:2"}, existing_clusters=existing)
    touched = inc.pairs.unique_id_l.str.startswith("new") | inc.pairs.unique_id_r.str.startswith("new")
    assert len(inc.pairs) == 3 and touched.all()
    assert len(inc.clusters) == 5
    assert same_cluster(inc, "old:0", "old:2") and same_cluster(inc, "new:1", "old:1")
    assert not same_cluster(inc, "new:2", "old:0")
    assert inc.blocking_report.set_index("rule").loc["union", "candidate_pairs"] == 3


def test_settings_and_model_round_trip(model: FellegiSunterModel) -> None:
    s = MatchSettings(auto_threshold=0.999, extra_id_columns=("account",))
    assert MatchSettings.from_dict(s.to_dict()) == s
    again = FellegiSunterModel.from_dict(model.to_dict())
    assert again.prior == model.prior
    assert all(np.allclose(again.m[k], model.m[k]) and np.allclose(again.u[k], model.u[k]) for k in model.m)


@pytest.mark.parametrize(
    ("a", "b", "case", "band", "rule"),
    [
        ({"first_name": "Louis", "date_of_birth": "2001-05-01"}, {"first_name": "Louise", "date_of_birth": "2001-05-01"},
         "boy and girl twins, close spelling", "review", "first_name_conflict"),
        ({"first_name": "John", "date_of_birth": "1961-02-11"}, {"first_name": "John", "date_of_birth": "1990-07-30"},
         "father and son", "none", "generation_conflict"),
        ({"first_name": "John", "date_of_birth": "1961-02-11"}, {"first_name": "Mary", "date_of_birth": "1961-09-03"},
         "spouses born the same year", "none", "first_name_and_dob_conflict"),
        ({"first_name": "John"}, {"first_name": "Mary"}, "spouses, no dates of birth", "none", "first_name_conflict"),
    ],
)  # fmt: skip
def test_household_hard_negatives(model: FellegiSunterModel, a: dict, b: dict, case: str, band: str, rule: str) -> None:
    recs = people([{"last_name": "Smith", **HOME, **a}, {"last_name": "Smith", **HOME, **b}])
    result = link_people(recs, model=model)
    assert not same_cluster(result, "s:0", "s:1"), case
    p = result.pairs
    assert not (p.band == "auto").any(), case
    if band == "review":
        assert tuple(pair(result, "s:0", "s:1")[["band", "rule"]]) == (band, rule), case
    # "none": the model may already put the pair below review (it is then dropped from the output); with a
    # prior that makes the model alone merge them, the named rule is what keeps them apart
    sure = link_people(recs, model=FellegiSunterModel(model.comparisons, model.m, model.u, prior=1 - 1e-9))
    assert tuple(pair(sure, "s:0", "s:1")[["band", "rule"]]) == (band, rule), case


@pytest.mark.parametrize(
    ("a", "b", "case"),
    [
        ({"first_name": "Jessica", "date_of_birth": "1975-03-04"}, {"first_name": "Jesdicai", "date_of_birth": "1975-03-04"},
         "mistyped first name"),
        ({"first_name": "William", "date_of_birth": "1975-03-04"}, {"first_name": "Bill", "date_of_birth": "1975-03-04"},
         "nickname"),
        ({"first_name": "Anne", "date_of_birth": "1975-03-04"}, {"first_name": "Ann", "date_of_birth": "1975-03-14"},
         "one digit of the date mistyped"),
        ({"first_name": "Anne", "date_of_birth": "1975-03-04"}, {"first_name": "Anne", "date_of_birth": "1957-03-04"},
         "two digits of the year transposed"),
        ({"first_name": "Anne", "date_of_birth": "1975-03-04", "nino": "JK482913C"},
         {"first_name": "Anne", "date_of_birth": "1975-11-21", "nino": "JK482913C"}, "wrong day and month, same NINO"),
    ],
)  # fmt: skip
def test_typos_are_not_conflicts(model: FellegiSunterModel, a: dict, b: dict, case: str) -> None:
    recs = people([{"last_name": "Smith", **HOME, **a}, {"last_name": "Smith", **HOME, **b}])
    result = link_people(recs, model=model)
    assert same_cluster(result, "s:0", "s:1"), case
    assert pair(result, "s:0", "s:1").rule in ("", "nino_dob"), case


def test_same_name_a_generation_apart_is_lifted_by_the_same_nino(model: FellegiSunterModel) -> None:
    a = {"first_name": "Anne", "last_name": "Smith", "nino": "JK482913C", **HOME}
    recs = people([{**a, "date_of_birth": "1975-03-04"}, {**a, "date_of_birth": "1928-06-27"}])
    assert pair(link_people(recs, model=model), "s:0", "s:1").rule != "generation_conflict"


def test_same_name_without_dob_waits_for_review_in_a_namesake_household(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"unique_id": "er:1", "first_name": "Owen", "last_name": "Watson", **HOME},
            {"unique_id": "er:2", "full_name": "Owen Watson Jr", **HOME},
            {"unique_id": "ct:1", "full_name": "WATSON, OWEN", **HOME},
            {"unique_id": "ct:2", "full_name": "ANDERSON SNR, HENRY", **HOME},
            {"unique_id": "er:3", "first_name": "Henry", "last_name": "Anderson", **HOME},
        ]
    )
    result = link_people(recs, model=model)
    for a, b in (("ct:1", "er:1"), ("ct:1", "er:2"), ("ct:2", "er:3")):
        row = pair(result, a, b)
        assert (row.band, row.rule) == ("review", "namesake_household"), (a, b)
        assert not same_cluster(result, a, b)


def test_name_alone_at_different_places_waits_for_review(model: FellegiSunterModel) -> None:
    recs = people(
        [
            {"first_name": "Karen", "last_name": "Gray", "uprn": "100", "postcode": "LS1 4AB"},
            {"first_name": "Karen", "last_name": "Gray", "uprn": "200", "postcode": "M1 1AE"},
        ]
    )
    strong = link_people(recs, model=FellegiSunterModel(model.comparisons, model.m, model.u, prior=1 - 1e-9))
    row = pair(strong, "s:0", "s:1")
    assert (row.band, row.rule) == ("review", "name_only")


def test_two_initials_wait_for_review(model: FellegiSunterModel) -> None:
    recs = people([{"full_name": "M Walker", **HOME}, {"full_name": "M D Walker", **HOME}])
    row = pair(link_people(recs, model=model), "s:0", "s:1")
    assert (row.band, row.rule) == ("review", "initial_only")


def test_auto_can_require_person_level_evidence(model: FellegiSunterModel) -> None:
    recs = people([{"first_name": "Ann", "last_name": "Lee", **HOME}, {"first_name": "Anne", "last_name": "Lee", **HOME}])
    assert pair(link_people(recs, model=model), "s:0", "s:1").band == "auto"
    strict = link_people(recs, model=model, settings=MatchSettings(auto_needs_person_evidence=True))
    row = pair(strict, "s:0", "s:1")
    assert (row.band, row.rule) == ("review", "no_person_evidence")
    with_dob = people([{"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01", **HOME},
                       {"first_name": "Anne", "last_name": "Lee", "date_of_birth": "1950-01-01", **HOME}])  # fmt: skip
    assert pair(link_people(with_dob, model=model, settings=MatchSettings(auto_needs_person_evidence=True)),
                "s:0", "s:1").band == "auto"  # fmt: skip


def test_a_hub_with_no_candidate_pairs_links_nobody_instead_of_failing() -> None:
    """A tiny or brand-new hub can have no candidate pair at all: the prior cannot be learned, nothing merges."""
    records = pd.DataFrame({
        "unique_id": [str(i) for i in range(6)], "source": ["a"] * 3 + ["b"] * 3,
        "first_name": ["ann", "bob", "cat", "dan", "eve", "fay"], "last_name": ["x", "y", "z", "p", "q", "r"],
        "date_of_birth": [None] * 6, "uprn": [None] * 6,
        "postcode": ["AB1 1AA", "AB1 1AB", "AB1 1AC", "ZZ1 1AA", "ZZ1 1AB", "ZZ1 1AC"],
    })
    result = link_people(records)
    assert result.clusters["cluster_id"].nunique() == 6
    assert 0 < result.model.prior < 1


def test_must_linked_pairs_are_not_compared_again() -> None:
    """A component pinned together by must-links (every kept membership, in an incremental run) is coherent without
    comparing its pairs: only the pairs with no must-link are looked at."""
    import numpy as np

    from matching.cluster import cluster_records

    asked: list[tuple[int, int]] = []

    def coherent(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        asked.extend(zip(left.tolist(), right.tolist()))
        return np.ones(len(left), dtype=bool)

    labels = cluster_records(4, np.array([2]), np.array([3]), np.array([20.0]), coherent,
                             must_link=(np.array([0, 0, 1]), np.array([1, 2, 2])))
    assert labels.tolist() == [0, 0, 0, 0]
    assert sorted(tuple(sorted(p)) for p in asked) == [(0, 3), (1, 3), (2, 3)]
