"""The data-quality gates of a run: measure, validate with the suites, record metric history. Called by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from quality.metrics import (GOLDEN, Metric, golden_counts_metrics, linkage_metrics, previous_metrics, record_metrics,
                             source_metrics)
from quality.policy import DEFAULT_POLICY, QualityPolicy
from quality.store import (ADDRESS_COLUMNS, AddressCounts, address_counts, address_focus, golden_scan,
                           run_started, source_extract)
from quality.suites import (HUB_SHARES, address_suite, batch_frame, batch_suite, extract_suite, golden_person_suite,
                            golden_xref_suite, hub_address_suite, year_columns)

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


def _address_frame(focus: pd.DataFrame, counts: AddressCounts) -> pd.DataFrame:
    """The selected records plus the whole-hub row carrying the shares of :func:`hub_address_suite`."""
    hub = {"auto_share": counts.auto / counts.banded if counts.banded else None,
           "banded_share": counts.banded / counts.rows if counts.rows else None}
    rows = focus.assign(**{k: None for k in hub}).astype({k: "float64" for k in hub})
    return pd.concat([rows, pd.DataFrame([hub])], ignore_index=True)


def _whole_hub_counts(outcome: SuiteOutcome, counts: AddressCounts) -> None:
    """Report counts and shares of the whole hub, as validating every record would have (GE saw a selection)."""
    outcome.rows = counts.rows
    for r in outcome.results:
        if r.column in HUB_SHARES:
            r.failing_keys = []  # the whole-hub row has no record key
        if r.column == "auto_share":
            r.unexpected_count, denominator = counts.banded - counts.auto, counts.banded
        elif r.column == "banded_share":
            r.unexpected_count, denominator = counts.unresolved, counts.rows
        else:
            denominator = {"address_band": counts.banded, "address_score": counts.scored}.get(r.column, counts.auto)
        if r.unexpected_count is not None:
            r.unexpected_percent = 100 * r.unexpected_count / denominator if denominator else None


def check_addresses(engine: Engine, config: HubConfig, run_id: int, *,
                    policy: QualityPolicy = DEFAULT_POLICY) -> GateResult:
    """Validate every source's resolved addresses (auto-band UPRNs exist in the gazetteer); record linkage rates.

    Great Expectations validates each source's records changed in this run and every live record in the hub
    that breaks a row-level expectation (found with SQL); rates come from whole-hub SQL counts.
    """
    result = GateResult()
    runner = SuiteRunner(docs_dir(config), run_id)
    counts = address_counts(engine)
    focus = address_focus(engine, run_started(engine, run_id))
    for source in config.sources:
        c = counts.get(source.name, AddressCounts())
        frame = focus.get(source.name, pd.DataFrame(columns=ADDRESS_COLUMNS))
        previous = previous_metrics(engine, source.name, run_id, "uprn_match_rate").get(None)
        suite = address_suite(source.name, rows=c.rows, previous_match_rate=previous, policy=policy)
        outcome = runner.validate(hub_address_suite(suite), _address_frame(frame, c), key_column="source_key")
        _whole_hub_counts(outcome, c)
    for source, outcome in zip(config.sources, runner.finish()):
        linkage = linkage_metrics(counts.get(source.name, AddressCounts()))
        record_metrics(engine, run_id, source.name, linkage + _suite_metrics([outcome]))
        result.outcomes.append(outcome)
        result.metrics.update({f"{source.name}.{k}": v for k, v in _flat(linkage[:1]).items()})
    return result


def _percent_of_hub(outcome: SuiteOutcome, rows: int, measured: list[int]) -> None:
    """Counts as over the whole hub: GE validated a selection holding every breaking row, so its unexpected counts
    already are whole-hub counts; rows and percentages are of the whole hub (``measured``: per expectation, the
    rows it is measured over)."""
    outcome.rows = rows
    for r, denominator in zip(outcome.results, measured, strict=True):
        if r.unexpected_count is not None:
            r.unexpected_percent = 100 * r.unexpected_count / denominator if denominator else None


def check_golden(engine: Engine, config: HubConfig, run_id: int) -> GateResult:
    """Validate golden persons and the cross-reference; record golden metrics and per-source duplicate rates.

    Great Expectations validates the persons and cross-references changed in this run plus every one in the hub
    that breaks an expectation (found in SQL, redirect chains over the redirect graph); counts cover the whole hub.
    """
    person_suite, xref_suite = golden_person_suite(), golden_xref_suite()
    scan = golden_scan(engine, run_started(engine, run_id), person_suite.expectations, xref_suite.expectations)
    runner = SuiteRunner(docs_dir(config), run_id)
    _percent_of_hub(runner.validate(person_suite, scan.persons, key_column="person_id"), scan.person_rows,
                    scan.person_measured)
    _percent_of_hub(runner.validate(xref_suite, scan.xrefs, key_column="source_record_id"), scan.counts.xrefs,
                    scan.xref_measured)
    outcomes = runner.finish()
    metrics = golden_counts_metrics(scan.counts)
    record_metrics(engine, run_id, GOLDEN, metrics + _suite_metrics(outcomes))
    dupes = {source: shared / live for source, (shared, live) in scan.shared_live.items()}
    for source, rate in dupes.items():
        record_metrics(engine, run_id, source, [Metric("duplicate_rate", rate)])
    result = GateResult(outcomes, _flat(metrics))
    result.metrics.update({f"{s}.duplicate_rate": v for s, v in dupes.items()})
    return result
