"""Cluster step of the Spark path, run on the driver: the local engine's ``cluster_records`` over auto pairs.

Only the auto-band edges (and steward must-links) come to the driver, with the standardised rows of records in
components of three or more (the only ones whose coherence is checked). Records outside every auto pair are
their own cluster; ``clusters_for_all`` adds them back on Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.cluster import cluster_records
from matching.compare import CompareContext, compare_pairs
from matching.linker import classify
from matching.settings import Constraints, MatchSettings
from matching.spark.buckets import COHERENT, SEQ, SEQ_L, SEQ_R
from matching.spark.engine import SparkLinkResult, standardised_columns
from matching.spark.errors import SparkMatchingError
from matching.spark.features import prime_context
from schemas.columns import Band, ClusterFrame, PairFrame
from schemas.columns import PersonRecord as P

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MIN_CHECKED = 3  # cluster_records checks coherence inside components of 3+ records only


def _constraint_seqs(result: SparkLinkResult, constraints: Constraints) -> dict[str, int]:
    from pyspark.sql import functions as F

    ids = sorted({i for pair in (*constraints.must_link, *constraints.cannot_link) for i in pair})
    if not ids:
        return {}
    rows = result.standardised.where(F.col(P.unique_id).isin(ids)).select(P.unique_id, SEQ).collect()
    return {r[P.unique_id]: int(r[SEQ]) for r in rows}


def _as_positions(
    pairs: list[tuple[str, str]], seqs: dict[str, int], touched: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Constraint pairs as positions into ``touched`` (in the constraint set's own order, as ``link_people``)."""
    got = [(seqs[a], seqs[b]) for a, b in pairs if a in seqs and b in seqs]
    if not got:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(got, dtype=np.int64)
    pos = np.searchsorted(touched, arr)
    ok = (pos < len(touched)).all(axis=1)
    ok[ok] = (touched[pos[ok]] == arr[ok]).all(axis=1)
    return pos[ok, 0], pos[ok, 1]


def cluster_scored_pairs(
    result: SparkLinkResult,
    *,
    settings: MatchSettings = MatchSettings(),  # noqa: B008 - frozen dataclass
    constraints: Constraints = Constraints(),  # noqa: B008
) -> pd.DataFrame:
    """``unique_id, cluster_id`` for every record in an auto pair or a must-link (others are alone).

    Gives the clusters ``link_people`` gives: same edges in the same order, same coherence verdicts
    (looked up in the scored pairs, or recomputed with ``compare_pairs`` + ``classify`` for pairs no rule made).
    """
    from pyspark.sql import functions as F

    auto = result.pairs.where(F.col(PairFrame.band) == Band.AUTO)
    edges = auto.select(SEQ_L, SEQ_R, PairFrame.match_weight, PairFrame.unique_id_l, PairFrame.unique_id_r).toPandas()
    edges = edges.iloc[np.lexsort((edges[SEQ_R].to_numpy(), edges[SEQ_L].to_numpy()))]
    seqs = _constraint_seqs(result, constraints)
    id_of = pd.Series(
        np.concatenate([edges[PairFrame.unique_id_l].to_numpy(dtype=object),
                        edges[PairFrame.unique_id_r].to_numpy(dtype=object), np.asarray(list(seqs), dtype=object)]),
        index=np.concatenate([edges[SEQ_L].to_numpy(dtype=np.int64), edges[SEQ_R].to_numpy(dtype=np.int64),
                              np.asarray(list(seqs.values()), dtype=np.int64)]),
    )  # fmt: skip
    id_of = id_of[~id_of.index.duplicated()].sort_index()
    touched = id_of.index.to_numpy(dtype=np.int64)
    n = len(touched)
    if n == 0:
        empty = pd.Series(dtype=object)
        return pd.DataFrame({ClusterFrame.unique_id: empty, ClusterFrame.cluster_id: empty})
    el = np.searchsorted(touched, edges[SEQ_L].to_numpy(dtype=np.int64))
    er = np.searchsorted(touched, edges[SEQ_R].to_numpy(dtype=np.int64))
    must = _as_positions(list(constraints.must_link), seqs, touched)
    cannot = _as_positions(list(constraints.cannot_link), seqs, touched)

    graph_l, graph_r = np.concatenate([el, must[0]]), np.concatenate([er, must[1]])
    graph = coo_matrix((np.ones(len(graph_l), dtype=np.int8), (graph_l, graph_r)), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    checked = np.flatnonzero(np.bincount(comp)[comp] >= MIN_CHECKED)
    coherent = _coherence(result, settings, touched, checked)
    labels = cluster_records(
        n, el, er, edges[PairFrame.match_weight].to_numpy(dtype=float), coherent, must_link=must,
        cannot_link=cannot, max_check=settings.max_cluster_check, ambiguity_margin=settings.ambiguity_margin,
    )  # fmt: skip
    ids = pd.Series(id_of.to_numpy(dtype=object))
    return pd.DataFrame({ClusterFrame.unique_id: ids, ClusterFrame.cluster_id: ids.groupby(labels).transform("min")})


def _coherence(
    result: SparkLinkResult, settings: MatchSettings, touched: np.ndarray, checked: np.ndarray
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """coherent(left, right) over positions into ``touched``, for pairs inside checked components."""
    from pyspark.sql import functions as F

    n = len(touched)
    known = np.zeros(0, np.int64)
    row_of = np.full(n, -1, dtype=np.int64)
    rows = pd.DataFrame()
    if len(checked):
        spark = result.pairs.sparkSession
        need = spark.createDataFrame(pd.DataFrame({SEQ: touched[checked]}))
        rows = result.standardised.join(need, on=SEQ, how="left_semi").toPandas().sort_values(SEQ, kind="stable")
        rows = rows.reset_index(drop=True)
        row_of[np.searchsorted(touched, rows[SEQ].to_numpy(dtype=np.int64))] = np.arange(len(rows))
        good = (result.pairs.where(F.col(COHERENT)).select(SEQ_L, SEQ_R)
                .join(need.withColumnRenamed(SEQ, SEQ_L), on=SEQ_L, how="left_semi")
                .join(need.withColumnRenamed(SEQ, SEQ_R), on=SEQ_R, how="left_semi").toPandas())  # fmt: skip
        gl = np.searchsorted(touched, good[SEQ_L].to_numpy(dtype=np.int64))
        gr = np.searchsorted(touched, good[SEQ_R].to_numpy(dtype=np.int64))
        known = np.sort(np.minimum(gl, gr) * n + np.maximum(gl, gr))
    state: dict[str, CompareContext] = {}

    def coherent(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        keys = lo * n + hi
        pos = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
        out = (known[pos] == keys) if len(known) else np.zeros(len(keys), dtype=bool)
        todo = ~out
        if todo.any():  # not a coherent scored pair: score it as link_people does (usually a non-candidate)
            if "ctx" not in state:
                frame = rows[list(standardised_columns(settings))].copy()
                state["ctx"] = CompareContext(frame, result.model.comparisons, tf_tables=result.model.tf_tables,
                                              deduplicated_sources=settings.deduplicated_sources)  # fmt: skip
                prime_context(state["ctx"], rows)
            a, b = row_of[lo[todo]], row_of[hi[todo]]
            if (a < 0).any() or (b < 0).any():
                raise SparkMatchingError("clustering asked about a pair outside the checked components")
            out[todo] = classify(result.model, compare_pairs(state["ctx"], a, b), settings).coherent
        return out

    return coherent


def clusters_for_all(result: SparkLinkResult, clustered: pd.DataFrame) -> DataFrame:
    """Every record's ``unique_id, cluster_id`` on Spark: clustered records as given, the rest alone."""
    from pyspark.sql import functions as F

    spark = result.standardised.sparkSession
    linked = spark.createDataFrame(clustered.rename(columns={ClusterFrame.cluster_id: "_cluster"}),
                                   schema=f"`{ClusterFrame.unique_id}` string, `_cluster` string")  # fmt: skip
    ids = result.standardised.select(P.unique_id)
    return ids.join(F.broadcast(linked) if len(clustered) < 1_000_000 else linked, on=P.unique_id, how="left").select(
        P.unique_id, F.coalesce(F.col("_cluster"), F.col(P.unique_id)).alias(ClusterFrame.cluster_id)
    )
