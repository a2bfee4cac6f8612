"""The Spark path gives the local engine's scored pairs and clusters on the same synthetic council (local[2])."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching import Constraints, MatchSettings, link_people
from matching.spark import cluster_scored_pairs, clusters_for_all, fit_model_on_sample, link_people_spark
from schemas.columns import ClusterFrame, PairFrame

IDS = [PairFrame.unique_id_l, PairFrame.unique_id_r]


def _extract(spark, records: pd.DataFrame):  # noqa: ANN001, ANN202 - the canonical extract, in hub record order
    frame = records.copy()
    frame.insert(0, "_seq", np.arange(len(frame), dtype=np.int64))
    return spark.createDataFrame(frame, schema=", ".join(["_seq bigint", *[f"`{c}` string" for c in records.columns]]))


def test_spark_scores_and_clusters_exactly_as_the_local_engine(spark, council_people: pd.DataFrame) -> None:  # noqa: ANN001
    # a steward decision each way, on real pairs, so the constraint path is compared too
    settings = MatchSettings(deduplicated_sources=("electoral_register",))
    first = link_people(council_people, settings=settings)
    auto = first.pairs[first.pairs[PairFrame.band] == "auto"]
    review = first.pairs[first.pairs[PairFrame.band] == "review"]
    assert len(auto) > 500 and len(review) > 0
    constraints = Constraints(
        must_link=frozenset({tuple(review.iloc[0][IDS])}), cannot_link=frozenset({tuple(auto.iloc[0][IDS])})
    )
    local = link_people(council_people, settings=settings, constraints=constraints, model=first.model)

    result = link_people_spark(_extract(spark, council_people), first.model, settings=settings, constraints=constraints)
    pairs = result.pairs.persist()
    try:
        got = pairs.toPandas()
        clustered = cluster_scored_pairs(result, settings=settings, constraints=constraints)
        clusters = clusters_for_all(result, clustered).toPandas()
    finally:
        pairs.unpersist()

    want = local.pairs.set_index(IDS).sort_index()
    got = got.set_index(IDS).sort_index()
    assert got.index.equals(want.index), "different pairs"
    assert not got.index.duplicated().any()
    assert np.abs(got[PairFrame.match_weight] - want[PairFrame.match_weight]).max() <= 1e-9
    assert np.abs(got[PairFrame.match_probability] - want[PairFrame.match_probability]).max() <= 1e-9
    assert (got[PairFrame.band] == want[PairFrame.band]).all()
    assert (got[PairFrame.rule] == want[PairFrame.rule]).all()
    assert {"must_link", "cannot_link"} <= set(got[PairFrame.rule])
    for column in want.columns:
        if column.startswith("gamma_"):
            assert (got[column].to_numpy() == want[column].to_numpy()).all(), column
        if column.startswith("weight_"):
            assert np.abs(got[column].to_numpy() - want[column].to_numpy()).max() <= 1e-6, column

    want_clusters = local.clusters.set_index(ClusterFrame.unique_id)[ClusterFrame.cluster_id].sort_index()
    got_clusters = clusters.set_index(ClusterFrame.unique_id)[ClusterFrame.cluster_id].sort_index()
    assert got_clusters.index.equals(want_clusters.index)
    assert (got_clusters == want_clusters).all()
    assert want_clusters.nunique() < len(want_clusters) * 0.9  # the council really links

    report = result.blocking_report.set_index("rule")
    local_report = local.blocking_report.set_index("rule")
    rules = [r.name for r in settings.blocking_rules]
    assert (report.loc[rules, "candidate_pairs"] == local_report.loc[rules, "candidate_pairs"]).all()
    assert (report.loc[rules, "largest_block"] == local_report.loc[rules, "largest_block"]).all()


def test_model_is_fitted_once_locally_on_a_sample(spark, council_people: pd.DataFrame) -> None:  # noqa: ANN001
    model = fit_model_on_sample(_extract(spark, council_people), sample_records=len(council_people) // 2, seed=3)
    assert model.training["candidate_pairs"] > 0
    weights = model.level_weights("date_of_birth")
    assert weights[0] > 0 > weights[-1]  # exact dob agreement is evidence for, disagreement against


def test_an_extract_without_unique_id_is_refused(spark) -> None:  # noqa: ANN001
    from matching.spark import SparkMatchingError

    frame = spark.createDataFrame(pd.DataFrame({"first_name": ["ann"]}))
    with pytest.raises(SparkMatchingError, match="unique_id"):
        link_people_spark(frame, fit_model_placeholder())


def fit_model_placeholder():  # noqa: ANN201
    from matching.compare import comparisons_for
    from matching.model import FellegiSunterModel, default_m

    comps = comparisons_for(MatchSettings())
    return FellegiSunterModel(comps, {c.name: default_m(len(c.levels)) for c in comps},
                              {c.name: default_m(len(c.levels))[::-1].copy() for c in comps})  # fmt: skip
