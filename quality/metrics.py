"""Data-quality metrics per source per run (pure functions over frames) and their history in the hub (``dq_metric``)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hub.survivorship import without_placeholders
from matching.names import clean_name_text, on_uniques
from matching.placeholders import PLACEHOLDER_NAMES
from schemas import DqMetric, Run
from schemas.columns import Band
from schemas.validators import NINO_RE, POSTCODE_RE

from quality.store import AddressCounts, GoldenCounts, SourceExtract

GOLDEN = "golden"  # the ``source`` under which golden-record metrics are kept
# Stored values are canonical: postcodes "AB1 2CD", NI numbers compact upper case, dates ISO.
POSTCODE_SPACED = "^(?:GIR 0AA|" + POSTCODE_RE.pattern[len("^(GIR0AA|"):-len("[0-9][ABD-HJLNP-UW-Z]{2})$")] \
    + " [0-9][ABD-HJLNP-UW-Z]{2})$"
NINO = NINO_RE.pattern
ISO_DATE = r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$"
VALIDITY_PATTERNS = {"postcode": POSTCODE_SPACED, "nino": NINO, "date_of_birth": ISO_DATE, "date_of_death": ISO_DATE}
PLACEHOLDER_FIELDS = ("full_name", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death",
                      "email", "phone", "nino")


@dataclass(frozen=True)
class Metric:
    """One measurement: ``metric`` of ``field`` (or of the whole source when ``field`` is None)."""

    metric: str
    value: float
    field: str | None = None


def completeness(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, float]:
    """Share of rows with a non-empty value, per field.

    Examples:
        >>> completeness(pd.DataFrame({"a": ["x", None, "", "y"]}), ("a",))
        {'a': 0.5}
    """
    if frame.empty:
        return {f: 0.0 for f in fields}
    out = {}
    for f in fields:
        col = frame[f] if f in frame else pd.Series(None, index=frame.index, dtype=object)
        present = col.notna() & (col.astype("string").str.strip() != "")
        out[f] = float(present.fillna(False).mean())
    return out


def validity(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, float]:
    """Share of present values that match the field's canonical pattern (postcode, NI number, dates).

    Examples:
        >>> validity(pd.DataFrame({"postcode": ["SW1A 1AA", "nonsense", None]}), ("postcode",))
        {'postcode': 0.5}
    """
    out = {}
    for f in fields:
        if f not in VALIDITY_PATTERNS or f not in frame:
            continue
        col = frame[f].dropna().astype(str)
        col = col[col.str.strip() != ""]
        out[f] = float(col.str.match(VALIDITY_PATTERNS[f]).mean()) if len(col) else 1.0
    return out


def placeholder_rates(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, float]:
    """Share of present values that only stand in for an unknown one ("UNKNOWN", "THE OCCUPIER", 01/01/1900,
    noemail@...), per field. The matcher and survivorship read them as missing (``matching.placeholders``), so
    they are completeness the source does not really have.

    Examples:
        >>> f = pd.DataFrame({"last_name": ["Lee", "UNKNOWN", None, "Ng"], "date_of_birth": ["1900-01-01", None, None, None]})
        >>> placeholder_rates(f, ("last_name", "date_of_birth", "postcode"))
        {'last_name': 0.3333333333333333, 'date_of_birth': 1.0}
    """
    measured = [f for f in fields if f in PLACEHOLDER_FIELDS and f in frame]
    if frame.empty or not measured:
        return {}
    kept = without_placeholders(frame[[f for f in measured if f != "full_name"]])
    out = {}
    for f in measured:
        present = (frame[f].notna() & (frame[f].astype("string").str.strip() != "")).fillna(False).astype(bool)
        if f == "full_name":
            placeholder = on_uniques(frame[f], clean_name_text).astype("string").isin(PLACEHOLDER_NAMES)
        else:
            placeholder = kept[f].isna()
        n = int(present.sum())
        out[f] = float((placeholder.fillna(False).astype(bool) & present).sum() / n) if n else 0.0
    return out


def source_metrics(extract: SourceExtract) -> list[Metric]:
    """Completeness by field, validity and placeholder rates, key duplicates and the batch's reconciliation figures."""
    frame, out = extract.frame, []
    out.append(Metric("rows_loaded", float(len(frame))))
    out.append(Metric("live_records", float(extract.live_records)))
    if extract.batch is not None:
        b = extract.batch
        out += [Metric("extracted", float(b.extracted)), Metric("quarantined", float(b.quarantined)),
                Metric("quarantine_rate", b.quarantine_rate), Metric("full_extract", float(b.mode == "full"))]
    for f, v in completeness(frame, extract.mapped_fields).items():
        out.append(Metric("completeness", v, f))
    for f, v in validity(frame, extract.mapped_fields).items():
        out.append(Metric("validity", v, f))
    for f, v in placeholder_rates(frame, extract.mapped_fields).items():
        out.append(Metric("placeholder_rate", v, f))
    dupes = int(frame["source_key"].duplicated(keep=False).sum()) if len(frame) else 0
    out.append(Metric("key_duplicates", float(dupes)))
    return out


def address_metrics(addresses: pd.DataFrame) -> list[Metric]:
    """UPRN linkage of a source's live records: matched (auto or held), review, unmatched, not yet resolved."""
    n = len(addresses)
    if not n:
        return [Metric("uprn_match_rate", 0.0)]
    band = addresses["address_band"]
    out = [Metric("uprn_match_rate", float((band == Band.AUTO).mean())),
           Metric("uprn_review_rate", float((band == Band.REVIEW).mean())),
           Metric("uprn_unmatched_rate", float((band == Band.NONE).mean())),
           Metric("uprn_unresolved_rate", float(band.isna().mean()))]
    held = int(addresses["uprn"].notna().sum())
    if held:  # only sources that hold UPRNs of their own
        out.append(Metric("source_uprn_in_gazetteer", float(addresses["held_uprn_in_gazetteer"].notna().sum() / held)))
    return out


def linkage_metrics(c: AddressCounts) -> list[Metric]:
    """:func:`address_metrics` from whole-hub counts (:func:`quality.store.address_counts`): the same values."""
    if not c.rows:
        return [Metric("uprn_match_rate", 0.0)]
    out = [Metric("uprn_match_rate", c.auto / c.rows), Metric("uprn_review_rate", c.review / c.rows),
           Metric("uprn_unmatched_rate", c.none / c.rows), Metric("uprn_unresolved_rate", c.unresolved / c.rows)]
    if c.held:
        out.append(Metric("source_uprn_in_gazetteer", c.held_in_gazetteer / c.held))
    return out


def golden_metrics(persons: pd.DataFrame, xrefs: pd.DataFrame) -> list[Metric]:
    """Golden persons, merged IDs, orphans, broken redirects and links to inactive IDs."""
    active = persons["status"] == "active"
    redirected = persons["redirect_to"].notna()
    return [Metric("active_persons", float(active.sum())),
            Metric("merged_ids", float((persons["status"] == "merged").sum())),
            Metric("xrefs", float(len(xrefs))),
            Metric("active_without_xref", float((active & (persons["xref_count"] == 0)).sum())),
            Metric("xref_to_inactive", float((xrefs["person_status"] != "active").sum())),
            Metric("broken_redirects", float((redirected & (persons["final_status"] != "active")).sum())),
            Metric("records_per_person", float(len(xrefs) / active.sum()) if active.any() else 0.0)]


def golden_counts_metrics(c: GoldenCounts) -> list[Metric]:
    """:func:`golden_metrics` from whole-hub counts (:func:`quality.store.golden_scan`): the same values."""
    return [Metric("active_persons", float(c.active)), Metric("merged_ids", float(c.merged)),
            Metric("xrefs", float(c.xrefs)), Metric("active_without_xref", float(c.active_without_xref)),
            Metric("xref_to_inactive", float(c.xref_to_inactive)), Metric("broken_redirects", float(c.broken_redirects)),
            Metric("records_per_person", c.xrefs / c.active if c.active else 0.0)]


def duplicate_rates(xrefs: pd.DataFrame) -> dict[str, float]:
    """Per source, the share of its live records linked to a person that holds another record of that source.

    Examples:
        >>> x = pd.DataFrame({"source": ["a", "a", "a", "b"], "person_id": [1, 1, 2, 1],
        ...                   "record_deleted": [False] * 4})
        >>> duplicate_rates(x)
        {'a': 0.6666666666666666, 'b': 0.0}
    """
    live = xrefs[~xrefs["record_deleted"].fillna(False).astype(bool) & xrefs["source"].notna()]
    shared = live.duplicated(["source", "person_id"], keep=False)
    return {str(k): float(v) for k, v in shared.groupby(live["source"]).mean().items()}


def record_metrics(engine: Engine, run_id: int, source: str, metrics: list[Metric], *,
                   replace: tuple[str, ...] | None = None) -> None:
    """Write ``metrics`` for ``source`` in ``run_id``; earlier values of the same metrics in that run are replaced."""
    names = set(replace or ()) | {m.metric for m in metrics}
    with Session(engine) as s, s.begin():
        s.execute(delete(DqMetric).where(DqMetric.run_id == run_id, DqMetric.source == source,
                                         DqMetric.metric.in_(sorted(names))))
        s.add_all([DqMetric(run_id=run_id, source=source, metric=m.metric, field=m.field, value=float(m.value))
                   for m in metrics])


def previous_metrics(engine: Engine, source: str, run_id: int, metric: str) -> dict[str | None, float]:
    """``metric`` values of ``source`` from the latest earlier run that measured it (field → value)."""
    with Session(engine) as s:
        prev = s.scalar(select(DqMetric.run_id).where(DqMetric.source == source, DqMetric.metric == metric,
                                                      DqMetric.run_id < run_id)
                        .order_by(DqMetric.run_id.desc()).limit(1))
        if prev is None:
            return {}
        rows = s.execute(select(DqMetric.field, DqMetric.value).where(
            DqMetric.source == source, DqMetric.metric == metric, DqMetric.run_id == prev)).all()
    return {f: v for f, v in rows}


def metric_history(engine: Engine) -> pd.DataFrame:
    """Every recorded metric with its run's start time: run_id, started_at, source, metric, field, value."""
    with Session(engine) as s:
        rows = s.execute(select(DqMetric.run_id, Run.started_at, DqMetric.source, DqMetric.metric, DqMetric.field,
                                DqMetric.value).join(Run, Run.id == DqMetric.run_id, isouter=True)
                         .order_by(DqMetric.run_id, DqMetric.source, DqMetric.metric, DqMetric.field)).all()
    return pd.DataFrame(rows, columns=["run_id", "started_at", "source", "metric", "field", "value"])
