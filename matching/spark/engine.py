"""Person linkage on Spark: standardise -> Index -> Compare -> Classify, block by block, then cluster locally."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matching.blocking import REPORT_COLUMNS, UNION_RULE
from matching.linker import link_people
from matching.model import FellegiSunterModel
from matching.settings import Constraints, MatchSettings
from matching.spark.buckets import BUCKET, RULE, SEQ, ScoringPlan, key_column, score_bucket, with_block_keys
from matching.spark.errors import SparkMatchingError
from matching.spark.features import with_namesake
from matching.standardise import standardise_people
from schemas.columns import PersonRecord as P

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

COUNT = "block_size"


@dataclass
class SparkLinkResult:
    """Scored pairs (a lazy Spark frame), the standardised records, the model applied and the block report."""

    pairs: DataFrame  # the local engine's pair columns + _seq_l, _seq_r, coherent (for clustering)
    standardised: DataFrame  # standardised records + _seq, one blocking-key column per rule, _namesake
    model: FellegiSunterModel  # tf_tables over every record
    blocking_report: pd.DataFrame  # per rule, from block sizes (pairs before the cross-rule union)
    block_sizes: pd.DataFrame  # rule, block_size, blocks: the whole block-size distribution


def standardised_columns(settings: MatchSettings) -> tuple[str, ...]:
    """Columns ``standardise_people`` produces (asked of the function itself, so they never drift)."""
    probe = pd.DataFrame({P.unique_id: ["probe:1"], **{c: [None] for c in settings.extra_id_columns}})
    return tuple(standardise_people(probe, extra_columns=settings.extra_id_columns).columns)


def standardise_on_spark(records: DataFrame, settings: MatchSettings) -> DataFrame:
    """Standardise every record with ``standardise_people`` per Arrow batch and add the blocking keys.

    ``_seq`` (record order, which orients pairs) is kept when the extract has it, else taken from the read order.
    """
    from pyspark.sql import functions as F

    if P.unique_id not in records.columns:
        raise SparkMatchingError(f"the person extract has no '{P.unique_id}' column")
    if SEQ not in records.columns:
        records = records.withColumn(SEQ, F.monotonically_increasing_id())
    raw = [c for c in records.columns if c != SEQ]
    records = records.select(F.col(SEQ).cast("bigint"), *[F.col(c).cast("string") for c in raw])
    columns = standardised_columns(settings)
    keys = [key_column(j) for j in range(len(settings.blocking_rules))]
    schema = ", ".join(f"`{c}` {'bigint' if c == SEQ else 'string'}" for c in (SEQ, *columns, *keys))

    def batches(frames):  # noqa: ANN001, ANN202 - iterator of pandas frames, as mapInPandas passes them
        for frame in frames:
            std = standardise_people(frame.drop(columns=[SEQ]), extra_columns=settings.extra_id_columns)
            std.insert(0, SEQ, frame[SEQ].to_numpy(dtype=np.int64))
            yield with_block_keys(std, settings)[[SEQ, *columns, *keys]]

    return records.mapInPandas(batches, schema)


def term_frequencies(standardised: DataFrame, model: FellegiSunterModel) -> dict[str, dict[str, float]]:
    """Share of records holding each value, for term-frequency adjusted comparisons, over every record."""
    from pyspark.sql import functions as F

    names = [comp.name for comp in model.comparisons if comp.tf]
    if not names:
        return {}
    parts = [standardised.select(F.lit(name).alias("_column"), F.col(name).alias("_value")) for name in names]
    values = functools.reduce(lambda a, b: a.unionByName(b), parts).where(F.col("_value").isNotNull())
    counts = values.groupBy("_column", "_value").count().toPandas()
    out = {}
    for name in names:
        mine = counts[counts["_column"] == name]
        series = pd.Series(mine["count"].to_numpy(dtype=np.int64), index=mine["_value"].to_numpy(dtype=object))
        out[name] = (series / max(int(series.sum()), 1)).to_dict()
    return out


def block_size_distribution(standardised: DataFrame, settings: MatchSettings) -> tuple[pd.DataFrame, dict]:
    """How many blocks of each size every rule makes, and each rule's capped (too large) keys."""
    from pyspark.sql import functions as F

    parts = [standardised.select(F.lit(j).alias(RULE), F.col(key_column(j)).alias("_key"))
             for j in range(len(settings.blocking_rules))]  # fmt: skip
    keyed = functools.reduce(lambda a, b: a.unionByName(b), parts).where(F.col("_key").isNotNull())
    blocks = keyed.groupBy(RULE, "_key").agg(F.count(F.lit(1)).alias(COUNT)).persist()
    try:
        sizes = blocks.groupBy(RULE, COUNT).agg(F.count(F.lit(1)).alias("blocks")).toPandas()
        capped_rows = blocks.where(F.col(COUNT) > settings.max_block_size).select(RULE, "_key").collect()
    finally:
        blocks.unpersist()
    capped: dict[int, list[str]] = {}
    for row in capped_rows:
        capped.setdefault(int(row[RULE]), []).append(row["_key"])
    names = {j: rule.name for j, rule in enumerate(settings.blocking_rules)}
    sizes.insert(0, "rule", sizes[RULE].map(names))
    sizes = sizes.drop(columns=[RULE]).sort_values(["rule", COUNT]).reset_index(drop=True)
    return sizes, capped


def blocking_report(sizes: pd.DataFrame, settings: MatchSettings) -> pd.DataFrame:
    """The local engine's report columns per rule, from block sizes (within-rule pairs; cross-source
    filtering under ``link_only`` is not subtracted). The union row sums the rules (an upper bound)."""
    rows = []
    for rule in settings.blocking_rules:
        s = sizes[sizes["rule"] == rule.name]
        size, blocks = s[COUNT].to_numpy(dtype=np.int64), s["blocks"].to_numpy(dtype=np.int64)
        capped = size > settings.max_block_size
        kept = ~capped & (size > 1)
        rows.append({"rule": rule.name, "keys": "+".join(rule.keys),
                     "candidate_pairs": int((blocks[kept] * size[kept] * (size[kept] - 1) // 2).sum()),
                     "blocks": int(blocks[size > 1].sum()), "largest_block": int(size.max()) if len(size) else 0,
                     "capped_blocks": int(blocks[capped].sum()),
                     "records_in_capped_blocks": int((blocks[capped] * size[capped]).sum())})  # fmt: skip
    union = {"rule": UNION_RULE, "keys": "", **{c: sum(r[c] for r in rows) for c in REPORT_COLUMNS[2:]}}
    union["largest_block"] = max((r["largest_block"] for r in rows), default=0)
    return pd.DataFrame([*rows, union], columns=list(REPORT_COLUMNS))


def link_people_spark(
    records: DataFrame,
    model: FellegiSunterModel,
    *,
    settings: MatchSettings = MatchSettings(),  # noqa: B008 - frozen dataclass
    constraints: Constraints = Constraints(),  # noqa: B008
    rows_per_bucket: int = 50_000,
) -> SparkLinkResult:
    """Score every candidate pair of ``records`` on Spark with a model fitted beforehand (see ``fit_model_on_sample``).

    Same pairs, weights, bands and rules as ``link_people(records, model=model)``: each blocking rule's records
    are shuffled by blocking key into buckets of whole blocks, and every bucket runs the local engine's
    ``block_rule``, ``compare_pairs`` and ``classify``. Nothing is computed until ``pairs`` is written or read.

    Args:
        records: the person extract (``unique_id``, ``source`` + canonical fields; ``_seq`` optional).
        model: fitted parameters; its term frequencies are recomputed over these records.
        settings: the same settings the local engine would get (blocking rules, thresholds, ...).
        constraints: steward must-link / cannot-link pairs of ``unique_id``.
        rows_per_bucket: target records per scoring task after blocking (bounds executor memory).
    """
    from pyspark.sql import functions as F

    spark = records.sparkSession
    parallelism = spark.sparkContext.defaultParallelism
    # households are small: as many buckets as the shuffle has partitions (the cluster's usual sizing knob)
    households = max(parallelism, int(spark.conf.get("spark.sql.shuffle.partitions", "200")))
    std = with_namesake(standardise_on_spark(records, settings), settings, households).persist()
    model = replace(model, tf_tables=term_frequencies(std, model), m=dict(model.m), u=dict(model.u))
    sizes, capped = block_size_distribution(std, settings)
    effective = std
    for j, keys in capped.items():  # a capped block is skipped by its rule, and claims no pair for it
        col = F.col(key_column(j))
        effective = effective.withColumn(key_column(j), F.when(col.isin(keys), F.lit(None)).otherwise(col))
    rows = int((sizes[COUNT] * sizes["blocks"]).sum())
    buckets = max(parallelism, math.ceil(rows / rows_per_bucket))
    parts = [effective.where(F.col(key_column(j)).isNotNull())
             .withColumn(RULE, F.lit(j))
             .withColumn(BUCKET, F.pmod(F.xxhash64(F.lit(j), F.col(key_column(j))), F.lit(buckets)))
             for j in range(len(settings.blocking_rules))]  # fmt: skip
    exploded = functools.reduce(lambda a, b: a.unionByName(b), parts)
    columns = standardised_columns(settings)
    plan = ScoringPlan(settings=settings, model=model, columns=columns, constraints=constraints)
    pairs = exploded.groupBy(BUCKET).applyInPandas(functools.partial(score_bucket, plan=plan), plan.spark_schema())
    return SparkLinkResult(pairs, std, model, blocking_report(sizes, settings), sizes)


def fit_model_on_sample(
    records: DataFrame,
    *,
    settings: MatchSettings = MatchSettings(),  # noqa: B008
    sample_records: int = 200_000,
    seed: int = 42,
) -> FellegiSunterModel:
    """Fit the model once, locally, on a uniform sample of the extract (the local engine's own EM fit).

    A uniform sample keeps the ratio of candidate pairs to all pairs, so the prior carries over; matches
    within the sample are rarer, so EM sees fewer of them: keep the sample in the hundreds of thousands.
    """
    total = records.count()
    fraction = min(1.0, sample_records / max(total, 1))
    sample = records if fraction >= 1.0 else records.sample(fraction=fraction, seed=seed)
    frame = sample.drop(SEQ).toPandas() if SEQ in sample.columns else sample.toPandas()
    if len(frame) < 2:
        raise SparkMatchingError(f"the person extract sample has {len(frame)} records; at least 2 are needed")
    return link_people(frame.astype(object).where(frame.notna(), None), settings=settings).model
