"""Person linkage on Spark, an option beside the local stage: extract -> scored pairs and clusters (Dagster)."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import AssetExecutionContext, AssetsDefinition, AssetSelection, MaterializeResult, asset, define_asset_job
from dagster_pyspark import PySparkResource

from pipelines.jobs import SPARK_GROUP
from pipelines.linkage.spark_stage import score_on_spark, spark_settings, write_person_extract
from pipelines.resources import HubResource
from schemas.config import HubConfig

SPARK_JOB = "linkage_spark"

# Extract, resolve addresses, then score on Spark: the local golden_persons stage is not part of this job.
spark_linkage_job = define_asset_job(
    SPARK_JOB, selection=AssetSelection.groups(SPARK_GROUP).upstream(),
    description="Person linkage on Spark (hub.yaml `spark:`): scored pairs and clusters written to spark.work_dir.",
)  # fmt: skip


def spark_resource(config: HubConfig) -> PySparkResource:
    """Dagster's PySpark resource with hub.yaml's master, app name, deploy mode and conf."""
    from matching.spark import spark_conf

    return PySparkResource(spark_config=spark_conf(spark_settings(config)))


def build_spark_linkage_assets() -> list[AssetsDefinition]:
    """``person_extract`` after address resolution; ``spark_scored_pairs`` from it."""

    @asset(group_name=SPARK_GROUP, deps=["resolved_addresses"],
           description="Every live person record from the hub store as a parquet extract (record order kept).")
    def person_extract(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        path, records = write_person_extract(hub.engine, hub.config)
        return MaterializeResult(metadata={"records": records, "path": path})

    @asset(group_name=SPARK_GROUP, deps=[person_extract],
           description="Candidate pairs scored on Spark (the local engine's functions, block by block), clustered.")
    def spark_scored_pairs(
        context: AssetExecutionContext, hub: HubResource, pyspark: PySparkResource
    ) -> MaterializeResult:
        s = score_on_spark(pyspark.spark_session, hub.engine, hub.config)
        return MaterializeResult(metadata={
            "records": s.records, "pairs": s.pairs, "auto_pairs": s.auto_pairs, "review_pairs": s.review_pairs,
            "clusters": s.clusters, "model": s.model, **{f"path_{k}": v for k, v in s.paths.items()},
            "blocking_pairs": ", ".join(f"{k}={v}" for k, v in s.blocking.items()),
        })  # fmt: skip

    return [person_extract, spark_scored_pairs]
