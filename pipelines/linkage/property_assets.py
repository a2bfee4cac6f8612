"""Golden property and property cross-check assets: UPRN xref, survivorship, custodian queue, linkage figures, findings."""

# No ``from __future__ import annotations`` here: Dagster 1.13 checks the ``context`` annotation at definition
# time and rejects it as a string ("Cannot annotate `context` parameter with type AssetExecutionContext").

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset
from sqlalchemy.orm import Session

from hub.gazetteer_changes import propagate_gazetteer_changes
from hub.matchers import stored_gazetteer_matcher
from hub.property import LINKAGE_METRICS, link_properties
from hub.property_checks import run_property_checks, source_roles
from pipelines.resources import HubResource


def _linkage_table(figures: dict[str, dict[str, float]]) -> str:
    """Per-source linkage figures as a markdown table (GeoPlace-style measures)."""
    head = "| source | records | " + " | ".join(m.replace("_rate", "") for m in LINKAGE_METRICS) + " |"
    rule = "|" + "---|" * (len(LINKAGE_METRICS) + 2)
    rows = [f"| {src} | {int(v['records']):,} | " + " | ".join(f"{v[m]:.1%}" for m in LINKAGE_METRICS) + " |"
            for src, v in sorted(figures.items())]
    return "\n".join([head, rule, *rows])


def build_property_assets() -> list[AssetsDefinition]:
    """``golden_properties`` after address resolution; ``property_findings`` after golden persons and properties."""

    @asset(group_name="linkage", deps=["resolved_addresses", "gazetteer"],
           description="Property records cross-referenced to UPRNs, golden property attributes with lineage, the address "
                       "custodian's queue, linkage figures per source, and events for UPRNs the gazetteer retired.")
    def golden_properties(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        run_id = hub.run_id(context.run.run_id)
        summary = link_properties(hub.engine, hub.config, run_id=run_id,
                                  matcher_factory=stored_gazetteer_matcher(hub.engine, hub.config), full=hub.full_rebuild)
        with Session(hub.engine) as session, session.begin():
            changes = propagate_gazetteer_changes(session, run_id=run_id, force=hub.full_rebuild)
        hub.refresh_statistics(context)
        meta: dict[str, object] = {
            "property_records": summary.records, "linked_records": summary.linked,
            "golden_properties": summary.golden_properties, "xref_changed": summary.xref_changed,
            "attributes_changed": summary.attributes_changed, "uprns_chosen": summary.uprns_chosen,
            "custodian_queue_open": summary.queue.open,
            "custodian_tasks_opened": summary.queue.opened, "custodian_tasks_superseded": summary.queue.superseded,
            "uprns_retired": changes.retired, "uprns_deleted": changes.deleted, "uprn_retired_events": changes.events,
            "linkage": MetadataValue.md(_linkage_table(summary.linkage)),
        }
        for src, figures in summary.linkage.items():
            meta[f"{src}_uprn_linked_rate"] = figures["uprn_linked_rate"]
        return MaterializeResult(metadata=meta)

    @asset(group_name="quality", deps=[golden_properties, "golden_persons"],
           description="Cross-checks of departmental records against the gazetteer and each other, as DQ findings.")
    def property_findings(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        run_id = hub.run_id(context.run.run_id)
        with Session(hub.engine) as session, session.begin():
            counts = run_property_checks(session, source_roles(hub.config), run_id=run_id)
        return MaterializeResult(metadata={f"open_{check}": n for check, n in counts.items()})

    return [golden_properties, property_findings]
