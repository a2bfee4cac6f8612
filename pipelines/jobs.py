"""Jobs and schedules: the nightly sync of every stage."""

from __future__ import annotations

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from schemas.config import HubConfig

nightly_job = define_asset_job("nightly_sync", selection=AssetSelection.all(),
                               description="Extract every source, resolve addresses, link people, publish, check quality.")


def build_schedules(config: HubConfig | None) -> list[ScheduleDefinition]:
    cron = config.schedule.nightly if config else "0 2 * * *"
    tz = config.schedule.timezone if config else "Europe/London"
    return [ScheduleDefinition(name="nightly_sync_schedule", job=nightly_job, cron_schedule=cron,
                               execution_timezone=tz, default_status=DefaultScheduleStatus.STOPPED)]
