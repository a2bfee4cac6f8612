"""The per-bucket scoring (pure pandas, no Spark): each pair once, from its first rule, scored as link_people does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching import MatchSettings, link_people, standardise_people
from matching.settings import BlockingRule
from matching.spark.buckets import RULE, SEQ, ScoringPlan, key_column, score_bucket, with_block_keys
from matching.spark.engine import standardised_columns
from matching.spark.features import NAMESAKE
from matching.conflicts import namesake_households
from matching_fixtures import people, toy_model

RULES = (BlockingRule("postcode", ("postcode",)), BlockingRule("surname", ("last_name",)),
         BlockingRule("dob", ("date_of_birth",)))  # fmt: skip


def _records() -> pd.DataFrame:
    return people([
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1970-01-02", "postcode": "AB1 2CD"},
        {"first_name": "Anne", "last_name": "Lee", "date_of_birth": "02/01/1970", "postcode": "AB1 2CD"},
        {"first_name": "Bob", "last_name": "Lee", "date_of_birth": "1971-05-06", "postcode": "AB1 2CD"},
        {"first_name": "Ann", "last_name": "Leigh", "date_of_birth": "1970-01-02", "postcode": "ZZ9 9ZZ"},
        {"first_name": "Cy", "last_name": "Ng", "date_of_birth": None, "postcode": None},
        {"first_name": "Cy", "last_name": "Ng", "date_of_birth": "1990-03-04", "postcode": "CD3 4EF"},
        {"first_name": "Dee", "last_name": "Park", "date_of_birth": "1950-07-08", "postcode": "AB1 2CD"},
    ])  # fmt: skip


def _exploded(settings: MatchSettings) -> pd.DataFrame:
    """What the Spark shuffle hands a bucket: each record once per rule whose key it has (one bucket for all)."""
    std = standardise_people(_records())
    std[NAMESAKE] = namesake_households(std)
    std.insert(0, SEQ, np.arange(len(std), dtype=np.int64))
    keyed = with_block_keys(std, settings)
    parts = [keyed[keyed[key_column(j)].notna()].assign(**{RULE: j}) for j in range(len(settings.blocking_rules))]
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=0)  # order must not matter


def test_block_keys_are_missing_when_any_key_is() -> None:
    settings = MatchSettings(blocking_rules=(BlockingRule("pc_dob", ("postcode", "date_of_birth")),))
    keyed = with_block_keys(standardise_people(_records()), settings)
    assert keyed[key_column(0)].notna().tolist() == [True, True, True, True, False, True, True]


def test_bucket_scores_each_pair_once_as_the_local_engine_does() -> None:
    settings = MatchSettings(blocking_rules=RULES)
    model = toy_model(settings)
    local = link_people(_records(), settings=settings, model=model)
    plan = ScoringPlan(settings=settings, model=local.model, columns=standardised_columns(settings))
    got = score_bucket(_exploded(settings), plan)
    ids = ["unique_id_l", "unique_id_r"]
    assert not got.duplicated(ids).any()  # (0, 1) shares postcode, surname and dob: scored once
    want = local.pairs.sort_values(ids).reset_index(drop=True)
    got = got.sort_values(ids).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    assert (got["_seq_l"] < got["_seq_r"]).all()


def test_a_capped_block_claims_no_pair() -> None:
    # postcode AB1 2CD (4 records) is over the cap: the Lees' pairs must come from the surname rule, not vanish
    settings = MatchSettings(blocking_rules=RULES, max_block_size=3)
    exploded = _exploded(settings)
    capped = exploded[key_column(0)] == "AB1 2CD"
    exploded[key_column(0)] = exploded[key_column(0)].where(~capped, None)  # what the Spark path does
    exploded = exploded[~(capped & (exploded[RULE] == 0))]
    local = link_people(_records(), settings=settings, model=toy_model(settings))
    plan = ScoringPlan(settings=settings, model=local.model, columns=standardised_columns(settings))
    got = score_bucket(exploded, plan)
    pairs = set(zip(got["unique_id_l"], got["unique_id_r"]))
    assert pairs == set(zip(local.pairs["unique_id_l"], local.pairs["unique_id_r"]))
    assert ("s:0", "s:1") in pairs and local.blocking_report.set_index("rule").loc["postcode", "capped_blocks"] == 1
