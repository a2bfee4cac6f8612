"""Address resolution and person linkage assets."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from collections.abc import Sequence

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hub.addressing import resolve_addresses
from hub.linking import LinkSummary, link_people_stage
from hub.matchers import stored_gazetteer_matcher
from pipelines.resources import HubResource
from schemas import ReviewTask


def open_review_tasks(engine: Engine) -> int:
    """The stewards' queue: review tasks still open after this run."""
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "open")) or 0


def build_linkage_assets(extract_asset_names: Sequence[str]) -> list[AssetsDefinition]:
    """``resolved_addresses`` waits for every extract; ``golden_persons`` for the addresses."""

    @asset(group_name="linkage", deps=list(extract_asset_names),
           description="Every new or changed source address matched to a UPRN, with score, band and reason.")
    def resolved_addresses(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        hub.run_id(context.run.run_id)
        done = {"n": 0}

        def progress(n: int) -> None:
            done["n"] += n
            context.log.info(f"addresses: {done['n']:,} matched")

        summary = resolve_addresses(hub.engine, hub.config, stored_gazetteer_matcher(hub.engine, hub.config),
                                    full=hub.full_rebuild, progress=progress)
        hub.refresh_statistics(context)
        return MaterializeResult(metadata={
            "considered": summary.considered, "auto": summary.auto, "review": summary.review,
            "unmatched": summary.none, "uprn_held_by_source": summary.held_uprn,
            "uprn_match_rate": round(summary.match_rate, 4),
        })

    @asset(group_name="linkage", deps=[resolved_addresses],
           description="Person records linked and merged into golden persons with persistent IDs and lineage.")
    def golden_persons(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        run_id = hub.run_id(context.run.run_id)
        summary = link_people_stage(hub.engine, hub.config, run_id=run_id, full=hub.full_rebuild)
        hub.refresh_statistics(context)
        return MaterializeResult(metadata=linkage_metadata(summary, hub))

    return [resolved_addresses, golden_persons]


def linkage_metadata(summary: LinkSummary, hub: HubResource) -> dict:
    """What the linkage stage did, as asset metadata (the Spark option reports the same)."""
    g = summary.golden
    return {
        "records": summary.records, "changed_records": summary.changed, "deleted_records": summary.deleted,
        "records_standardised": summary.standardised,  # the rest came from the standardised-records cache
        "pairs_scored": summary.pairs_scored, "auto_pairs": summary.auto_pairs, "review_pairs": summary.review_pairs,
        "review_tasks_opened": summary.review_tasks_opened, "golden_created": g.created, "golden_updated": g.updated,
        "golden_merged": g.merged, "golden_split": g.split, "events_written": g.events,
        "review_queue": open_review_tasks(hub.engine),
        "blocking_pairs": ", ".join(f"{k}={v}" for k, v in summary.blocking.items()),
    }
