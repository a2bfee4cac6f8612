"""Person linkage on Spark, an option beside the local stage: a full rebuild scored on Spark, stored in the hub."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import AssetExecutionContext, AssetsDefinition, AssetSelection, MaterializeResult, asset, define_asset_job
from dagster_pyspark import PySparkResource

from hub.linking import link_people_stage
from pipelines.jobs import SPARK_GROUP
from pipelines.linkage.assets import linkage_metadata
from pipelines.linkage.spark_stage import spark_linker, spark_settings
from pipelines.resources import HubResource
from schemas.config import HubConfig

SPARK_JOB = "linkage_spark"

# Extract and resolve addresses as every night, then a full rebuild of the golden persons scored on Spark.
spark_linkage_job = define_asset_job(
    SPARK_JOB, selection=AssetSelection.groups(SPARK_GROUP).upstream(),
    description="Full person linkage rebuild scored on Spark (hub.yaml `spark:`), stored in the hub like a local run.",
)  # fmt: skip


def spark_resource(config: HubConfig) -> PySparkResource:
    """Dagster's PySpark resource with hub.yaml's master, app name, deploy mode and conf."""
    from matching.spark import spark_conf

    return PySparkResource(spark_config=spark_conf(spark_settings(config)))


def build_spark_linkage_assets() -> list[AssetsDefinition]:
    """``golden_persons_spark``: the linkage stage with Spark scoring, after address resolution."""

    @asset(group_name=SPARK_GROUP, deps=["resolved_addresses"],
           description="Every live person record scored on Spark (the local engine's functions, block by block), "
                       "clustered, and stored in the hub: pairs, review tasks, golden persons, events.")
    def golden_persons_spark(
        context: AssetExecutionContext, hub: HubResource, pyspark: PySparkResource
    ) -> MaterializeResult:
        linker = spark_linker(pyspark.spark_session, hub.config)
        summary = link_people_stage(hub.engine, hub.config, run_id=hub.run_id(context.run.run_id), full=True,
                                    linker=linker)  # fmt: skip
        return MaterializeResult(metadata=linkage_metadata(summary, hub))

    return [golden_persons_spark]
