"""Hard-negative evidence: first-name typos vs different names, genders, namesake households."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching.compare import CompareContext
from matching.conflicts import first_name_genders, first_name_typo, namesake_households, opposite_gender


def _typo(a: str, b: str) -> bool:
    ctx = CompareContext(pd.DataFrame({"first_name": [a, b]}), ())
    return bool(first_name_typo(ctx, np.array([0]), np.array([1]), np.ones(1, bool))[0])


@pytest.mark.parametrize(("a", "b"), [("tayla", "tayya"), ("jessica", "jesdicai"), ("micheal", "michael"),
                                      ("jonathan", "jonahtan"), ("katherine", "katherina")])  # fmt: skip
def test_keystroke_errors_are_typos(a: str, b: str) -> None:
    assert _typo(a, b)


@pytest.mark.parametrize(("a", "b"), [("john", "joan"), ("louis", "louise"), ("francis", "frances"),
                                      ("daniel", "danielle"), ("paul", "paula"), ("daniella", "lachlan")])  # fmt: skip
def test_short_or_gendered_or_different_names_are_not_typos(a: str, b: str) -> None:
    assert not _typo(a, b)


def test_genders_come_from_the_maintained_list() -> None:
    assert first_name_genders(np.array(["robert", "roberta", "alex", "zzqx"], dtype=object)).tolist() == [1, -1, 0, 0]
    ctx = CompareContext(pd.DataFrame({"first_name": ["louis", "louise", "anne", "ann"]}), ())
    got = opposite_gender(ctx, np.array([0, 2]), np.array([1, 3]), np.ones(2, bool))
    assert got.tolist() == [True, False]


def _household(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"uprn": ["1"] * n, "address": [None] * n, "last_name": ["watson"] * n, "first_name": ["owen"] * n,
            "first_metaphone": ["ON"] * n, "name_suffix": [None] * n, "date_of_birth": [None] * n,
            "source": ["ct"] * n}  # fmt: skip
    return pd.DataFrame({**base, **columns})


def test_one_person_per_name_is_no_namesake_household() -> None:
    assert not namesake_households(_household(source=["er", "ct", "sr"])).any()


def test_generational_suffix_marks_the_household() -> None:
    flags = namesake_households(_household(name_suffix=[None, "jr", None], source=["er", "er", "ct"]))
    assert flags.all()


def test_dates_a_generation_apart_mark_the_household() -> None:
    assert namesake_households(_household(date_of_birth=["1960-01-01", "1990-05-05", None])).all()
    assert not namesake_households(_household(date_of_birth=["1960-01-01", "1961-05-05", None])).any()


def test_two_records_of_a_deduplicated_source_mark_the_household() -> None:
    frame = _household(source=["er", "er", "ct"])
    assert not namesake_households(frame).any()
    assert namesake_households(frame, ("er",)).all()


def test_initial_is_ambiguous_only_where_two_first_names_share_it() -> None:
    frame = _household(last_name=["walker"] * 4, first_name=["m", "mary", "michael", "m"],
                       first_metaphone=["M", "MR", "MXL", "M"])  # fmt: skip
    assert namesake_households(frame).tolist() == [True, False, False, True]
    single = _household(last_name=["walker"] * 2, first_name=["m", "mary"], first_metaphone=["M", "MR"])
    assert not namesake_households(single).any()
