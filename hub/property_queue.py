"""The address custodian's queue: property and person records with no UPRN (or only a parent building), and their
binding resolutions.

The queue is the council's LLPG improvement worklist. A record whose address matched no UPRN, matched only
in the review band, or matched only the parent building of a flat becomes a ``ReviewTask`` of kind
``address`` with the best gazetteer candidates in its detail. A steward resolves it by choosing a UPRN or by
marking it "new property: tell the custodian"; either way a ``StewardDecision`` (action ``address``) records
the choice and the address it was made on, and binds every later run while that address is unchanged
(``hub.addressing.resolve_addresses`` honours it on full re-matches; a changed address is a new question).
A person record's address is asked the same way: until a steward decides, the record states no UPRN, so an
in-place change of address in the review band moves nobody. Its resolution is re-linked by the next run; it is
news (a change of address) when the record changed at its source after its golden person was created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.outbox import PendingEvent, write_events
from schemas import AuditLog, GoldenPerson, Lpi, Property, ReviewTask, SourceRecord, SourceSystem, StewardDecision, Xref
from schemas.base import utcnow
from schemas.columns import Band
from schemas.property import PropertyXref

TASK_KIND = "address"
DECISION_ACTION = "address"
NEW_PROPERTY = "new_property"
CHOSEN_UPRN = "uprn"
MAX_CANDIDATES = 3
HISTORICAL = 8
CHUNK = 500


class CustodianError(Exception):
    """An address-queue action that cannot be carried out; the message names the task, record or UPRN."""


@dataclass
class QueueSummary:
    """What one pass over the custodian queue did."""

    opened: int = 0
    superseded: int = 0
    open: int = 0


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def active_address_decisions(session: Session, record_ids: list[int] | None = None) -> dict[int, StewardDecision]:
    """The active address decision of each record (all records when ``record_ids`` is None)."""
    stmt = select(StewardDecision).where(StewardDecision.active.is_(True), StewardDecision.action == DECISION_ACTION)
    found: dict[int, StewardDecision] = {}
    if record_ids is None:
        for d in session.scalars(stmt):
            found[d.record_id_l] = d
        return found
    for part in _chunks(record_ids):
        for d in session.scalars(stmt.where(StewardDecision.record_id_l.in_(part))):
            found[d.record_id_l] = d
    return found


def decided_hash(decision: StewardDecision) -> str | None:
    """The address fingerprint a decision was made on (it binds while the record's address has this fingerprint)."""
    return (decision.before or {}).get("address_hash")


def binding_uprns(session: Session, hashes: dict[int, str]) -> dict[int, int]:
    """Record id → steward-chosen UPRN, for records whose current address (``hashes``) is the one decided on."""
    out = {}
    # Steward decisions are few (human-made); read them all rather than look up every record.
    for rid, d in active_address_decisions(session).items():
        if d.uprn is not None and decided_hash(d) == hashes.get(rid):
            out[rid] = int(d.uprn)
    return out


def _classify(band: str | None, reason: str | None, candidates: list[dict[str, Any]], parents: set[int]) -> str:
    """What the custodian is asked: ``replaced_property`` (best candidate is historical and a live property has
    its address: demolished and rebuilt, or renumbered), ``historical_only``, ``parent_only`` (every candidate
    is one building or its flats), ``uncertain`` (review band) or ``no_match``."""
    top = candidates[0] if candidates else None
    if top is not None and top.get("logical_status") == HISTORICAL:
        key = " ".join(str(top.get("address") or "").upper().split())
        live_twin = any(c.get("logical_status") != HISTORICAL and key and " ".join(str(c.get("address") or "").upper().split()) == key
                        for c in candidates[1:])
        return "replaced_property" if live_twin else "historical_only"
    found = {c["uprn"] for c in candidates} & parents
    in_building = bool(found) and all(c["uprn"] in found or c.get("parent_uprn") in found for c in candidates)
    if in_building or "building only" in (reason or ""):
        return "parent_only"
    return "uncertain" if band == Band.REVIEW else "no_match"


def _candidate_rows(session: Session, uprns: list[int]) -> dict[int, dict[str, Any]]:
    """Classification, parent and approved address of candidate UPRNs, for the steward to choose from."""
    info: dict[int, dict[str, Any]] = {}
    for part in _chunks(sorted(set(uprns))):
        for p in session.scalars(select(Property).where(Property.uprn.in_(part))):
            info[p.uprn] = {"uprn": p.uprn, "classification": p.classification, "parent_uprn": p.parent_uprn,
                            "logical_status": p.logical_status, "address": None}
        rows = session.execute(select(Lpi.uprn, Lpi.address, Lpi.logical_status).where(Lpi.uprn.in_(part), Lpi.kind == "lpi")).all()
        for uprn, address, status in sorted(rows, key=lambda r: (r[0], r[2] != 1, r[2] or 99)):
            if uprn in info and info[uprn]["address"] is None:
                info[uprn]["address"] = address
    return info


def _matcher_candidates(matcher: object, records: pd.DataFrame) -> dict[int, list[tuple[int, float]]]:
    """Top candidate UPRNs per record from the gazetteer matcher's scored candidate pairs."""
    frame = records[["id", "address", "postcode"]].reset_index(drop=True)
    feats, _ = matcher.candidate_features(frame, address_col="address", postcode_col="postcode")
    if feats.empty:
        return {}
    best = (feats[["i", "uprn", "p"]].sort_values(["i", "p"], ascending=[True, False], kind="stable")
            .drop_duplicates(["i", "uprn"]))
    best = best[best.groupby("i").cumcount() < MAX_CANDIDATES]
    ids = frame["id"].to_numpy()
    out: dict[int, list[tuple[int, float]]] = {}
    for i, uprn, p in best.itertuples(index=False):
        out.setdefault(int(ids[i]), []).append((int(uprn), round(float(p), 4)))
    return out


def unresolved_person_records(session: Session) -> pd.DataFrame:
    """Live person records whose address the matcher resolved to no UPRN or only in the review band (and whose source
    holds no UPRN): the same columns as the property records :func:`refresh_queue` takes."""
    cols = [SourceRecord.id, SourceSystem.name.label("source"), SourceRecord.source_key, SourceRecord.address,
            SourceRecord.postcode, SourceRecord.address_hash, SourceRecord.matched_uprn, SourceRecord.address_band,
            SourceRecord.address_score, SourceRecord.address_reason]
    stmt = (select(*cols).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceRecord.kind == "person", SourceRecord.deleted.is_(False), SourceRecord.uprn.is_(None),
                   SourceRecord.address_band.in_([Band.REVIEW, Band.NONE])))
    return pd.DataFrame(session.execute(stmt).all(), columns=[c.key for c in cols])


def refresh_queue(session: Session, records: pd.DataFrame, linked: set[int], *,
                  matcher_factory: Callable[[], object] | None = None, parent_only: set[int] | None = None,
                  include_people: bool = True, now: dt.datetime | None = None) -> QueueSummary:
    """Open a task for each unlinked property or person record not yet queued or decided; supersede tasks no longer
    needed.

    Args:
        records: live property records (``id, source, source_key, address, postcode, address_hash,
            matched_uprn, address_band, address_reason``) after address resolution.
        linked: ids of records that now have a UPRN (matched, held or chosen by a steward).
        matcher_factory: builds the gazetteer matcher, used for up to three candidates per new task;
            without it the matcher's stored best candidate is offered.
        parent_only: records linked only to the parent building of the unit they name (queued although
            their band is auto).
        include_people: also queue person records left without a UPRN (:func:`unresolved_person_records`).
    """
    now = now or utcnow()
    summary = QueueSummary()
    if include_people:
        people = unresolved_person_records(session)
        if len(people):
            records = people if records.empty else pd.concat([records, people[[c for c in people if c in records]]],
                                                              ignore_index=True)
    # open tasks by record (the last one when a record has several): task id and the address hash it asked about
    open_tasks = {rid: (task_id, asked_on) for task_id, rid, asked_on in session.execute(
        select(ReviewTask.id, ReviewTask.source_record_id, ReviewTask.detail["address_hash"])
        .where(ReviewTask.kind == TASK_KIND, ReviewTask.status == "open").order_by(ReviewTask.id))}
    decisions = active_address_decisions(session)
    hashes = dict(zip(records["id"].astype(int).tolist(), records["address_hash"].tolist()))
    settled = {rid for rid, d in decisions.items() if decided_hash(d) == hashes.get(rid)}
    parent_only = parent_only or set()
    resolved = records["address_band"].isin([Band.REVIEW, Band.NONE]) | records["id"].isin(parent_only)
    live = set(hashes)
    still_open = set()
    superseded = []
    for rid, (task_id, asked_on) in open_tasks.items():
        if rid in linked or rid in settled or rid not in live or asked_on not in (None, hashes.get(rid)):
            superseded.append(task_id)  # answered, gone, or asked about an old address
        else:
            still_open.add(rid)
    if superseded:
        session.execute(update(ReviewTask), [{"id": t, "status": "superseded", "resolved_at": now} for t in superseded])
    summary.superseded = len(superseded)
    todo = records[resolved & ~records["id"].isin(linked | settled | still_open)]
    if not todo.empty:
        found = _matcher_candidates(matcher_factory(), todo) if matcher_factory is not None else {}
        stored = {int(r): [(int(u), float(s) if pd.notna(s) else None)] for r, u, s in
                  zip(todo["id"], todo["matched_uprn"], todo["address_score"]) if pd.notna(u)}
        cands = {rid: found.get(rid) or stored.get(rid, []) for rid in todo["id"].astype(int)}
        info = _candidate_rows(session, [u for c in cands.values() for u, _ in c])
        parents = _parents(session, [u for c in cands.values() for u, _ in c])
        tasks = []
        for r in todo.itertuples(index=False):
            options = [{**info.get(u, {"uprn": u}), "score": s} for u, s in cands[int(r.id)]]
            tasks.append({"kind": TASK_KIND, "status": "open", "source_record_id": int(r.id),
                          "score": None if pd.isna(r.address_score) else float(r.address_score),
                          "detail": {"source": r.source, "source_key": r.source_key,
                                     "problem": "parent_only" if int(r.id) in parent_only else _classify(
                                         r.address_band, r.address_reason, options, parents),
                                     "address": _text(r.address), "postcode": _text(r.postcode),
                                     "match_reason": _text(r.address_reason), "address_hash": _text(r.address_hash),
                                     "candidates": options},
                          "created_at": now})
        session.execute(ReviewTask.__table__.insert(), tasks)
        summary.opened = len(tasks)
    summary.open = len(still_open) + summary.opened
    return summary


def _text(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _parents(session: Session, uprns: list[int]) -> set[int]:
    """The UPRNs among ``uprns`` that are the parent of another property (a building holding flats or units)."""
    out: set[int] = set()
    for part in _chunks(sorted(set(uprns))):
        out.update(session.scalars(select(Property.parent_uprn).where(Property.parent_uprn.in_(part)).distinct()))
    return out


def resolve_address_task(session: Session, task_id: int, *, steward: str, uprn: int | None = None,
                         new_property: bool = False, reason: str | None = None,
                         now: dt.datetime | None = None) -> StewardDecision:
    """Resolve a custodian task in the caller's transaction: link the record to ``uprn`` or report a new property.

    The decision binds later runs while the record's address is unchanged. Choosing a UPRN links the record
    at once and tells its source system the UPRN (an ``address_resolved`` event); a new property goes on
    the custodian's worklist (:func:`custodian_worklist`) for the LLPG to add.
    """
    now = now or utcnow()
    if (uprn is None) == (not new_property):
        raise CustodianError(f"task {task_id}: give either a UPRN or new_property=True, not both or neither")
    task = session.get(ReviewTask, task_id)
    if task is None or task.kind != TASK_KIND:
        raise CustodianError(f"task {task_id}: no such address task")
    if task.status != "open":
        raise CustodianError(f"task {task_id}: already {task.status}")
    record = session.get(SourceRecord, task.source_record_id)
    if record is None or record.deleted:
        raise CustodianError(f"task {task_id}: source record {task.source_record_id} is no longer live")
    if uprn is not None and session.get(Property, uprn) is None:
        raise CustodianError(f"task {task_id}: UPRN {uprn} is not in the gazetteer")
    before = {"matched_uprn": record.matched_uprn, "address_band": record.address_band,
              "address_score": record.address_score, "address_hash": record.address_hash}
    session.execute(update(StewardDecision).where(StewardDecision.action == DECISION_ACTION,
                                                  StewardDecision.record_id_l == record.id,
                                                  StewardDecision.active.is_(True)).values(active=False))
    resolution = NEW_PROPERTY if new_property else CHOSEN_UPRN
    decision = StewardDecision(action=DECISION_ACTION, record_id_l=record.id, uprn=uprn, steward=steward, reason=reason,
                               before=before, after={"resolution": resolution, "uprn": uprn}, decided_at=now)
    session.add(decision)
    session.flush()
    task.status, task.resolved_at, task.decision_id = "resolved", now, decision.id
    source = record.source_system.name
    if uprn is not None:
        record.matched_uprn, record.address_band, record.address_score = uprn, Band.AUTO, 1.0
        record.address_reason = "chosen by a steward"
        if record.kind == "person":
            _relink_person_record(session, record, uprn)
        else:
            xref = session.get(PropertyXref, record.id)
            if xref is None:
                session.add(PropertyXref(source_record_id=record.id, uprn=uprn, link="steward", score=1.0, linked_at=now))
            else:
                xref.uprn, xref.link, xref.score, xref.linked_at = uprn, "steward", 1.0, now
        write_events(session, [PendingEvent(f"address_resolved:{record.id}:{decision.id}", "address_resolved", None,
                                            {"source_key": record.source_key, "uprn": uprn,
                                             "before": {"uprn": before["matched_uprn"]},
                                             "evidence": {"steward_decision": decision.id}},
                                            [source], source="steward", uprn=uprn)], run_id=None)
    session.add(AuditLog(actor=steward, action=f"address_{resolution}", object_type="review_task", object_id=str(task_id),
                         detail={"source": source, "source_key": record.source_key, "uprn": uprn,
                                 "decision_id": decision.id, "reason": reason}))
    return decision


def _relink_person_record(session: Session, record: SourceRecord, uprn: int) -> None:
    """A person record's address was just resolved: the next linking run takes it up (its link is marked stale).

    Survivorship moves a person when a live, trusted record newly states another UPRN. The steward's UPRN is news
    when the record changed at its source after its golden person was created (an in-place change of address, or
    a record that joined the person later); a record that always stated this address merely gets the UPRN it
    lacked, so its link is recorded as already stating it and it moves nobody.
    """
    record.linked_hash = None
    xref = session.scalar(select(Xref).where(Xref.source_record_id == record.id))
    if xref is None:
        return
    person = session.get(GoldenPerson, xref.person_id)
    news = person is not None and record.last_changed is not None and person.created_at is not None \
        and _naive_utc(record.last_changed) > _naive_utc(person.created_at)
    if not news:
        xref.uprn = uprn


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo is not None else value


def open_address_tasks(session: Session, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Open custodian tasks, oldest first, as plain data (for `mdh queue` and the stewards' app)."""
    tasks = session.scalars(select(ReviewTask).where(ReviewTask.kind == TASK_KIND, ReviewTask.status == "open")
                            .order_by(ReviewTask.id).limit(limit).offset(offset))
    return [{"task_id": t.id, "record_id": t.source_record_id, "score": t.score, **(t.detail or {})} for t in tasks]


def custodian_worklist(session: Session) -> list[dict[str, Any]]:
    """Records stewards marked "new property: tell the custodian": what the LLPG custodian must add."""
    rows = session.execute(
        select(StewardDecision, SourceRecord, SourceSystem.name)
        .join(SourceRecord, SourceRecord.id == StewardDecision.record_id_l)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(StewardDecision.active.is_(True), StewardDecision.action == DECISION_ACTION,
               StewardDecision.uprn.is_(None), SourceRecord.deleted.is_(False))
        .order_by(StewardDecision.decided_at)).all()
    return [{"decision_id": d.id, "source": name, "source_key": r.source_key, "address": r.address,
             "postcode": r.postcode, "steward": d.steward, "reason": d.reason, "decided_at": d.decided_at,
             "still_unmatched": r.address_band != Band.AUTO}
            for d, r, name in rows if decided_hash(d) == r.address_hash]
