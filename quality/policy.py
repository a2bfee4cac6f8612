"""Tolerances of the data-quality gates: how far a source may drift from its previous run before it is stopped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QualityPolicy:
    """Thresholds used to build the suites. Plain data: a run records which policy produced its findings.

    Attributes:
        completeness_drop: largest fall in a field's completeness (share of rows with a value) allowed
            since the previous run before the extract is stopped (absolute, 0-1).
        row_count_drop: largest fall in the rows of a full extract since the previous full extract.
        min_rows_for_drift: drift is only judged on extracts at least this big (small incremental
            loads are too noisy to compare).
        max_quarantine_rate: share of extracted rows that may be quarantined before the extract is stopped.
        min_validity: share of present postcodes / NI numbers / dates that must be valid (the boundary
            already quarantines invalid values, so anything less means the boundary is broken).
        warn_completeness: completeness below which a mapped field is reported as a warning.
        uprn_match_drop: largest fall in a source's UPRN match rate since the previous run (a broken
            address mapping or a truncated gazetteer shows up here first).
    """

    completeness_drop: float = 0.10
    row_count_drop: float = 0.30
    min_rows_for_drift: int = 50
    max_quarantine_rate: float = 0.20
    min_validity: float = 1.0
    warn_completeness: float = 0.50
    uprn_match_drop: float = 0.10

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


DEFAULT_POLICY = QualityPolicy()
