"""The data-quality gates of a run: measure, validate with the suites, record metric history. Called by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from quality.metrics import (GOLDEN, Metric, address_metrics, duplicate_rates, golden_metrics, previous_metrics,
                             record_metrics, source_metrics)
from quality.policy import DEFAULT_POLICY, QualityPolicy
from quality.store import address_frame, golden_frames, source_extract
from quality.suites import (address_suite, batch_frame, batch_suite, extract_suite, golden_person_suite,
                            golden_xref_suite, year_columns)

from quality.validate import SuiteOutcome, SuiteRunner
from schemas.config import HubConfig, SourceConfig

REPORT_SUBDIR = Path("reports") / "dq"
DOCS_SUBDIR = "data_docs"


def report_dir(config: HubConfig) -> Path:
    """Where a hub's data-quality report is written on every run: ``<config folder>/reports/dq``."""
    return Path(config.base_dir) / REPORT_SUBDIR


def docs_dir(config: HubConfig) -> Path:
    """The Great Expectations Data Docs site of a hub."""
    return report_dir(config) / DOCS_SUBDIR


@dataclass
class GateResult:
    """Outcomes of the suites of one gate and the metrics it recorded."""

    outcomes: list[SuiteOutcome] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def blocking(self) -> bool:
        """True when a critical expectation failed: later stages must not run."""
        return any(o.critical_failures for o in self.outcomes)

    def describe(self) -> str:
        failed = [f"{o.suite}:\n{o.describe_failures()}" for o in self.outcomes if not o.success]
        return "\n".join(failed) or "all expectations met"

    def metadata(self) -> dict[str, Any]:
        """Counts for the orchestrator's UI: expectations evaluated and failed, per suite, plus the metrics."""
        meta: dict[str, Any] = {
            "expectations": sum(len(o.results) for o in self.outcomes),
            "critical_failed": sum(len(o.critical_failures) for o in self.outcomes),
            "warnings": sum(len(o.warnings) for o in self.outcomes),
            "failures": self.describe(),
        }
        for o in self.outcomes:
            meta[f"{o.suite} rows"] = o.rows
            if o.docs_page:
                meta[f"{o.suite} data docs"] = o.docs_page
        meta.update({k: round(v, 4) for k, v in self.metrics.items()})
        return meta


def _suite_metrics(outcomes: list[SuiteOutcome]) -> list[Metric]:
    out = []
    for o in outcomes:
        out += [Metric("suite_success", float(o.success), o.suite),
                Metric("critical_failed", float(len(o.critical_failures)), o.suite),
                Metric("warnings", float(len(o.warnings)), o.suite)]
    return out


def _flat(metrics: list[Metric]) -> dict[str, float]:
    return {f"{m.metric}.{m.field}" if m.field else m.metric: m.value for m in metrics}


def check_extract(engine: Engine, config: HubConfig, source: SourceConfig, run_id: int, *,
                  policy: QualityPolicy = DEFAULT_POLICY) -> GateResult:
    """Validate the rows of ``source`` loaded in ``run_id`` and its batch; record the source's metrics."""
    extract = source_extract(engine, source, run_id)
    metrics = source_metrics(extract)
    prev_rows = previous_metrics(engine, source.name, run_id, "live_records").get(None)
    prev_full = previous_metrics(engine, source.name, run_id, "full_extract").get(None)
    full = extract.batch is not None and extract.batch.mode == "full"
    suite = extract_suite(source.name, extract.mapped_fields, rows=len(extract.frame),
                          previous_completeness=previous_metrics(engine, source.name, run_id, "completeness"),
                          previous_rows=prev_rows if prev_full else None, full_extract=full, policy=policy)
    runner = SuiteRunner(docs_dir(config), run_id)
    extracted = extract.batch.extracted if extract.batch else 0
    runner.validate(batch_suite(source.name, policy, extracted=extracted), batch_frame(extract.batch))
    runner.validate(suite, year_columns(extract.frame), key_column="source_key")
    outcomes = runner.finish()
    metrics += _suite_metrics(outcomes)
    record_metrics(engine, run_id, source.name, metrics)
    return GateResult(outcomes, _flat([m for m in metrics if m.metric not in ("suite_success", "critical_failed", "warnings")]))


def check_addresses(engine: Engine, config: HubConfig, run_id: int, *,
                    policy: QualityPolicy = DEFAULT_POLICY) -> GateResult:
    """Validate every source's resolved addresses (auto-band UPRNs exist in the gazetteer); record linkage rates."""
    result = GateResult()
    runner = SuiteRunner(docs_dir(config), run_id)
    linkage: dict[str, list[Metric]] = {}
    for source in config.sources:
        frame = address_frame(engine, source.name)
        previous = previous_metrics(engine, source.name, run_id, "uprn_match_rate").get(None)
        suite = address_suite(source.name, rows=len(frame), previous_match_rate=previous, policy=policy)
        runner.validate(suite, frame, key_column="source_key")
        linkage[source.name] = address_metrics(frame)
    for source, outcome in zip(config.sources, runner.finish()):
        record_metrics(engine, run_id, source.name, linkage[source.name] + _suite_metrics([outcome]))
        result.outcomes.append(outcome)
        result.metrics.update({f"{source.name}.{k}": v for k, v in _flat(linkage[source.name][:1]).items()})
    return result


def check_golden(engine: Engine, config: HubConfig, run_id: int) -> GateResult:
    """Validate golden persons and the cross-reference; record golden metrics and per-source duplicate rates."""
    persons, xrefs = golden_frames(engine)
    runner = SuiteRunner(docs_dir(config), run_id)
    runner.validate(golden_person_suite(), persons, key_column="person_id")
    runner.validate(golden_xref_suite(), xrefs, key_column="source_record_id")
    outcomes = runner.finish()
    metrics = golden_metrics(persons, xrefs)
    record_metrics(engine, run_id, GOLDEN, metrics + _suite_metrics(outcomes))
    dupes = duplicate_rates(xrefs)
    for source, rate in dupes.items():
        record_metrics(engine, run_id, source, [Metric("duplicate_rate", rate)])
    result = GateResult(outcomes, _flat(metrics))
    result.metrics.update({f"{s}.duplicate_rate": v for s, v in dupes.items()})
    return result
