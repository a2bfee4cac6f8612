"""Property cross-checks: departmental records that contradict the gazetteer or each other, as DQ findings listing the records.

Which sources hold council tax accounts, the valuation list or housing tenancies is declared per source in
``hub.yaml`` (``role:``), never inferred from source names. The checks are pure functions over frames;
:func:`run_property_checks` loads the frames, runs every check and keeps the findings' lifecycle (a finding
stays open while the problem persists, and closes when a later run no longer sees it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select
from sqlalchemy.orm import Session

from schemas import DqMetric, GoldenPerson, Property, Residence, SourceRecord, SourceSystem, Xref
from schemas.base import utcnow
from schemas.columns import Band
from schemas.config import HubConfig
from schemas.property import DqFinding

ROLES = ("council_tax", "council_tax_valuation", "business_rates", "housing_tenancy", "housing_stock",
         "electoral_register", "benefits", "other")
DEMOLISHED_ROLES = ("council_tax", "council_tax_valuation")  # liability or banding at a property that is gone
ACCOUNT_ROLES = ("council_tax",)  # one live account per dwelling is expected
TENANCY_ROLES = ("housing_tenancy", "housing_stock")
END_DATE_ATTRIBUTE = "end_date"  # a record whose mapped end_date has passed is not live
STATUS_ATTRIBUTE = "status"  # ... nor one whose mapped status says it has ended
ENDED_STATUSES = frozenset({"closed", "ended", "inactive", "terminated", "cancelled", "canceled", "deleted", "former"})
GONE_BLPU_STATE = 4  # BS7666: no longer exists
HISTORICAL = 8

DEMOLISHED = "account_at_demolished_property"
DUPLICATE = "two_live_council_tax_accounts"
COMMERCIAL_RESIDENT = "resident_at_commercial_property"
NON_RESIDENTIAL_TENANCY = "tenancy_at_non_residential_property"
CHECKS = (DEMOLISHED, DUPLICATE, COMMERCIAL_RESIDENT, NON_RESIDENTIAL_TENANCY)
RECORD_COLUMNS = ("source", "source_key", "record_id", "person_id")  # what a finding lists of each record, if known


@dataclass
class Finding:
    """One problem found, about one subject (usually a UPRN), with the records that show it."""

    check: str
    key: str
    uprn: int | None
    records: list[dict[str, Any]]
    detail: dict[str, Any] = field(default_factory=dict)


def source_roles(config: HubConfig) -> dict[str, str]:
    """Source name → role, from each source's ``role`` in hub.yaml (sources without one take part in no role check)."""
    return {s.name: s.role for s in config.sources if getattr(s, "role", None)}


def _as_records(cols: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    """Rows of ``cols`` as a finding's record list, ordered by source and source key."""
    return [{k: (None if pd.isna(v) else int(v) if k in ("record_id", "person_id") else v) for k, v in zip(cols, row)}
            for row in sorted(rows, key=lambda r: (r[0], r[1]))]


def _record_list(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The records of one finding as plain data, ordered by source and source key."""
    cols = [c for c in RECORD_COLUMNS if c in frame]
    return _as_records(cols, list(zip(*(frame[c].tolist() for c in cols))))


def _record_lists(frame: pd.DataFrame, by: list[str]) -> dict[tuple, list[dict[str, Any]]]:
    """:func:`_record_list` of every group of ``frame`` by the ``by`` columns, in one pass (groups in key order)."""
    cols = [c for c in RECORD_COLUMNS if c in frame]
    groups: dict[tuple, list[tuple]] = {}
    for key, row in zip(zip(*(frame[c].tolist() for c in by)), zip(*(frame[c].tolist() for c in cols))):
        groups.setdefault(key, []).append(row)
    return {key: _as_records(cols, groups[key]) for key in sorted(groups)}


def _with_property(recs: pd.DataFrame, props: pd.DataFrame) -> pd.DataFrame:
    return recs.merge(props, on="uprn", how="inner")


def demolished_accounts(recs: pd.DataFrame, props: pd.DataFrame) -> list[Finding]:
    """Live council tax records (accounts or valuation list entries) at a UPRN the gazetteer marks demolished or historical.

    Args:
        recs: linked records ``record_id, source, source_key, role, uprn, live``.
        props: ``uprn, classification, blpu_state, logical_status``.
    """
    m = _with_property(recs[recs["live"] & recs["role"].isin(DEMOLISHED_ROLES)], props)
    gone = m[(m["blpu_state"] == GONE_BLPU_STATE) | (m["logical_status"] == HISTORICAL)]
    return [Finding(DEMOLISHED, f"{DEMOLISHED}:{uprn}", int(uprn), _record_list(g),
                    {"blpu_state": _int(g["blpu_state"].iloc[0]), "logical_status": _int(g["logical_status"].iloc[0])})
            for uprn, g in gone.groupby("uprn")]


def duplicate_accounts(recs: pd.DataFrame) -> list[Finding]:
    """Two or more live council tax accounts in one source at one UPRN."""
    live = recs[recs["live"] & recs["role"].isin(ACCOUNT_ROLES)]
    sizes = live.groupby(["source", "uprn"])["source_key"].transform("nunique")
    dup = live[sizes > 1]
    accounts = dict(zip(zip(dup["source"].tolist(), dup["uprn"].tolist()), sizes[sizes > 1].tolist()))
    # one pass over the rows rather than a frame per finding: a council has thousands of these
    return [Finding(DUPLICATE, f"{DUPLICATE}:{source}:{uprn}", int(uprn), listed, {"accounts": int(accounts[(source, uprn)])})
            for (source, uprn), listed in _record_lists(dup, ["source", "uprn"]).items()]


def tenancies_at_non_residential(recs: pd.DataFrame, props: pd.DataFrame) -> list[Finding]:
    """Live housing tenancies or stock at a UPRN whose classification is known and neither residential nor dual use."""
    m = _with_property(recs[recs["live"] & recs["role"].isin(TENANCY_ROLES)], props)
    cls = m["classification"].fillna("").astype(str).str.upper()
    bad = m[(cls != "") & ~cls.str[:1].isin(["R", "X"])]
    return [Finding(NON_RESIDENTIAL_TENANCY, f"{NON_RESIDENTIAL_TENANCY}:{uprn}", int(uprn), _record_list(g),
                    {"classification": g["classification"].iloc[0]})
            for uprn, g in bad.groupby("uprn")]


def residents_at_commercial(residences: pd.DataFrame, person_records: pd.DataFrame, props: pd.DataFrame) -> list[Finding]:
    """Golden persons whose current residence is a commercial-class property (classification C...).

    Args:
        residences: current residences of live golden persons ``person_id, uprn``.
        person_records: ``record_id, source, source_key, person_id, uprn`` (the person's records and their UPRNs).
        props: ``uprn, classification``.
    """
    m = _with_property(residences, props)
    com = m[m["classification"].fillna("").astype(str).str.upper().str.startswith("C")]
    out = []
    for uprn, g in com.groupby("uprn"):
        recs = person_records[person_records["person_id"].isin(g["person_id"]) & (person_records["uprn"] == uprn)]
        listed = _record_list(recs) if len(recs) else [{"person_id": int(p)} for p in sorted(g["person_id"])]
        out.append(Finding(COMMERCIAL_RESIDENT, f"{COMMERCIAL_RESIDENT}:{uprn}", int(uprn), listed,
                           {"classification": g["classification"].iloc[0], "persons": sorted(int(p) for p in g["person_id"])}))
    return out


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def is_live(deleted: pd.Series, attributes: pd.Series, today: dt.date) -> pd.Series:
    """Not deleted at source, no ``end_date`` attribute on or before ``today`` (ISO or day-first dates; unparseable =
    live)
    and no ``status`` attribute saying it ended (closed, ended, inactive, terminated...).

    Examples:
        >>> is_live(pd.Series([False, False, True, False]),
        ...         pd.Series([{"end_date": "2020-01-01"}, None, {}, {"status": "Closed"}]), dt.date(2024, 1, 1)).tolist()
        [False, True, False, False]
        >>> is_live(pd.Series([False]), pd.Series([{}]), dt.date(2024, 1, 1)).tolist()
        [True]
        >>> is_live(pd.Series([False, False]), pd.Series([{"end_date": "05/03/2024"}, {"end_date": "2024-03-05"}]),
        ...         dt.date(2024, 4, 1)).tolist()  # 5 March: ended by 1 April (month first it would be 3 May)
        [False, False]
    """
    # UK sources write 05/03/2024 for 5 March: day first when the text is not ISO (ISO parses the same either way)
    ends = pd.to_datetime(attributes.map(lambda a: a.get(END_DATE_ATTRIBUTE) if isinstance(a, dict) else None),
                          errors="coerce", format="mixed", dayfirst=True)
    status = attributes.map(lambda a: str(a.get(STATUS_ATTRIBUTE) or "").strip().lower() if isinstance(a, dict) else "")
    ended = (ends.notna() & (ends <= pd.Timestamp(today))) | status.isin(ENDED_STATUSES)
    return ~deleted.astype(bool) & ~ended


def linked_records_query(roles: dict[str, str], wanted: Iterable[str] = ROLES) -> Select:
    """Records of the sources whose role is in ``wanted``, not deleted at source, with the UPRN they are linked to
    (auto band: held, matched or steward-chosen)."""
    wanted = set(wanted)
    sources = sorted(name for name, role in roles.items() if role in wanted)
    return (select(SourceRecord.id.label("record_id"), SourceSystem.name.label("source"), SourceRecord.source_key,
                   SourceRecord.matched_uprn.label("uprn"), SourceRecord.deleted, SourceRecord.attributes)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceSystem.name.in_(sources), SourceRecord.matched_uprn.is_not(None),
                   SourceRecord.address_band == Band.AUTO, SourceRecord.deleted.is_(False)))


def load_linked_records(session: Session, roles: dict[str, str], today: dt.date, query: Select | None = None) -> pd.DataFrame:
    """The records ``query`` selects (:func:`linked_records_query` of every role by default) with role and liveness."""
    query = linked_records_query(roles) if query is None else query
    cols = ["record_id", "source", "source_key", "uprn", "deleted", "attributes"]
    f = pd.DataFrame(session.execute(query).all(), columns=cols)
    f["role"] = f["source"].map(roles)
    f["live"] = is_live(f["deleted"], f["attributes"], today) if len(f) else pd.Series(dtype=bool)
    f["uprn"] = f["uprn"].astype("int64")
    return f.drop(columns=["attributes", "deleted"])


def load_properties(session: Session, uprns: Iterable[int]) -> pd.DataFrame:
    """Gazetteer facts the checks need, for the given UPRNs."""
    ids = sorted({int(u) for u in uprns})
    rows = []
    for start in range(0, len(ids), 500):
        rows.extend(session.execute(select(Property.uprn, Property.classification, Property.blpu_state, Property.logical_status)
                                    .where(Property.uprn.in_(ids[start : start + 500]))).all())
    return pd.DataFrame(rows, columns=["uprn", "classification", "blpu_state", "logical_status"])


def load_residences(session: Session, at: ColumnElement[bool] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Current residences of live golden persons, and those persons' records with their UPRNs (only at properties
    meeting the ``at`` condition on :class:`Property` when given)."""
    res = (select(Residence.person_id, Residence.uprn).join(GoldenPerson, GoldenPerson.person_id == Residence.person_id)
           .where(Residence.to_date.is_(None), GoldenPerson.status == "active"))
    recs = (select(SourceRecord.id, SourceSystem.name, SourceRecord.source_key, Xref.person_id, Xref.uprn)
            .join(Xref, Xref.source_record_id == SourceRecord.id).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(Residence, (Residence.person_id == Xref.person_id) & (Residence.uprn == Xref.uprn))
            .where(Residence.to_date.is_(None)))
    if at is not None:
        res, recs = (q.where(Residence.uprn.in_(select(Property.uprn).where(at))) for q in (res, recs))
    return (pd.DataFrame(session.execute(res).all(), columns=["person_id", "uprn"]),
            pd.DataFrame(session.execute(recs).all(), columns=["record_id", "source", "source_key", "person_id", "uprn"]))


# SQL narrowing for each check: a superset of what the check's own (pandas) test keeps, so the check decides.
# Only "c", "r" and "x" upper-case to "C", "R" and "X" (tests/hub/test_property_equivalence.py checks all of
# Unicode), so a first letter outside these cannot pass the checks' case-insensitive tests.
def _gone() -> ColumnElement[bool]:
    return or_(Property.blpu_state == GONE_BLPU_STATE, Property.logical_status == HISTORICAL)


def _maybe_non_residential() -> ColumnElement[bool]:
    first = func.substr(Property.classification, 1, 1)
    return and_(Property.classification.is_not(None), Property.classification != "", first.not_in(["R", "r", "X", "x"]))


def _maybe_commercial() -> ColumnElement[bool]:
    return func.substr(Property.classification, 1, 1).in_(["C", "c"])


def _shared_account_uprns(roles: dict[str, str]) -> Select:
    """(source, UPRN) pairs where an account-role source has two or more records not deleted at source."""
    sources = select(SourceSystem.id).where(SourceSystem.name.in_(sorted(n for n, r in roles.items() if r in ACCOUNT_ROLES)))
    return (select(SourceRecord.source_id, SourceRecord.matched_uprn)
            .where(SourceRecord.source_id.in_(sources), SourceRecord.matched_uprn.is_not(None),
                   SourceRecord.address_band == Band.AUTO, SourceRecord.deleted.is_(False))
            .group_by(SourceRecord.source_id, SourceRecord.matched_uprn)
            .having(func.count(func.distinct(SourceRecord.source_key)) > 1))


def find_problems(session: Session, roles: dict[str, str], *, today: dt.date) -> list[Finding]:
    """Run every cross-check against the hub as it stands.

    Each check sees only the records that could show its problem, chosen in SQL by a condition every record it
    would report meets (at a gone or possibly non-residential property; sharing a UPRN with another account of
    its source; a residence at a possibly commercial one): liveness (end dates against ``today``) and the exact
    tests stay in the checks, so the findings are those of the checks run over every record.
    """
    def at(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return SourceRecord.matched_uprn.in_(select(Property.uprn).where(condition))

    gone = load_linked_records(session, roles, today, linked_records_query(roles, DEMOLISHED_ROLES).where(at(_gone())))
    tenancies = load_linked_records(session, roles, today,
                                    linked_records_query(roles, TENANCY_ROLES).where(at(_maybe_non_residential())))
    shared = _shared_account_uprns(roles).subquery()
    accounts = load_linked_records(session, roles, today, linked_records_query(roles, ACCOUNT_ROLES).join(
        shared, (shared.c.source_id == SourceRecord.source_id) & (shared.c.matched_uprn == SourceRecord.matched_uprn)))
    residences, person_records = load_residences(session, _maybe_commercial())
    props = load_properties(session, set(gone["uprn"]) | set(tenancies["uprn"]) | set(residences["uprn"]))
    return [*demolished_accounts(gone, props), *duplicate_accounts(accounts), *tenancies_at_non_residential(tenancies, props),
            *residents_at_commercial(residences, person_records, props)]


def store_findings(session: Session, findings: list[Finding], *, run_id: int | None, now: dt.datetime,
                   checks: tuple[str, ...] = CHECKS) -> dict[str, int]:
    """Open new findings, refresh persisting ones, close those no longer seen; returns open findings per check."""
    current = {f.key: f for f in findings}
    existing = {d.finding_key: d for d in session.scalars(select(DqFinding).where(DqFinding.check_name.in_(checks)))}
    fresh = []
    for key, f in current.items():
        row = existing.get(key)
        if row is None:
            fresh.append({"finding_key": key, "check_name": f.check, "uprn": f.uprn, "records": f.records, "detail": f.detail,
                          "status": "open", "first_seen": now, "last_seen": now, "run_id": run_id})
            continue
        if row.status != "open":
            row.first_seen, row.closed_at = now, None
        row.status, row.records, row.detail, row.last_seen, row.run_id = "open", f.records, f.detail, now, run_id
    for key, row in existing.items():
        if key not in current and row.status == "open":
            row.status, row.closed_at = "closed", now
    if fresh:
        session.execute(insert(DqFinding), fresh)
    counts = {c: 0 for c in checks}
    for f in current.values():
        counts[f.check] = counts.get(f.check, 0) + 1
    return counts


def run_property_checks(session: Session, roles: dict[str, str], *, run_id: int | None, today: dt.date | None = None,
                        now: dt.datetime | None = None) -> dict[str, int]:
    """Find, store and count property problems in the caller's transaction; counts also go to ``dq_metric``."""
    now = now or utcnow()
    findings = find_problems(session, roles, today=today or now.date())
    counts = store_findings(session, findings, run_id=run_id, now=now)
    session.execute(insert(DqMetric), [{"run_id": run_id, "source": "property", "metric": f"findings_{c}", "field": None,
                                        "value": float(n)} for c, n in counts.items()])
    return counts
