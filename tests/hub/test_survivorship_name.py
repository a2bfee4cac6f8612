"""The current-surname rule: kept until a trusted, live record that changed states a new surname."""

from __future__ import annotations

import pandas as pd

from hub.survivorship_name import CHANGED, KEPT, choose_last_name, fill_name_parts, is_new_name, name_key


def recs(rows: list[dict]) -> pd.DataFrame:
    base = {"cluster_id": "c", "trust": 3, "live": True, "trusted": True, "changed": False,
            "recency": pd.Timestamp("2026-01-01", tz="UTC")}
    return pd.DataFrame([{**base, "record_id": i + 1, **r} for i, r in enumerate(rows)])


def pick(f: pd.DataFrame, prior: str | None) -> tuple:
    row = choose_last_name(f, pd.Series({"c": prior} if prior else {}, dtype=object)).loc["c"]
    return row.last_name, int(row.last_name__record_id), row.last_name__rule


def test_spellings_suffixes_and_missing_names_are_not_new_names() -> None:
    assert name_key("Smith Jnr") == name_key("SMITH") == name_key("smith.")
    assert not is_new_name("MACDONALD", "McDonald") and not is_new_name("STEWART", "STWEART")
    assert not is_new_name(None, "PRICE") and not is_new_name("PRICE", "")
    assert is_new_name("WOOD-WARD", "PRICE") and is_new_name("GRAY", "ANDERSON")


def test_a_trusted_record_that_changed_to_a_new_surname_changes_the_name() -> None:
    f = recs([{"last_name": "GRAY", "trust": 5}, {"last_name": "ANDERSON", "trust": 2, "changed": True}])
    assert pick(f, "GRAY") == ("ANDERSON", 2, CHANGED)


def test_a_lower_trust_record_that_always_disagreed_does_not_rename_anyone() -> None:
    f = recs([{"last_name": "GRAY", "trust": 2}, {"last_name": "GREY", "trust": 5, "changed": True},  # a spelling
              {"last_name": "ANDERSON", "trust": 1}])  # never changed: an old disagreement, not news
    assert pick(f, "GRAY")[0::2] == ("GRAY", KEPT)


def test_untrusted_records_do_not_rename_anyone_but_a_record_closing_renamed_does() -> None:
    f = recs([{"last_name": "GRAY"}, {"last_name": "ANDERSON", "changed": True, "trusted": False}])
    assert pick(f, "GRAY") == ("GRAY", 1, KEPT)
    g = recs([{"last_name": "GRAY"}, {"last_name": "KERR", "changed": True, "live": False}])  # closed as she moved
    assert pick(g, "GRAY") == ("KERR", 2, CHANGED)


def test_a_new_person_takes_the_rule() -> None:
    f = recs([{"last_name": "GRAY", "trust": 2}, {"last_name": "ANDERSON", "trust": 5}])
    assert pick(f, None) == ("ANDERSON", 2, "trust")


def test_first_and_last_names_swapped_in_a_record_are_not_a_new_surname() -> None:
    f = recs([{"last_name": "BLACK", "first_name": "EILIDH"},
              {"last_name": "EILIDH", "first_name": "BLACK", "changed": True, "live": False}])
    assert pick(f, "Black")[0::2] == ("BLACK", KEPT)


def test_a_golden_record_with_swapped_names_is_not_renamed_by_a_record_that_has_them_right() -> None:
    """A tenancy system wrote THORPE / PAUL (swapped) and, trusted most, made the golden record PAUL as surname; an
    updated electoral record saying forenames PAUL ALAN, surname THORPE is no change of name (it made THORPE
    THORPE before)."""
    f = recs([{"first_name": "THORPE", "last_name": "PAUL", "trust": 4},
              {"first_name": "PAUL ALAN", "last_name": "THORPE", "trust": 2, "changed": True}])
    assert pick(f, "PAUL")[0::2] == ("PAUL", KEPT)
    g = recs([{"first_name": "JOAN", "last_name": "MURRAY", "trust": 4},
              {"first_name": "M", "last_name": "JOAN", "trust": 2, "changed": True}])  # surname written as forename
    assert pick(g, "MURRAY")[0::2] == ("MURRAY", KEPT)
    married = recs([{"first_name": "JOAN", "last_name": "MURRAY", "trust": 4},
                    {"first_name": "JOAN", "last_name": "KERR", "trust": 2, "changed": True}])
    assert pick(married, "MURRAY") == ("KERR", 2, CHANGED)  # still a change of name


def test_a_lead_name_system_gives_name_parts_and_its_new_surname_is_seen() -> None:
    """A council-tax system holds only "SURNAME, Forenames": its records still name the person and a new surname
    on an updated account is a change of name."""
    records = fill_name_parts(pd.DataFrame({
        "record_id": [1, 2], "cluster_id": ["c", "c"], "full_name": [None, "KERR, AVA C"],
        "title": ["Ms", None], "first_name": ["Ava", None], "middle_names": [None, None], "last_name": ["Wood", None],
        "trust": [2, 3], "recency": pd.to_datetime(["2024-01-01", "2024-02-01"]), "live": [True, True],
        "trusted": [True, True], "changed": [False, True],
    }))
    assert records.loc[1, ["first_name", "middle_names", "last_name"]].tolist() == ["AVA", "C", "KERR"]
    assert records.loc[0, ["title", "first_name", "last_name"]].tolist() == ["Ms", "Ava", "Wood"]
    chosen = choose_last_name(records, pd.Series({"c": "Wood"}))
    assert chosen.loc["c", ["last_name", "last_name__rule"]].tolist() == ["KERR", "changed"]


def test_name_parts_found_by_plain_search_as_by_the_pattern() -> None:
    """The fast path for plain ASCII names finds the same word, in the same spelling, as the pattern does."""
    import random
    import re

    from hub.survivorship_name import _as_written

    def by_pattern(token: str, raw: str) -> str:
        spelt = "['’`]?".join(re.escape(c) for c in token)
        found = re.search(rf"(?<![A-Za-z]){spelt}(?![A-Za-z])", raw, flags=re.IGNORECASE)
        return found.group(0) if found else token.title()

    rng = random.Random(7)
    cases = [("kerr", "KERR, AVA C"), ("ava", "KERR, AVA C"), ("mc", "MCMC, Mc"), ("ann", "ANNA ANN"), ("x-y", "X-Y z")]
    cases += [("".join(rng.choice("ab") for _ in range(rng.randint(1, 3))),
               "".join(rng.choice("abAB .,-1") for _ in range(rng.randint(0, 12)))) for _ in range(20_000)]
    assert [_as_written(t, r) for t, r in cases] == [by_pattern(t, r) for t, r in cases]
