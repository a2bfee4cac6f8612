"""Jobs and schedules: the nightly sync of every stage, and the retry of outbound deliveries."""

from __future__ import annotations

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from pipelines.quality.report import report_on_failure
from schemas.config import HubConfig

NIGHTLY_JOB = "nightly_sync"
DELIVERY_RETRY_JOB = "delivery_retry"

SPARK_GROUP = "linkage_spark"  # the optional Spark linkage assets (hub.yaml `spark:`) run in their own job

nightly_job = define_asset_job(NIGHTLY_JOB, selection=AssetSelection.all() - AssetSelection.groups(SPARK_GROUP),
                               hooks={report_on_failure},
                               description="Extract every source, resolve addresses, link people, publish, check quality.")

delivery_retry_job = define_asset_job(DELIVERY_RETRY_JOB, selection=AssetSelection.assets("deliveries"),
                                      description="Deliver change events still pending or due for retry (backoff).")


def build_schedules(config: HubConfig | None) -> list[ScheduleDefinition]:
    cron = config.schedule.nightly if config else "0 2 * * *"
    tz = config.schedule.timezone if config else "Europe/London"
    return [ScheduleDefinition(name="nightly_sync_schedule", job=nightly_job, cron_schedule=cron,
                               execution_timezone=tz, default_status=DefaultScheduleStatus.STOPPED)]
