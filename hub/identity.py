"""Persistent golden IDs: deciding which cluster keeps which existing ID, which IDs merge and which are new."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

NEW = -1  # placeholder ID for a cluster that needs a fresh golden ID


@dataclass
class IdPlan:
    """How clusters map onto golden IDs.

    ``cluster_ids`` gives each cluster its ID (``NEW`` when it needs a fresh one); ``merged`` maps an
    absorbed ID to its survivor; ``split_from`` maps a cluster that left an ID to that ID; ``retired``
    lists IDs no cluster holds any more.
    """

    cluster_ids: dict[object, int]
    merged: dict[int, int] = field(default_factory=dict)
    split_from: dict[object, int] = field(default_factory=dict)
    retired: set[int] = field(default_factory=set)


def plan_ids(clusters: pd.DataFrame, prior: pd.DataFrame) -> IdPlan:
    """Assign persistent IDs to clusters.

    Args:
        clusters: ``record_id, cluster_id`` for every live record in scope.
        prior: ``record_id, person_id``: the current cross-reference of records in scope (records
            deleted since keep their row here so their person is accounted for).

    Rules: a person ID stays with the cluster holding most of its records (ties: the cluster with
    the oldest record); a cluster holding several IDs keeps the oldest (lowest) and the others become
    redirects to it; a cluster that holds none of the IDs its records had gets a new ID (a split);
    a cluster of only new records gets a new ID; IDs held by no cluster are retired.

    Examples:
        >>> c = pd.DataFrame({"record_id": [1, 2, 3], "cluster_id": ["a", "a", "b"]})
        >>> p = pd.DataFrame({"record_id": [1, 2, 3], "person_id": [10, 11, 11]})
        >>> plan = plan_ids(c, p)
        >>> plan.cluster_ids, plan.merged, plan.split_from
        ({'a': 10, 'b': -1}, {11: 10}, {'b': 11})
    """
    joined = clusters.merge(prior, on="record_id", how="left")
    held = joined.dropna(subset=["person_id"]).astype({"person_id": "int64"})
    votes = (held.groupby(["person_id", "cluster_id"], sort=False)
             .agg(n=("record_id", "size"), oldest=("record_id", "min")).reset_index())
    votes = votes.sort_values(["person_id", "n", "oldest"], ascending=[True, False, True])
    keeper = votes.drop_duplicates("person_id", keep="first")
    kept_by_cluster = keeper.groupby("cluster_id")["person_id"].apply(sorted).to_dict()

    plan = IdPlan(cluster_ids={})
    for cluster_id in clusters["cluster_id"].drop_duplicates():
        kept = kept_by_cluster.get(cluster_id, [])
        if kept:
            survivor = kept[0]
            plan.cluster_ids[cluster_id] = survivor
            for other in kept[1:]:
                plan.merged[other] = survivor
        else:
            plan.cluster_ids[cluster_id] = NEW
    lost = votes.merge(keeper[["person_id", "cluster_id"]], on=["person_id", "cluster_id"], how="left", indicator=True)
    lost = lost[lost["_merge"] == "left_only"].sort_values(["cluster_id", "person_id"])
    for row in lost.itertuples(index=False):
        if plan.cluster_ids.get(row.cluster_id) == NEW and row.cluster_id not in plan.split_from:
            plan.split_from[row.cluster_id] = int(row.person_id)
    all_prior = set(prior["person_id"].dropna().astype("int64"))
    plan.retired = all_prior - set(keeper["person_id"]) - set(plan.merged)
    return plan
