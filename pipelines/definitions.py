"""Assembles the hub's Dagster definitions from hub.yaml (path in MDH_CONFIG, default ./hub.yaml)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster
from dagster import Definitions

from pipelines.ingest.assets import build_extract_assets, extract_asset_name
from pipelines.jobs import build_schedules, delivery_retry_job, nightly_job
from pipelines.linkage.assets import build_linkage_assets
from pipelines.linkage.property_assets import build_property_assets
from pipelines.publish.assets import deliveries
from pipelines.quality.assets import run_summary
from pipelines.quality.checks import build_quality_checks
from pipelines.quality.report import dq_report
from pipelines.reference.assets import gazetteer
from pipelines.resources import HubResource
from pipelines.sensors import build_sensors
from schemas.config import DEFAULT_CONFIG_FILE, HubConfig, load_config

CONFIG_ENV = "MDH_CONFIG"


def build_definitions(config: HubConfig, config_path: str | Path, *, full_rebuild: bool = False) -> Definitions:
    """Every asset, check, job, schedule and sensor for one hub configuration."""
    extracts = build_extract_assets(config)
    linkage = build_linkage_assets([extract_asset_name(s) for s in config.sources])
    assets = [gazetteer, *extracts, *linkage, *build_property_assets(), deliveries, run_summary, dq_report]
    jobs = [nightly_job, delivery_retry_job]
    resources = {"hub": HubResource(config_path=str(config_path), full_rebuild=full_rebuild)}
    if config.spark is not None:  # the Spark linkage option: needs the `spark` extra (pyspark, dagster-pyspark)
        from pipelines.linkage.spark_assets import build_spark_linkage_assets, spark_linkage_job, spark_resource

        assets += build_spark_linkage_assets()
        jobs.append(spark_linkage_job)
        resources["pyspark"] = spark_resource(config)
    return Definitions(
        assets=assets,
        asset_checks=build_quality_checks(config),
        jobs=jobs,
        schedules=build_schedules(config),
        sensors=build_sensors(config),
        resources=resources,
    )


@dagster.definitions
def defs() -> Definitions:
    """Loaded lazily by `dagster dev` / `dagster definitions validate`, so importing this module needs no hub.yaml."""
    path = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
    return build_definitions(load_config(path), path.resolve())
