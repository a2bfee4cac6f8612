"""The analysts' data-quality report, written after every run (and by a hook when a run fails)."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import AssetExecutionContext, HookContext, MaterializeResult, MetadataValue, asset, failure_hook

from pipelines.resources import HubResource
from quality.report import write_run_report


@asset(group_name="quality", deps=["run_summary", "golden_persons"],
       description="Static HTML data-quality report (trends, scorecard, worst fields, quarantine reasons) "
                   "next to hub.yaml in reports/dq/, linked to the Great Expectations Data Docs.")
def dq_report(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
    hub.run_id(context.run.run_id)
    summary = write_run_report(hub.engine, hub.config)
    context.log.info(f"data-quality report: {summary.path}")
    return MaterializeResult(metadata={"path": MetadataValue.path(str(summary.path)), "runs": summary.runs,
                                       "sources": summary.sources, "charts": summary.charts})


@failure_hook(required_resource_keys={"hub"})
def report_on_failure(context: HookContext) -> None:
    """A stopped run is the one analysts most need to see: write the report with its findings."""
    hub: HubResource = context.resources.hub
    try:
        summary = write_run_report(hub.engine, hub.config)
    except Exception as err:  # noqa: BLE001 - reporting must never mask the run's own failure
        context.log.warning(f"data-quality report not written: {err.__class__.__name__}: {err}")
        return
    context.log.info(f"data-quality report (failed run): {summary.path}")
