"""The run summary asset: closes the hub's run log with the figures analysts and the CLI read."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import AssetExecutionContext, MaterializeResult, asset

from hub.summary import finish_run
from pipelines.resources import HubResource


@asset(group_name="quality", deps=["deliveries"], description="Run log closed with the run's summary figures.")
def run_summary(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
    figs = finish_run(hub.engine, hub.run_id(context.run.run_id))
    return MaterializeResult(metadata={
        "golden_persons": figs.golden_persons, "review_queue": figs.review_queue, "events": figs.events,
        "uprn_match_rate": round(figs.uprn_match_rate, 4), "properties": figs.properties,
    })
