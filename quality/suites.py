"""The Great Expectations suites, in code and versioned: per source extract, per source's addresses, golden records.

Suites are plain data here (:class:`Expect` rows); :mod:`quality.validate` turns them into GE objects, so
building and testing a suite never imports Great Expectations. ``critical`` expectations guard later stages
(a failure stops the run before golden records or publishing); ``warning`` ones are reported only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quality.metrics import ISO_DATE, NINO, POSTCODE_SPACED
from quality.policy import DEFAULT_POLICY, QualityPolicy
from quality.store import BatchStats

SUITES_VERSION = "2026.11.1"  # bump when any suite below changes; stored in each suite's meta
CRITICAL, WARNING = "critical", "warning"
EARLIEST_BIRTH_YEAR = 1880
MAX_UPRN = 999_999_999_999  # UPRNs are positive integers of up to 12 digits
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
BANDS = ("auto", "review", "none")
STATUSES = ("active", "merged", "retired", "erased")


@dataclass(frozen=True)
class Expect:
    """One expectation: the GE class name (``ExpectColumnValuesToNotBeNull``), its arguments, severity and why.

    ``kwargs["when"] = (column, value)`` restricts the expectation to rows where ``column == value``.
    """

    kind: str
    kwargs: dict[str, Any]
    severity: str = CRITICAL
    why: str = ""

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")


@dataclass(frozen=True)
class Suite:
    """A named, versioned list of expectations over one frame."""

    name: str
    expectations: list[Expect]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return SUITES_VERSION


def year_columns(frame: pd.DataFrame, fields: tuple[str, ...] = ("date_of_birth", "date_of_death")) -> pd.DataFrame:
    """Add ``<field>_year`` (numeric) for ISO date fields, so ranges are checked without datetime parsing."""
    out = frame.copy()
    for f in fields:
        if f in out:
            out[f"{f}_year"] = pd.to_numeric(out[f].astype("string").str[:4], errors="coerce")
    return out


# Fields that are empty for most records by nature (most people are alive): no minimum completeness warning.
SPARSE_BY_NATURE = frozenset({"date_of_death"})


def sampled_floor(share: float, rows: int, z: float = 2.33) -> float:
    """The lowest share a batch of ``rows`` may show before it is evidence that the true share is below ``share``:
    ``share`` less ``z`` binomial standard errors (one-sided 99 %). A handful of rows says little about a
    completeness rate, so a nightly load of 17 rows with 5 emails is no warning against a 50 % floor.

    Examples:
        >>> sampled_floor(0.5, 17), sampled_floor(0.5, 10_000), sampled_floor(0.5, 1)
        (0.2174, 0.4884, 0.0)
    """
    if rows <= 0:
        return 0.0
    return round(max(0.0, share - z * math.sqrt(share * (1 - share) / rows)), 4)


def extract_suite(source: str, fields: tuple[str, ...], *, rows: int, previous_completeness: dict[str | None, float],
                  previous_rows: float | None, full_extract: bool, policy: QualityPolicy = DEFAULT_POLICY,
                  today: dt.date | None = None) -> Suite:
    """Expectations over the rows of ``source`` loaded in a run (the frame of :func:`quality.store.source_extract`)."""
    year = (today or dt.date.today()).year
    exps = [
        Expect("ExpectColumnValuesToNotBeNull", {"column": "source_key"}, why="every record has its source key"),
        Expect("ExpectColumnValuesToBeUnique", {"column": "source_key"}, why="source keys are unique within a source"),
    ]
    validity = policy.min_validity
    if "postcode" in fields:
        exps.append(Expect("ExpectColumnValuesToMatchRegex", {"column": "postcode", "regex": POSTCODE_SPACED, "mostly": validity},
                           why="postcodes are valid UK postcodes in canonical form"))
    if "nino" in fields:
        exps.append(Expect("ExpectColumnValuesToMatchRegex", {"column": "nino", "regex": NINO, "mostly": validity},
                           why="NI numbers follow HMRC's rules"))
    for f in ("date_of_birth", "date_of_death"):
        if f in fields:
            exps.append(Expect("ExpectColumnValuesToMatchRegex", {"column": f, "regex": ISO_DATE, "mostly": validity},
                               why=f"{f} is an ISO date"))
            exps.append(Expect("ExpectColumnValuesToBeBetween", {"column": f"{f}_year", "min_value": EARLIEST_BIRTH_YEAR,
                                                                 "max_value": year, "mostly": validity},
                               why=f"{f} is neither before {EARLIEST_BIRTH_YEAR} nor in the future"))
    if {"date_of_birth", "date_of_death"} <= set(fields):
        exps.append(Expect("ExpectColumnPairValuesAToBeGreaterThanB",
                           {"column_A": "date_of_death", "column_B": "date_of_birth", "or_equal": True,
                            "ignore_row_if": "either_value_is_missing"}, why="nobody dies before they are born"))
    if "uprn" in fields:
        exps.append(Expect("ExpectColumnValuesToBeBetween", {"column": "uprn", "min_value": 1, "max_value": MAX_UPRN},
                           why="UPRNs held by the source are positive integers of up to 12 digits"))
    if "email" in fields:
        exps.append(Expect("ExpectColumnValuesToMatchRegex", {"column": "email", "regex": EMAIL, "mostly": 0.95},
                           severity=WARNING, why="email addresses look like addresses"))
    judged = rows >= policy.min_rows_for_drift
    for f in fields:
        prev = previous_completeness.get(f)
        floor = None if prev is None else prev - policy.completeness_drop
        if judged and floor is not None and floor > 0:
            exps.append(Expect("ExpectColumnValuesToNotBeNull", {"column": f, "mostly": round(floor, 4)},
                               why=f"completeness has not fallen more than {policy.completeness_drop:.0%} "
                                   f"since the previous run ({prev:.1%})"))
        elif f not in SPARSE_BY_NATURE:
            exps.append(Expect("ExpectColumnValuesToNotBeNull",
                               {"column": f, "mostly": sampled_floor(policy.warn_completeness, rows)}, severity=WARNING,
                               why=f"the field is at least {policy.warn_completeness:.0%} complete (allowing for "
                                   f"sampling in a batch of {rows:,} rows)"))
    if full_extract and previous_rows and judged:
        exps.append(Expect("ExpectTableRowCountToBeBetween",
                           {"min_value": math.floor(previous_rows * (1 - policy.row_count_drop)), "max_value": None},
                           why=f"a full extract has not shrunk more than {policy.row_count_drop:.0%} "
                               f"since the previous one ({int(previous_rows):,} rows)"))
    return Suite(f"extract.{source}", exps, {"source": source, "stage": "extract", "policy": policy.as_dict()})


def batch_frame(batch: BatchStats | None) -> pd.DataFrame:
    """The extract batch as a one-row frame for :func:`batch_suite` (an extract that never ran reads as failed)."""
    b = batch or BatchStats(status="missing", mode="", extracted=0, loaded=0, quarantined=0)
    return pd.DataFrame([{"status": b.status, "mode": b.mode, "extracted": b.extracted, "loaded": b.loaded,
                          "quarantined": b.quarantined, "quarantine_rate": b.quarantine_rate,
                          "reconciles": b.extracted == b.loaded + b.quarantined}])


def batch_suite(source: str, policy: QualityPolicy = DEFAULT_POLICY, *, extracted: int = 0) -> Suite:
    """Expectations over the extract batch: it ran, it reconciles and few rows were quarantined.

    The quarantine rate stops the run only for batches of at least ``policy.min_rows_for_drift`` rows:
    one bad row in a drop of three is a finding, not a broken extract.
    """
    judged = extracted >= policy.min_rows_for_drift
    return Suite(f"batch.{source}", [
        Expect("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["ok"]},
               why="the source was reachable and the extract completed"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "reconciles", "value_set": [True]},
               why="extracted rows = loaded + quarantined"),
        Expect("ExpectColumnValuesToBeBetween", {"column": "quarantine_rate", "min_value": 0,
                                                 "max_value": policy.max_quarantine_rate},
               severity=CRITICAL if judged else WARNING, why=f"no more than {policy.max_quarantine_rate:.0%} of extracted rows quarantined"),
    ], {"source": source, "stage": "extract", "policy": policy.as_dict()})


def address_suite(source: str, *, rows: int = 0, previous_match_rate: float | None = None,
                  policy: QualityPolicy = DEFAULT_POLICY) -> Suite:
    """Expectations over a source's resolved addresses (the frame of :func:`quality.store.address_frame`)."""
    auto = {"when": ("address_band", "auto")}
    drift = []
    floor = None if previous_match_rate is None else previous_match_rate - policy.uprn_match_drop
    if floor is not None and floor > 0 and rows >= policy.min_rows_for_drift:
        drift.append(Expect("ExpectColumnValuesToBeInSet", {"column": "address_band", "value_set": ["auto"],
                                                            "mostly": round(floor, 4)},
                            why=f"the UPRN match rate has not fallen more than {policy.uprn_match_drop:.0%} since "
                                f"the previous run ({previous_match_rate:.1%})"))
    return Suite(f"addresses.{source}", [*drift,
        Expect("ExpectColumnValuesToBeInSet", {"column": "address_band", "value_set": list(BANDS)},
               why="every band is auto, review or none"),
        Expect("ExpectColumnValuesToBeBetween", {"column": "address_score", "min_value": 0, "max_value": 1},
               why="match scores are probabilities"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "matched_uprn", **auto},
               why="an auto-band match names a UPRN"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "gazetteer_uprn", **auto},
               why="every auto-band UPRN exists in the gazetteer"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "address_band", "mostly": 0.99}, severity=WARNING,
               why="records are resolved against the gazetteer"),
    ], {"source": source, "stage": "addresses", "policy": policy.as_dict()})


HUB_SHARES = {"auto_share": ("ExpectColumnValuesToBeInSet", "address_band"),
              "banded_share": ("ExpectColumnValuesToNotBeNull", "address_band")}


def hub_address_suite(suite: Suite) -> Suite:
    """``suite`` (of :func:`address_suite`) for a frame of selected records plus one whole-hub row.

    The gate validates the records changed in the run and every record breaking a row-level expectation, not
    every record; a ``mostly`` expectation is a whole-hub rate, so it reads the rate off the extra row instead:
    ``address_band`` in {auto} mostly *m* becomes ``auto_share`` (auto / banded records) at least *m*, and
    ``address_band`` not null mostly *m* becomes ``banded_share`` (banded / all records) at least *m*: the same
    ratio Great Expectations compares with ``mostly``. Record columns of the whole-hub row are empty, so the
    row-level expectations ignore it; its share columns are empty on record rows.
    """
    out = []
    for e in suite.expectations:
        mostly = e.kwargs.get("mostly")
        share = next((name for name, (kind, column) in HUB_SHARES.items()
                      if mostly is not None and (e.kind, e.column) == (kind, column)), None)
        if share is None:
            out.append(e)
        else:
            out.append(Expect("ExpectColumnValuesToBeBetween", {"column": share, "min_value": mostly, "max_value": None},
                              severity=e.severity, why=e.why))
    return Suite(suite.name, out, {**suite.meta, "scope": "changed records, failing records and whole-hub rates"})


def golden_person_suite() -> Suite:
    """Expectations over golden persons (the first frame of :func:`quality.store.golden_frames`)."""
    active = {"when": ("status", "active")}
    merged = {"when": ("status", "merged")}
    return Suite("golden.persons", [
        Expect("ExpectColumnValuesToBeUnique", {"column": "person_id"}, why="golden IDs are unique"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(STATUSES)},
               why="every status is known"),
        Expect("ExpectColumnValuesToBeBetween", {"column": "xref_count", "min_value": 1, **active},
               why="every active golden person has at least one source record"),
        Expect("ExpectColumnValuesToBeNull", {"column": "redirect_to", **active},
               why="an active person does not redirect"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "redirect_to", **merged},
               why="a merged ID redirects to its survivor"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "final_status", "value_set": ["active"], **merged},
               why="redirect chains end at an active person (no cycles, no dead ends)"),
        Expect("ExpectColumnValuesToMatchRegex", {"column": "nino", "regex": NINO}, why="golden NI numbers are valid"),
        Expect("ExpectColumnValuesToMatchRegex", {"column": "date_of_birth", "regex": ISO_DATE},
               why="golden dates of birth are ISO dates"),
        Expect("ExpectColumnValuesToMatchRegex", {"column": "postcode", "regex": POSTCODE_SPACED}, severity=WARNING,
               why="golden postcodes are valid"),
    ], {"stage": "golden"})


def golden_xref_suite() -> Suite:
    """Expectations over the cross-reference (the second frame of :func:`quality.store.golden_frames`)."""
    return Suite("golden.xref", [
        Expect("ExpectColumnValuesToBeUnique", {"column": "source_record_id"},
               why="a source record belongs to one golden person"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "person_status"},
               why="every cross-reference points at an existing golden person"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "person_status", "value_set": ["active"]},
               why="no cross-reference points at a merged or retired ID"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "source"}, why="every cross-reference has its source record"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "record_kind", "value_set": ["person"]},
               why="only person records link to golden persons"),
    ], {"stage": "golden"})
