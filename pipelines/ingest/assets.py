"""One extract asset per source: a failed source is visible on its own and can be retried alone."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    asset,
)

from hub.ingest import ingest_source
from pipelines.resources import HubResource
from schemas.config import HubConfig, SourceConfig


def extract_asset_name(source: SourceConfig) -> str:
    return f"extract_{source.name}"


def build_extract_asset(source: SourceConfig) -> AssetsDefinition:
    """The extract asset for one source; its check reports a failed or unreconciled extract."""

    @asset(name=extract_asset_name(source), group_name="ingest", deps=["gazetteer"],
           description=f"Extract of source '{source.name}' ({source.kind}) loaded into the hub store.",
           check_specs=[AssetCheckSpec("extract_succeeded", asset=extract_asset_name(source), blocking=True,
                                       description="The source was reachable and extracted = loaded + quarantined "
                                                   "(blocking: a failed extract never reaches golden records).")])
    def _extract(context: AssetExecutionContext, hub: HubResource) -> MaterializeResult:
        run_id = hub.run_id(context.run.run_id)
        cfg = hub.config.source(source.name)
        done = {"rows": 0}

        def progress(rows: int) -> None:
            done["rows"] += rows
            context.log.info(f"{source.name}: {done['rows']:,} rows extracted")

        summary = ingest_source(hub.engine, cfg, run_id=run_id, full=hub.full_rebuild, progress=progress)
        hub.refresh_statistics(context)
        if summary.status != "ok":
            context.log.error(f"{source.name}: extract failed: {summary.error}")
        top = sorted(summary.quarantine_reasons.items(), key=lambda kv: -kv[1])[:5]
        check = AssetCheckResult(
            check_name="extract_succeeded", passed=summary.status == "ok" and summary.reconciles,
            severity=AssetCheckSeverity.ERROR,
            metadata={"status": summary.status, "extracted": summary.extracted, "loaded": summary.loaded,
                      "quarantined": summary.quarantined, "error": summary.error or ""})
        return MaterializeResult(check_results=[check], metadata={
            "status": summary.status, "mode": summary.mode, "extracted": summary.extracted,
            "loaded": summary.loaded, "quarantined": summary.quarantined, "inserted": summary.inserted,
            "updated": summary.updated, "unchanged": summary.unchanged, "deleted": summary.deleted,
            "reconciles": summary.reconciles, "error": summary.error or "",
            "top_quarantine_reasons": "; ".join(f"{r} ({n})" for r, n in top),
        })

    return _extract


def build_extract_assets(config: HubConfig) -> list[AssetsDefinition]:
    return [build_extract_asset(source) for source in config.sources]
