"""Sensors: a run when new CSV drops arrive, and a retry when outbound deliveries are due."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import datetime as dt
import hashlib
from pathlib import Path

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from connectors.pull import has_new_drops, pending_drops
from pipelines.ingest.assets import extract_asset_name
from pipelines.jobs import DELIVERY_RETRY_JOB, NIGHTLY_JOB, delivery_retry_job, nightly_job
from pipelines.resources import HubResource
from schemas import EventDelivery
from schemas.config import HubConfig, SourceConfig

DOWNSTREAM_OF_EXTRACTS = ("resolved_addresses", "golden_persons", "deliveries", "run_summary", "dq_report")
DROP_INTERVAL_S = 60
RETRY_INTERVAL_S = 300
MAX_ATTEMPTS = 8  # hub.delivery.deliver_pending's default: deliveries past it wait for a replay
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def drop_fingerprint(files: list[Path]) -> str:
    """Names, sizes and modification times of the waiting drops: the same drops never start two runs."""
    digest = hashlib.sha256()
    for path in sorted(files):
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def _waiting(source: SourceConfig) -> list[Path]:
    if not has_new_drops(source):  # cheap: stops at the first drop, never reads a file
        return []
    return [p for p in pending_drops(source) if p.exists()]


def due_deliveries(engine: Engine, now: dt.datetime | None = None, *, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Event deliveries pending, or failed and due for their retry."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(EventDelivery).where(and_(
            EventDelivery.status.in_(("pending", "failed")), EventDelivery.attempts < max_attempts,
            or_(EventDelivery.next_attempt_at.is_(None), EventDelivery.next_attempt_at <= now)))) or 0


def _busy(context: SensorEvaluationContext, job_name: str) -> bool:
    return bool(context.instance.get_run_records(RunsFilter(job_name=job_name, statuses=ACTIVE), limit=1))


def build_sensors(config: HubConfig) -> list[SensorDefinition]:
    """The CSV-drop sensor and the delivery-retry sensor (both stopped until switched on in the UI)."""
    file_sources = [s.name for s in config.sources if s.is_file]

    @sensor(name="csv_drop_sensor", job=nightly_job, minimum_interval_seconds=DROP_INTERVAL_S,
            default_status=DefaultSensorStatus.STOPPED,
            description="Runs the extracts of sources with new CSV/Excel drops, and every stage after them.")
    def csv_drop_sensor(context: SensorEvaluationContext, hub: HubResource):  # noqa: ANN202 - RunRequest | SkipReason
        if not file_sources:
            return SkipReason("no source reads CSV or Excel drops")
        waiting = {name: _waiting(hub.config.source(name)) for name in file_sources}
        waiting = {name: files for name, files in waiting.items() if files}
        if not waiting:
            return SkipReason("no new drops")
        if _busy(context, NIGHTLY_JOB):
            return SkipReason(f"new drops for {', '.join(sorted(waiting))}; waiting for the running sync to finish")
        keys = [AssetKey(extract_asset_name(hub.config.source(n))) for n in sorted(waiting)]
        keys += [AssetKey(k) for k in DOWNSTREAM_OF_EXTRACTS]
        files = [f for fs in waiting.values() for f in fs]
        return RunRequest(run_key=f"drops-{drop_fingerprint(files)}", asset_selection=keys,
                          tags={"mdh/trigger": "csv_drop", "mdh/sources": ",".join(sorted(waiting))})

    @sensor(name="delivery_retry_sensor", job=delivery_retry_job, minimum_interval_seconds=RETRY_INTERVAL_S,
            default_status=DefaultSensorStatus.STOPPED,
            description="Retries outbound deliveries that are pending or due after a backoff.")
    def delivery_retry_sensor(context: SensorEvaluationContext, hub: HubResource):  # noqa: ANN202
        due = due_deliveries(hub.engine)
        if not due:
            return SkipReason("no deliveries due")
        if _busy(context, NIGHTLY_JOB) or _busy(context, DELIVERY_RETRY_JOB):
            return SkipReason(f"{due} deliveries due; a run that delivers is already in progress")
        return RunRequest(tags={"mdh/trigger": "delivery_retry", "mdh/due": str(due)})

    return [csv_drop_sensor, delivery_retry_sensor]
