"""Comparison levels: exact / close / partial / else, nulls neutral, dob swap, nicknames, initials."""

from __future__ import annotations

import numpy as np

from matching.compare import LEVELS, NULL, CompareContext, compare_pairs, comparisons_for
from matching.settings import MatchSettings
from matching.standardise import standardise_people
from matching_fixtures import people


def level(name: str, left: dict, right: dict, settings: MatchSettings | None = None) -> str:
    frame = standardise_people(people([left, right]), extra_columns=(settings.extra_id_columns if settings else ()))
    ctx = CompareContext(frame, comparisons_for(settings or MatchSettings()))
    g = int(compare_pairs(ctx, np.array([0]), np.array([1])).gammas[name][0])
    return "null" if g == NULL else (LEVELS.get(name) or ("exact", "one_edit", "two_edits", "else"))[g]


def test_first_name_levels() -> None:
    assert level("first_name", {"first_name": "John"}, {"first_name": "JOHN"}) == "exact"
    assert level("first_name", {"first_name": "Bob"}, {"first_name": "Robert"}) == "nickname"
    assert level("first_name", {"first_name": "Peggy"}, {"first_name": "Margaret"}) == "nickname"
    assert level("first_name", {"first_name": "Christopher"}, {"first_name": "Christophr"}) == "jaro_winkler_0.92"
    assert level("first_name", {"first_name": "J"}, {"first_name": "John"}) == "initial_or_middle"
    assert level("first_name", {"first_name": "John", "middle_names": "Adam"}, {"first_name": "Adam"}) == "initial_or_middle"
    assert level("first_name", {"first_name": "Smith", "last_name": "John"}, {"first_name": "John", "last_name": "Smith"}) == "swapped_with_surname"
    assert level("first_name", {"first_name": "John"}, {"first_name": "Mary"}) == "else"


def test_last_name_levels() -> None:
    assert level("last_name", {"last_name": "MacDonald"}, {"last_name": "Mcdonald"}) == "exact"
    assert level("last_name", {"last_name": "Thompson"}, {"last_name": "Thomson"}) == "jaro_winkler_0.92"
    assert level("last_name", {"last_name": "Smith"}, {"last_name": "Taylor-Smith"}) == "one_part_of_other"
    assert level("last_name", {"last_name": "Smith"}, {"last_name": "Jones"}) == "else"


def test_dob_levels_include_day_month_swap() -> None:
    assert level("date_of_birth", {"date_of_birth": "1980-03-05"}, {"date_of_birth": "05/03/1980"}) == "exact"
    assert level("date_of_birth", {"date_of_birth": "1980-03-05"}, {"date_of_birth": "1980-05-03"}) == "day_month_swap"
    assert level("date_of_birth", {"date_of_birth": "1980-03-05"}, {"date_of_birth": "1980-03-06"}) == "one_edit"
    assert level("date_of_birth", {"date_of_birth": "1980-03-05"}, {"date_of_birth": "1955-11-22"}) == "else"


def test_nulls_are_neutral_level() -> None:
    for name, field in [("first_name", "first_name"), ("date_of_birth", "date_of_birth"), ("nino", "nino"), ("uprn", "uprn"), ("email", "email")]:
        assert level(name, {field: None}, {field: "x"}) == "null"
    assert level("date_of_birth", {"date_of_birth": "garbage"}, {"date_of_birth": "1980-01-01"}) == "null"


def test_address_is_fallback_when_both_have_uprn() -> None:
    a, b = {"address": "12 High St", "uprn": "1"}, {"address": "12 High Street", "uprn": "1"}
    assert level("address", a, b) == "null"
    assert level("uprn", a, b) == "exact"
    assert level("address", {"address": "12 High St"}, b) == "exact"
    assert level("address", {"address": "Flat 2, 12 High St"}, {"address": "2/12 High Street"}) == "same_numbers_similar_text"
    assert level("address", {"address": "14 High St"}, {"address": "12 High Street"}) == "similar_text_other_numbers"
    assert level("address", {"address": "14 Low Road"}, {"address": "12 High Street"}) == "else"


def test_postcode_and_identifier_levels() -> None:
    assert level("postcode", {"postcode": "LS1 4AB"}, {"postcode": "ls14ab"}) == "exact"
    assert level("postcode", {"postcode": "LS1 4AB"}, {"postcode": "LS1 4AD"}) == "one_edit"
    assert level("postcode", {"postcode": "LS1 4AB"}, {"postcode": "LS1 4XY"}) == "same_sector_or_two_edits"
    assert level("nino", {"nino": "JK482913C"}, {"nino": "JK482931C"}) == "one_edit"
    s = MatchSettings(extra_id_columns=("account",))
    assert level("account", {"account": "X100"}, {"account": "x100"}, s) == "exact"
    assert level("account", {"account": "X100"}, {"account": "X109"}, s) == "one_edit"


def test_vectorised_over_many_pairs() -> None:
    frame = standardise_people(people([{"first_name": n} for n in ["ann", "anne", "bob", "robert", None]]))
    ctx = CompareContext(frame, comparisons_for(MatchSettings(comparisons=("first_name",))))
    left, right = np.array([0, 0, 2, 3, 4]), np.array([1, 2, 3, 0, 0])
    g = compare_pairs(ctx, left, right).gammas["first_name"].tolist()
    assert g == [1, 6, 1, 6, NULL]  # ann~anne is a listed nickname pair


def test_namesake_flags_for_a_few_records_equal_those_of_the_whole_frame() -> None:
    """A nightly run flags only the households its pairs touch; each flag equals the whole frame's."""
    import pandas as pd

    from matching.conflicts import namesake_households

    frame = pd.DataFrame({
        "uprn": ["1", "1", "1", "2", "2", None, None, "3", "3"],
        "address": [None, None, None, None, None, "4 elm rd", "4 elm rd", None, None],
        "last_name": ["watson", "watson", "watson", "reid", "reid", "bell", "bell", "kerr", "kerr"],
        "first_name": ["owen", "owen", "o", "ian", "ian", "ann", "ann", "m", "mary"],
        "first_metaphone": ["ON", "ON", None, "IN", "IN", "AN", "AN", None, "MR"],
        "name_suffix": [None, "jr", None, None, None, None, None, None, None],
        "date_of_birth": [None, None, None, "1950-01-01", "1990-01-01", None, None, None, None],
        "source": ["er", "er", "ct", "ct", "ct", "er", "er", "ct", "ct"],
    })
    whole = namesake_households(frame, ("er",))
    assert whole.any() and not whole.all()
    for positions in ([0], [3, 8], [5], [2, 7], list(range(9))):
        ctx = CompareContext(frame, (), deduplicated_sources=("er",))
        assert ctx.namesakes(np.array(positions))[positions].tolist() == whole[positions].tolist(), positions
