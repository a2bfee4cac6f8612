"""Data quality for the hub: Great Expectations suites, metric history per source per run, the analysts' report.

A plain library (no Dagster). Great Expectations is imported lazily, on the first suite run.

Examples:
    >>> from quality import check_extract, render_report  # doctest: +SKIP
    >>> result = check_extract(engine, config, config.source("council_tax"), run_id)  # doctest: +SKIP
    >>> result.blocking, result.describe()  # doctest: +SKIP
"""

from __future__ import annotations


class QualityError(Exception):
    """A data-quality step could not run (not a failed expectation: those are findings)."""


from quality.gates import GateResult, check_addresses, check_extract, check_golden, docs_dir, report_dir  # noqa: E402
from quality.policy import DEFAULT_POLICY, QualityPolicy  # noqa: E402
from quality.report import ReportSummary, render_report, write_run_report  # noqa: E402
from quality.suites import SUITES_VERSION  # noqa: E402

__all__ = [
    "DEFAULT_POLICY", "SUITES_VERSION", "GateResult", "QualityError", "QualityPolicy", "ReportSummary",
    "check_addresses", "check_extract", "check_golden", "docs_dir", "render_report", "report_dir", "write_run_report",
]
