"""GDPR duties over the hub store: subject access export, erasure and restriction of processing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from api.audit import spooled_reads, with_spooled
from hub.golden import GOLDEN_FIELDS, resolve_person_id
from hub.outbox import PendingEvent, write_events
from schemas import (
    AttributeLineage,
    AttributeOverride,
    AuditLog,
    ChangeEvent,
    GoldenPerson,
    GoldenPersonVersion,
    MatchPair,
    Residence,
    ReviewTask,
    SourceRecord,
    SourceSystem,
    StewardDecision,
    Xref,
)
from schemas.base import utcnow

# Set on an erased person's source records: ingest must not bring their data back from a later extract.
from schemas.sources import ERASED_MARKER  # noqa: E402 - shared with ingest, which must not resurrect erased records
PERSONAL_RECORD_FIELDS = ("title", "first_name", "middle_names", "last_name", "full_name", "date_of_birth",
                          "date_of_death", "nino", "email", "phone", "address", "postcode")


class GdprError(Exception):
    """A subject-access, erasure or restriction request that cannot be carried out (names the person id)."""


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def _identity(session: Session, person_id: int) -> tuple[GoldenPerson, list[int]]:
    """The live (or erased) person an ID leads to and every ID that redirects to it."""
    person = resolve_person_id(session, person_id)
    if person is None:
        raise GdprError(f"golden person {person_id} not found")
    ids, frontier = {person.person_id}, [person.person_id]
    while frontier:
        found = list(session.scalars(select(GoldenPerson.person_id).where(GoldenPerson.redirect_to.in_(frontier))))
        frontier = [i for i in found if i not in ids]
        ids.update(frontier)
    return person, sorted(ids)


def _record_ids(session: Session, ids: list[int]) -> list[int]:
    return list(session.scalars(select(Xref.source_record_id).where(Xref.person_id.in_(ids)).order_by(Xref.source_record_id)))


def subject_access(session: Session, person_id: int) -> dict[str, Any]:
    """Everything the hub holds about a person, with its sources (a subject access request)."""
    person, ids = _identity(session, person_id)
    recs = _record_ids(session, ids)
    records = session.execute(select(SourceRecord, SourceSystem.name).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                              .where(SourceRecord.id.in_(recs))).all()
    decisions = session.scalars(select(StewardDecision).where(or_(
        StewardDecision.person_id.in_(ids), StewardDecision.record_id_l.in_(recs), StewardDecision.record_id_r.in_(recs)))).all()
    pairs = session.scalars(select(MatchPair).where(or_(MatchPair.record_id_l.in_(recs), MatchPair.record_id_r.in_(recs)))).all()
    spooled = spooled_reads(session, "person", [str(i) for i in ids])  # reads not yet in audit_log: before it
    return {
        "person_id": person.person_id,
        "requested_id": person_id,
        "generated_at": utcnow().isoformat(),
        "golden_person": _row(person),
        "merged_ids": [i for i in ids if i != person.person_id],
        "versions": [_row(v) for v in session.scalars(select(GoldenPersonVersion).where(GoldenPersonVersion.person_id.in_(ids))
                                                      .order_by(GoldenPersonVersion.person_id, GoldenPersonVersion.version))],
        "lineage": [_row(x) for x in session.scalars(select(AttributeLineage).where(AttributeLineage.person_id.in_(ids)))],
        "overrides": [_row(x) for x in session.scalars(select(AttributeOverride).where(AttributeOverride.person_id.in_(ids)))],
        "residence": [_row(x) for x in session.scalars(select(Residence).where(Residence.person_id.in_(ids)).order_by(Residence.from_date))],
        "source_records": [{"source": name, **_row(rec, skip=("content_hash", "address_hash", "linked_hash"))}
                           for rec, name in records],
        "match_pairs": [_row(p, skip=("explanation",)) for p in pairs],
        "steward_decisions": [_row(d) for d in decisions],
        "change_events": [_row(e) for e in session.scalars(select(ChangeEvent).where(ChangeEvent.person_id.in_(ids)).order_by(ChangeEvent.id))],
        "reads_and_actions": with_spooled([_row(a) for a in session.scalars(select(AuditLog).where(
            AuditLog.object_type == "person", AuditLog.object_id.in_([str(i) for i in ids])).order_by(AuditLog.id))],
            spooled),
    }


def _subscribers(session: Session, recs: list[int]) -> tuple[list[str], list[dict[str, str]]]:
    rows = session.execute(select(SourceSystem.name, SourceRecord.source_key).join(SourceRecord, SourceRecord.source_id == SourceSystem.id)
                           .where(SourceRecord.id.in_(recs)).order_by(SourceSystem.name, SourceRecord.source_key)).all()
    return sorted({r[0] for r in rows}), [{"source": s, "source_key": k} for s, k in rows]


def erase_person(session: Session, person_id: int, *, actor: str, reason: str) -> dict[str, Any]:
    """Remove a person from the golden records and the hub's copies of their source records; tell every source.

    The golden ID stays (IDs are never reused) with status ``erased`` and no attributes. Source records are
    emptied and marked deleted; an ``erasure`` event names each source's keys so every system that holds the
    person hears of it. The audit log keeps who erased and when, not what.
    """
    person, ids = _identity(session, person_id)
    recs = _record_ids(session, ids)
    subs, keys = _subscribers(session, recs)
    if person.status == "erased" and not recs:
        return {"person_id": person.person_id, "status": "erased", "restricted": True, "records": 0, "events": 0}
    now = utcnow()
    blank = {f: None for f in GOLDEN_FIELDS}
    session.execute(update(GoldenPerson).where(GoldenPerson.person_id.in_(ids))
                    .values(**blank, status="erased", restricted=True, updated_at=now))
    session.execute(update(GoldenPerson).where(GoldenPerson.person_id == person.person_id).values(redirect_to=None))
    for table in (GoldenPersonVersion, AttributeLineage, AttributeOverride, Residence):
        session.execute(delete(table).where(table.person_id.in_(ids)))
    session.execute(delete(Xref).where(Xref.person_id.in_(ids)))
    if recs:
        session.execute(update(SourceRecord).where(SourceRecord.id.in_(recs)).values(
            **{f: None for f in PERSONAL_RECORD_FIELDS}, raw={}, attributes=None, deleted=True, uprn=None,
            matched_uprn=None, address_reason=None, quarantine_reason=ERASED_MARKER))
        pair_ids = list(session.scalars(select(MatchPair.id).where(or_(MatchPair.record_id_l.in_(recs), MatchPair.record_id_r.in_(recs)))))
        if pair_ids:
            session.execute(update(ReviewTask).where(ReviewTask.pair_id.in_(pair_ids), ReviewTask.status == "open")
                            .values(status="superseded", resolved_at=now))
            session.execute(update(MatchPair).where(MatchPair.id.in_(pair_ids)).values(explanation=None))
        session.execute(update(StewardDecision).where(or_(StewardDecision.record_id_l.in_(recs), StewardDecision.record_id_r.in_(recs)))
                        .values(before=None, after=None))
    session.execute(update(StewardDecision).where(StewardDecision.person_id.in_(ids)).values(before=None, after=None))
    session.execute(update(ChangeEvent).where(ChangeEvent.person_id.in_(ids), ChangeEvent.event_type != "erasure")
                    .values(payload={"erased": True}))
    for entry in session.scalars(select(AuditLog).where(AuditLog.object_type == "person", AuditLog.object_id.in_([str(i) for i in ids]))):
        if entry.detail and ("before" in entry.detail or "after" in entry.detail):
            entry.detail = {k: v for k, v in entry.detail.items() if k not in ("before", "after")}
    event = PendingEvent(f"erasure:{person.person_id}", "erasure", person.person_id,
                         {"person_id": person.person_id, "merged_ids": [i for i in ids if i != person.person_id],
                          "records": keys, "erased_at": now.isoformat()}, subs)
    written = write_events(session, [event], run_id=None)
    session.add(AuditLog(actor=actor, action="gdpr.erasure", object_type="person", object_id=str(person.person_id),
                         detail={"reason": reason, "ids": ids, "records": len(recs), "subscribers": subs}))
    return {"person_id": person.person_id, "status": "erased", "restricted": True, "records": len(recs), "events": written}


def restrict_person(session: Session, person_id: int, *, actor: str, reason: str, restricted: bool = True) -> dict[str, Any]:
    """Set or lift the restriction of processing; subscribers hear of it through a ``restriction`` event."""
    person, ids = _identity(session, person_id)
    if person.status == "erased":
        raise GdprError(f"golden person {person.person_id} is erased")
    recs = _record_ids(session, ids)
    subs, keys = _subscribers(session, recs)
    written = 0
    if person.restricted != restricted:
        person.restricted, person.updated_at = restricted, utcnow()
        stamp = session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
        event = PendingEvent(f"restriction:{person.person_id}:{int(restricted)}:{stamp}", "restriction", person.person_id,
                             {"person_id": person.person_id, "restricted": restricted, "records": keys}, subs)
        written = write_events(session, [event], run_id=None)
    session.add(AuditLog(actor=actor, action="gdpr.restriction" if restricted else "gdpr.restriction_lifted",
                         object_type="person", object_id=str(person.person_id), detail={"reason": reason}))
    return {"person_id": person.person_id, "status": person.status, "restricted": restricted, "records": len(recs),
            "events": written}
