"""Delivery of pending change events (and golden IDs) to each subscriber's publish targets."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from dagster import AssetExecutionContext, MaterializeResult, asset

from hub.delivery import deliver_pending
from hub.writeback import publish_xref
from pipelines.resources import HubResource


@asset(group_name="publish", deps=["golden_persons", "golden_properties"],
       description="Change events and golden IDs delivered to subscribed systems (at least once, idempotent).")
def deliveries(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
    hub.run_id(context.run.run_id)
    writeback = publish_xref(hub.engine, hub.config, full=hub.full_rebuild)
    summary = deliver_pending(hub.engine, hub.config)
    hub.refresh_statistics(context)
    for name, problem in writeback.failed.items():
        context.log.warning(f"write-back to {name} failed: {problem}")
    for name, state in summary.subscribers.items():
        if state not in ("ok", "no targets"):
            context.log.warning(f"deliveries to {name}: {state}")
    return MaterializeResult(metadata={
        "delivered": summary.delivered, "failed": summary.failed,
        "waiting": sum(summary.waiting.values()),
        "subscribers": ", ".join(f"{k}: {v}" for k, v in sorted(summary.subscribers.items())),
        "writeback_rows_written": sum(writeback.counts.values()), "writeback_rows_removed": sum(writeback.removed.values()),
        "writeback_failed_sources": len(writeback.failed),
        "writeback_mode": ", ".join(f"{k}: {v}" for k, v in sorted(writeback.mode.items())),
    })
