"""The gazetteer asset: (re)load the LLPG / AddressBase file into the hub when it changed."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from dagster import AssetExecutionContext, MaterializeResult, asset

from hub.reference import load_gazetteer_if_changed
from pipelines.resources import HubResource


@asset(group_name="reference", description="Corporate address gazetteer (LLPG / AddressBase) in the hub store.")
def gazetteer(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
    hub.run_id(context.run.run_id)
    outcome = load_gazetteer_if_changed(hub.engine, hub.config.gazetteer.path, force=hub.full_rebuild,
                                        progress=lambda step: context.log.info(f"gazetteer: writing {step}"))
    hub.refresh_statistics(context)
    return MaterializeResult(metadata=outcome.metadata())
