"""Great Expectations gates as Dagster asset checks: blocking where they protect later stages."""

# No `from __future__ import annotations`: Dagster 1.13 rejects a string-annotated `context` parameter.

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    asset_check,
)

from pipelines.ingest.assets import extract_asset_name
from pipelines.resources import HubResource
from quality.gates import GateResult, check_addresses, check_extract, check_golden
from schemas.config import HubConfig, SourceConfig


def gate_check_result(result: GateResult) -> AssetCheckResult:
    """A failed critical expectation is an ERROR (blocking); failed warnings only are a WARN."""
    return AssetCheckResult(passed=result.passed,
                            severity=AssetCheckSeverity.ERROR if result.blocking else AssetCheckSeverity.WARN,
                            metadata=result.metadata(), description=result.describe()[:1000])


def build_extract_check(source: SourceConfig) -> AssetChecksDefinition:
    """The extract suite of one source: batch reconciles, keys unique, values valid, no drift since last run."""

    @asset_check(asset=extract_asset_name(source), name="extract_suite", blocking=True,
                 description=f"Great Expectations suites extract.{source.name} and batch.{source.name}: "
                             "a failure stops address matching, linkage and publishing.")
    def _extract_suite(context: AssetCheckExecutionContext, hub: HubResource) -> AssetCheckResult:
        result = check_extract(hub.engine, hub.config, hub.config.source(source.name), hub.run_id(context.run.run_id))
        return gate_check_result(result)

    return _extract_suite


@asset_check(asset="resolved_addresses", name="addresses_suite", blocking=True,
             description="Every auto-band match names a UPRN that exists in the gazetteer; linkage rates per source.")
def addresses_suite(context: AssetCheckExecutionContext, hub: HubResource) -> AssetCheckResult:
    return gate_check_result(check_addresses(hub.engine, hub.config, hub.run_id(context.run.run_id)))


@asset_check(asset="golden_persons", name="golden_suite", blocking=True,
             description="Active persons have cross-references, none point at merged IDs, redirect chains end "
                         "at active persons: a failure stops publishing.")
def golden_suite(context: AssetCheckExecutionContext, hub: HubResource) -> AssetCheckResult:
    return gate_check_result(check_golden(hub.engine, hub.config, hub.run_id(context.run.run_id)))


def build_quality_checks(config: HubConfig) -> list[AssetChecksDefinition]:
    """Every data-quality check of a hub configuration."""
    return [*(build_extract_check(s) for s in config.sources), addresses_suite, golden_suite]
