"""Persistent golden IDs: growth keeps the ID, merges redirect to the oldest, splits get new IDs."""

from __future__ import annotations

import pandas as pd

from hub.identity import NEW, plan_ids


def frame(pairs: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["record_id", "cluster_id"])


def prior(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["record_id", "person_id"])


def test_new_records_alone_get_new_ids() -> None:
    plan = plan_ids(frame([(1, "a"), (2, "b")]), prior([]))
    assert plan.cluster_ids == {"a": NEW, "b": NEW} and not plan.merged and not plan.split_from


def test_growing_cluster_keeps_its_id() -> None:
    plan = plan_ids(frame([(1, "a"), (2, "a"), (3, "a")]), prior([(1, 7), (2, 7)]))
    assert plan.cluster_ids == {"a": 7} and not plan.merged


def test_merge_keeps_oldest_id_and_redirects_the_other() -> None:
    plan = plan_ids(frame([(1, "a"), (2, "a")]), prior([(1, 9), (2, 4)]))
    assert plan.cluster_ids == {"a": 4} and plan.merged == {9: 4}


def test_split_gives_leaving_part_a_new_id_and_majority_keeps_it() -> None:
    plan = plan_ids(frame([(1, "a"), (2, "a"), (3, "b")]), prior([(1, 5), (2, 5), (3, 5)]))
    assert plan.cluster_ids == {"a": 5, "b": NEW}
    assert plan.split_from == {"b": 5}


def test_split_tie_goes_to_cluster_with_oldest_record() -> None:
    plan = plan_ids(frame([(2, "x"), (1, "y")]), prior([(1, 5), (2, 5)]))
    assert plan.cluster_ids == {"y": 5, "x": NEW}


def test_person_with_no_live_records_is_retired() -> None:
    plan = plan_ids(frame([(1, "a")]), prior([(1, 3), (2, 8)]))
    # record 2 is not in any cluster (deleted at its source): person 8 keeps no records.
    assert plan.cluster_ids == {"a": 3} and plan.retired == {8}
