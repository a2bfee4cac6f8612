"""Delivery of pending change events (and golden IDs) to each subscriber's publish targets."""

from __future__ import annotations

from dagster import AssetExecutionContext, MaterializeResult, asset

from hub.delivery import deliver_pending, publish_xref
from pipelines.resources import HubResource


@asset(group_name="publish", deps=["golden_persons"],
       description="Change events and golden IDs delivered to subscribed systems (at least once, idempotent).")
def deliveries(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
    hub.run_id(context.run_id)
    xref_counts = publish_xref(hub.engine, hub.config)
    summary = deliver_pending(hub.engine, hub.config)
    meta = {f"delivered": summary.delivered, "failed": summary.failed, "waiting": summary.pending}
    meta.update({f"writeback_{k}": v for k, v in (xref_counts or {}).items()})
    return MaterializeResult(metadata=meta)
