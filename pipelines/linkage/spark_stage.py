"""The Spark linkage option as plain functions: export the hub's person records, score them on Spark, cluster.

The hub store stays the system of record: the extract is read from it, and the scored pairs and clusters are
written beside it (``spark.work_dir``) in the local engine's shape, ready for the hub to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.linking import MATCH_FIELDS, load_person_records, steward_constraints
from matching import Constraints, FellegiSunterModel, MatchSettings
from schemas import Run
from schemas.columns import Band, PairFrame, PersonRecord
from schemas.config import HubConfig, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXTRACT, PAIRS, CLUSTERS = "person_extract.parquet", "scored_pairs.parquet", "clusters.parquet"


@dataclass
class SparkLinkSummary:
    """What a Spark linkage run did (asset metadata)."""

    records: int = 0
    pairs: int = 0
    auto_pairs: int = 0
    review_pairs: int = 0
    clusters: int = 0
    model: str = ""  # "stored" (the latest run's) or "fitted on a sample"
    blocking: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)


def spark_settings(config: HubConfig) -> SparkConfig:
    """hub.yaml's ``spark:`` section (defaults when absent: local[2])."""
    return config.spark or SparkConfig()


def work_dir(config: HubConfig) -> str:
    """Where extracts and outputs go: a URI as given, a plain path relative to hub.yaml's folder."""
    where = spark_settings(config).work_dir
    if "://" in where or where.startswith("dbfs:"):
        return where.rstrip("/")
    return str((Path(config.base_dir) / where).resolve())


def match_settings(config: HubConfig) -> MatchSettings:
    """The settings the local linkage stage uses for this hub (thresholds, deduplicated sources)."""
    return MatchSettings(auto_threshold=config.thresholds.auto_merge, review_threshold=config.thresholds.review,
                         deduplicated_sources=tuple(s.name for s in config.sources if s.deduplicated))  # fmt: skip


def write_person_extract(engine: Engine, config: HubConfig) -> tuple[str, int]:
    """Every live person record as the matcher's input, in the hub's order (``_seq``), as parquet."""
    with Session(engine) as session:
        records = load_person_records(session)
    frame = records[[PersonRecord.unique_id, "source", PersonRecord.uprn, *MATCH_FIELDS]].astype("string")
    frame.insert(0, "_seq", np.arange(len(frame), dtype=np.int64))
    path = f"{work_dir(config)}/{EXTRACT}"
    if "://" not in path and not path.startswith("dbfs:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)  # fsspec URLs (s3://, abfs://) work when their filesystem is installed
    return path, len(frame)


def latest_model(engine: Engine) -> FellegiSunterModel | None:
    """The model of the latest successful run (the local stage stores one per run), if any."""
    with Session(engine) as session:
        stored: dict[str, Any] | None = session.scalar(
            select(Run.model).where(Run.model.is_not(None), Run.status == "ok").order_by(Run.id.desc()).limit(1))
    return FellegiSunterModel.from_dict(stored) if stored else None


def score_on_spark(spark: SparkSession, engine: Engine, config: HubConfig) -> SparkLinkSummary:
    """Score the extract on Spark, cluster on the driver, write pairs and clusters to the work folder."""
    from pyspark.sql import functions as F

    from matching.spark import cluster_scored_pairs, clusters_for_all, fit_model_on_sample, link_people_spark

    options, settings, base = spark_settings(config), match_settings(config), work_dir(config)
    records = spark.read.parquet(f"{base}/{EXTRACT}")
    model = latest_model(engine)
    summary = SparkLinkSummary(model="stored")
    if model is None:
        model = fit_model_on_sample(records, settings=settings, sample_records=options.sample_records)
        summary.model = "fitted on a sample"
    with Session(engine) as session:
        must, cannot = steward_constraints(session)
    constraints = Constraints(frozenset(must), frozenset(cannot))
    result = link_people_spark(records, model, settings=settings, constraints=constraints,
                               rows_per_bucket=options.rows_per_bucket)  # fmt: skip
    result.pairs.write.mode("overwrite").parquet(f"{base}/{PAIRS}")
    result.pairs = spark.read.parquet(f"{base}/{PAIRS}")  # score once; clustering reads what was written
    clustered = cluster_scored_pairs(result, settings=settings, constraints=constraints)
    clusters = clusters_for_all(result, clustered)
    clusters.write.mode("overwrite").parquet(f"{base}/{CLUSTERS}")
    bands = {r[PairFrame.band]: int(r["count"]) for r in result.pairs.groupBy(PairFrame.band).count().collect()}
    summary.records = result.standardised.count()
    summary.pairs = sum(bands.values())
    summary.auto_pairs, summary.review_pairs = bands.get(Band.AUTO, 0), bands.get(Band.REVIEW, 0)
    summary.clusters = spark.read.parquet(f"{base}/{CLUSTERS}").agg(F.countDistinct("cluster_id")).first()[0]
    report = result.blocking_report
    summary.blocking = {str(r): int(n) for r, n in zip(report["rule"], report["candidate_pairs"])}
    summary.paths = {"pairs": f"{base}/{PAIRS}", "clusters": f"{base}/{CLUSTERS}"}
    result.standardised.unpersist()
    return summary


def main(argv: list[str] | None = None) -> int:
    """``spark-submit pipelines/linkage/spark_stage.py hub.yaml``: the same stage without Dagster (cluster mode)."""
    import argparse

    from hub.store import open_hub
    from matching.spark import spark_session
    from schemas.config import load_config

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", help="path to hub.yaml")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    engine = open_hub(config.hub)
    try:
        write_person_extract(engine, config)
        summary = score_on_spark(spark_session(spark_settings(config)), engine, config)
    finally:
        engine.dispose()
    print(f"spark linkage: {summary.records} records, {summary.pairs} pairs ({summary.auto_pairs} auto, "
          f"{summary.review_pairs} review), {summary.clusters} clusters -> {summary.paths['pairs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
