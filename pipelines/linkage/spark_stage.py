"""The Spark linkage option as plain functions: score a full rebuild on Spark, store it in the hub.

The hub store stays the system of record: the linkage stage (``hub.linking.link_people_stage``) reads the records
from it, Spark scores them (the extract, the scored pairs and the clusters are kept in ``spark.work_dir``), and the
stage writes the auto and review pairs, review tasks and golden persons back, exactly as after a local run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from matching import Constraints, FellegiSunterModel, MatchResult, MatchSettings
from schemas.columns import Band, PairFrame
from schemas.config import HubConfig, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXTRACT, PAIRS, CLUSTERS = "person_extract.parquet", "scored_pairs.parquet", "clusters.parquet"


def spark_settings(config: HubConfig) -> SparkConfig:
    """hub.yaml's ``spark:`` section (defaults when absent: local[2])."""
    return config.spark or SparkConfig()


def work_dir(config: HubConfig) -> str:
    """Where extracts and outputs go: a URI as given, a plain path relative to hub.yaml's folder."""
    where = spark_settings(config).work_dir
    if "://" in where or where.startswith("dbfs:"):
        return where.rstrip("/")
    return str((Path(config.base_dir) / where).resolve())


def _write_extract(inputs: pd.DataFrame, config: HubConfig) -> tuple[str, int]:
    """The stage's person records as parquet in ``work_dir``, in the hub's order (``_seq``)."""
    frame = inputs.astype("string")
    frame.insert(0, "_seq", np.arange(len(frame), dtype=np.int64))
    path = f"{work_dir(config)}/{EXTRACT}"
    if "://" not in path and not path.startswith("dbfs:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)  # fsspec URLs (s3://, abfs://) work when their filesystem is installed
    return path, len(frame)


def spark_linker(spark: SparkSession, config: HubConfig) -> Callable[..., MatchResult]:
    """``link_people`` on Spark, for ``hub.linking.link_people_stage(..., full=True, linker=...)``.

    The stage's records go to ``work_dir`` as parquet; Spark scores them block by block with the local engine's
    functions and the driver clusters the auto pairs; the auto and review pairs and every record's cluster come
    back to the stage, which stores them (pairs, review tasks, golden persons) in the hub.
    """
    from pyspark.sql import functions as F

    from matching.spark import (SparkMatchingError, cluster_scored_pairs, clusters_for_all, fit_model_on_sample,
                                link_people_spark)
    from matching.spark.buckets import COHERENT, SEQ_L, SEQ_R

    options, base = spark_settings(config), work_dir(config)

    def link(records: pd.DataFrame, *, settings: MatchSettings, constraints: Constraints,
             model: FellegiSunterModel | None = None, new_ids: Any = None, labelled_pairs: Any = None,
             existing_clusters: Any = None) -> MatchResult:
        if new_ids is not None or existing_clusters is not None:
            raise SparkMatchingError("the Spark path scores full rebuilds only; incremental runs stay local")
        path, _ = _write_extract(records, config)
        extract = spark.read.parquet(path)
        model = model or fit_model_on_sample(extract, settings=settings, sample_records=options.sample_records)
        result = link_people_spark(extract, model, settings=settings, constraints=constraints,
                                   rows_per_bucket=options.rows_per_bucket)  # fmt: skip
        result.pairs.write.mode("overwrite").parquet(f"{base}/{PAIRS}")
        result.pairs = spark.read.parquet(f"{base}/{PAIRS}")  # score once; clustering reads what was written
        clusters = clusters_for_all(result, cluster_scored_pairs(result, settings=settings, constraints=constraints))
        clusters.write.mode("overwrite").parquet(f"{base}/{CLUSTERS}")
        kept = result.pairs.where(F.col(PairFrame.band) != Band.NONE).drop(SEQ_L, SEQ_R, COHERENT).toPandas()
        out = MatchResult(kept, spark.read.parquet(f"{base}/{CLUSTERS}").toPandas(), result.blocking_report,
                          result.model)  # fmt: skip
        result.standardised.unpersist()
        return out

    return link


def main(argv: list[str] | None = None) -> int:
    """``spark-submit pipelines/linkage/spark_stage.py hub.yaml``: a full rebuild scored on Spark, without Dagster."""
    import argparse

    from hub.linking import link_people_stage
    from hub.store import open_hub
    from matching.spark import spark_session
    from schemas.config import load_config

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", help="path to hub.yaml")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    engine = open_hub(config.hub)
    try:
        linker = spark_linker(spark_session(spark_settings(config)), config)
        summary = link_people_stage(engine, config, run_id=None, full=True, linker=linker)
    finally:
        engine.dispose()
    print(f"spark linkage: {summary.records} records, {summary.pairs_scored} pairs kept ({summary.auto_pairs} auto, "
          f"{summary.review_pairs} review), golden persons: {summary.golden.created} new, {summary.golden.updated} updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
