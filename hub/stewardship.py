"""Stewards' actions: accept, reject, split, override and bulk accept; each audited, immediate and binding on later runs.

Every function works in the caller's transaction (``with Session(engine) as s, s.begin():``), so an action
and its golden-record change, its decision, its audit entry and its change events commit together or not at all.
Accept and reject decisions on record pairs are the must-link / cannot-link constraints that
``hub.linking.steward_constraints`` feeds to every later run; split decisions are cannot-links between the parts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from hub.golden import GoldenSummary, apply_clusters, resolve_person_id, snapshot
from hub.identity_moves import MOVE_RULE, move_starts_on_merge
from schemas import (
    AttributeOverride,
    AuditLog,
    ChangeEvent,
    GoldenPerson,
    MatchPair,
    ReviewTask,
    SourceRecord,
    StewardDecision,
    Xref,
)
from schemas.base import utcnow
from schemas.columns import Band
from schemas.config import HubConfig

OVERRIDABLE = ("title", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death",
               "nino", "email", "phone", "address", "postcode")
MAX_SPLIT_PAIRS = 10_000


class StewardshipError(Exception):
    """A steward action that cannot be carried out; the message names the task, person or record ids."""


class NotFound(StewardshipError):
    """The task, person or record does not exist (or is no longer live)."""


class Conflict(StewardshipError):
    """The action contradicts an earlier active decision or the task is already decided."""


@dataclass
class ActionResult:
    """What one steward action did."""

    action: str
    decision_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)  # live golden persons of the records involved, after
    golden: GoldenSummary | None = None


# --- reading the current state -------------------------------------------------------------------------------


def person_of(session: Session, record_id: int) -> int | None:
    """The golden person a source record belongs to (None when not linked yet)."""
    return session.scalar(select(Xref.person_id).where(Xref.source_record_id == record_id))


def members(session: Session, person_id: int) -> list[int]:
    """Live source records of a golden person, in id order."""
    stmt = (select(Xref.source_record_id).join(SourceRecord, SourceRecord.id == Xref.source_record_id)
            .where(Xref.person_id == person_id, SourceRecord.deleted.is_(False)).order_by(Xref.source_record_id))
    return list(session.scalars(stmt))


def _live_record(session: Session, record_id: int) -> SourceRecord:
    rec = session.get(SourceRecord, record_id)
    if rec is None or rec.deleted:
        raise NotFound(f"source record {record_id} does not exist or was deleted at its source")
    return rec


def _live_person(session: Session, person_id: int) -> GoldenPerson:
    person = resolve_person_id(session, person_id)
    if person is None or person.status != "active":
        raise NotFound(f"golden person {person_id} does not exist or is not active")
    return person


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def _decisions_between(session: Session, left: Iterable[int], right: Iterable[int],
                       actions: Sequence[str]) -> list[StewardDecision]:
    """Active pair decisions of the given kinds with one record in ``left`` and the other in ``right``."""
    left, right = sorted(set(left)), sorted(set(right))
    if not left or not right:
        return []
    stmt = select(StewardDecision).where(
        StewardDecision.active.is_(True), StewardDecision.action.in_(actions),
        or_(and_(StewardDecision.record_id_l.in_(left), StewardDecision.record_id_r.in_(right)),
            and_(StewardDecision.record_id_l.in_(right), StewardDecision.record_id_r.in_(left))))
    return list(session.scalars(stmt))


def _state(session: Session, person_ids: Iterable[int]) -> dict[str, Any]:
    """Before/after picture of golden persons for decisions and the audit log."""
    out: dict[str, Any] = {}
    for pid in sorted({p for p in person_ids if p is not None}):
        person = session.get(GoldenPerson, pid)
        if person is None:
            continue
        out[str(pid)] = {"status": person.status, "redirect_to": person.redirect_to, "version": person.version,
                         "records": members(session, pid), "attributes": snapshot(person)}
    return out


def _audit(session: Session, actor: str, action: str, object_type: str, object_id: object,
           detail: dict[str, Any]) -> None:
    session.add(AuditLog(actor=actor, action=action, object_type=object_type,
                         object_id=None if object_id is None else str(object_id), detail=detail))


# --- changing golden persons ---------------------------------------------------------------------------------


def _recluster(session: Session, config: HubConfig, groups: Sequence[Sequence[int]], *, steward_records: set[int],
               now: dt.datetime) -> GoldenSummary:
    """Apply a closed set of record groups as clusters, keeping existing link bands except where a steward decided."""
    record_ids = [int(r) for g in groups for r in g]
    prior = dict(session.execute(select(Xref.source_record_id, Xref.link_band).where(Xref.source_record_id.in_(record_ids))).all())
    scores = dict(session.execute(select(Xref.source_record_id, Xref.link_score).where(Xref.source_record_id.in_(record_ids))).all())
    rows = []
    for i, group in enumerate(groups):
        for rid in group:
            band = "steward" if rid in steward_records else prior.get(rid, "singleton")
            rows.append({"record_id": int(rid), "cluster_id": f"g{i}", "link_band": band,
                         "link_score": scores.get(rid) if band != "steward" else None})
    frame = pd.DataFrame(rows, columns=["record_id", "cluster_id", "link_band", "link_score"])
    return apply_clusters(session, config, frame, run_id=None, now=now)


def _settle_tasks(session: Session, task: ReviewTask | None, decision: StewardDecision, now: dt.datetime) -> None:
    """Resolve the decided task (and twins on the same pair); supersede open tasks the action has answered."""
    if task is not None:
        task.status, task.resolved_at, task.decision_id = "resolved", now, decision.id
    a, b = decision.record_id_l, decision.record_id_r
    open_tasks = session.execute(
        select(ReviewTask, MatchPair.record_id_l, MatchPair.record_id_r).join(MatchPair, MatchPair.id == ReviewTask.pair_id)
        .where(ReviewTask.status == "open", ReviewTask.kind == "person_pair",
               or_(MatchPair.record_id_l.in_([x for x in (a, b) if x is not None]),
                   MatchPair.record_id_r.in_([x for x in (a, b) if x is not None])))).all()
    for other, left, right in open_tasks:
        same_pair = _pair_key(left, right) == _pair_key(a, b)
        now_together = person_of(session, left) is not None and person_of(session, left) == person_of(session, right)
        if same_pair:
            other.status, other.resolved_at, other.decision_id = "resolved", now, decision.id
        elif decision.action == "accept" and now_together:
            other.status, other.resolved_at, other.decision_id = "superseded", now, decision.id


def _retire_decisions(session: Session, a: int, b: int) -> list[int]:
    """Earlier active decisions on exactly this pair are superseded by the new one."""
    old = _decisions_between(session, [a], [b], ("accept", "reject", "split"))
    for d in old:
        d.active = False
    return [d.id for d in old]


def _open_task(session: Session, task_id: int) -> tuple[ReviewTask, MatchPair]:
    task = session.get(ReviewTask, task_id)
    if task is None or task.kind != "person_pair" or task.pair_id is None:
        raise NotFound(f"review task {task_id} does not exist or is not a person pair")
    if task.status != "open":
        raise Conflict(f"review task {task_id} is already {task.status}")
    pair = session.get(MatchPair, task.pair_id)
    if pair is None:
        raise NotFound(f"review task {task_id} points at a missing match pair {task.pair_id}")
    return task, pair


def _move_evidence_between(session: Session, side_a: set[int], side_b: set[int]) -> list[tuple[int, int]]:
    """Pairs between the two sides' records that were put to stewards as "maybe a move" (``hub.identity_moves``).

    The question is about two persons, whichever of their records a steward answers it with: a matcher's own pair
    between the same two persons (a new tenancy beside the benefit claim, while the move question named the roll
    entry) says the same thing when accepted.
    """
    found = []
    ids = sorted(side_a | side_b)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.extend(session.execute(select(MatchPair.record_id_l, MatchPair.record_id_r).where(
            MatchPair.record_id_l.in_(chunk), MatchPair.rule == MOVE_RULE)).all())
    return [(a, b) for a, b in found if (a in side_a and b in side_b) or (a in side_b and b in side_a)]


def _newer_record(session: Session, a: int, b: int) -> int:
    """Of a move-evidence pair, the record the hub saw last (the new account): the news a steward confirms. The
    other (a closed account, or a live record at the address the person left) moves nobody."""
    seen = dict(session.execute(select(SourceRecord.id, SourceRecord.first_seen).where(SourceRecord.id.in_([a, b]))).all())
    return max((a, b), key=lambda r: (seen.get(r) or dt.datetime.min, r))


def _state_as_news(session: Session, record_ids: Sequence[int]) -> None:
    """Forget the UPRN the pair's records stated when last linked: they are new to the person they join.

    Accepting move evidence says the new record's address is where the person now lives, so survivorship treats it
    as a live, trusted record newly stating another UPRN (``moved``) and raises the change of address; the closed
    record stating the old address is not live and moves nobody. A merge of any other pair keeps the survivor's
    address as before, unless the two sides' records tell of a move (:func:`hub.identity_moves.move_starts_on_merge`).
    """
    session.execute(update(Xref).where(Xref.source_record_id.in_(list(record_ids))).values(uprn=None))


def _cite_decision(session: Session, golden: GoldenSummary | None, person_id: int | None, decision: StewardDecision,
                   task: ReviewTask | None) -> None:
    """Name the steward decision (and its task) as evidence of the change of address the accept just raised."""
    if golden is None or person_id is None or not golden.event_counts.get("change_of_address"):
        return
    person = session.get(GoldenPerson, person_id)
    event = session.scalar(select(ChangeEvent).where(
        ChangeEvent.idempotency_key == f"change_of_address:{person_id}:v{person.version}"))
    if event is None:
        return
    payload = dict(event.payload or {})
    payload["evidence"] = {**(payload.get("evidence") or {}), "steward_decision": decision.id,
                           "review_task": task.id if task is not None else None}
    event.payload = payload


def accept_pair(session: Session, config: HubConfig, record_a: int, record_b: int, *, steward: str,
                reason: str | None = None, task: ReviewTask | None = None, now: dt.datetime | None = None) -> ActionResult:
    """The two records are the same person: record a must-link and merge their golden persons now."""
    now = now or utcnow()
    a, b = _pair_key(int(record_a), int(record_b))
    if a == b:
        raise StewardshipError(f"cannot accept record {a} with itself")
    _live_record(session, a), _live_record(session, b)
    pa, pb = person_of(session, a), person_of(session, b)
    side_a = set(members(session, pa)) | {a} if pa is not None else {a}
    side_b = set(members(session, pb)) | {b} if pb is not None else {b}
    before = _state(session, [pa, pb])
    if pa != pb or pa is None:
        blocking = [d for d in _decisions_between(session, side_a, side_b, ("reject", "split"))
                    if _pair_key(d.record_id_l, d.record_id_r) != (a, b)]
        if blocking:
            ids = sorted(d.id for d in blocking)
            raise Conflict(f"accepting records {a} and {b} would merge records kept apart by decision(s) {ids}; "
                           "revisit those first")
    superseded = _retire_decisions(session, a, b)
    decision = StewardDecision(action="accept", record_id_l=a, record_id_r=b, steward=steward, reason=reason,
                               before=before, decided_at=now)
    session.add(decision)
    session.flush()
    golden = None
    if pa is None or pa != pb:
        news: set[int] = set()
        if pa is not None and pb is not None:
            # the two persons were put as move evidence, or their records tell of a move: a closure on one side and
            # a start on the other, or a new account on one side that the hub saw arrive after the other's records
            evidence = _move_evidence_between(session, side_a, side_b)
            news = {_newer_record(session, x, y) for x, y in evidence} if evidence else \
                move_starts_on_merge(session, config, side_a, side_b, now=now)
        moved = bool(news)
        if moved:
            _state_as_news(session, sorted(news))
        golden = _recluster(session, config, [sorted(side_a | side_b)], steward_records={a, b}, now=now)
        if moved:
            _cite_decision(session, golden, person_of(session, a), decision, task)
    else:
        session.execute(update(Xref).where(Xref.source_record_id.in_([a, b])).values(link_band="steward"))
    survivor = person_of(session, a)
    decision.person_id = survivor
    decision.after = _state(session, [survivor])
    session.flush()
    _settle_tasks(session, task, decision, now)
    _audit(session, steward, "steward.accept", "record_pair", f"{a}:{b}",
           {"decision_id": decision.id, "task_id": task.id if task else None, "reason": reason,
            "superseded_decisions": superseded, "before": before, "after": decision.after})
    return ActionResult("accept", [decision.id], [survivor] if survivor is not None else [], golden)


def _components(nodes: Sequence[int], edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    parent = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in edges:
        if x in parent and y in parent:
            rx, ry = find(x), find(y)
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
    return {n: find(n) for n in nodes}


def _separate(session: Session, config: HubConfig, recs: list[int], a: int, b: int) -> list[list[int]]:
    """Split a person's records so ``a`` and ``b`` part: ``b`` leaves with what only it holds together."""
    cannot = {_pair_key(d.record_id_l, d.record_id_r) for d in _decisions_between(session, recs, recs, ("reject", "split"))}
    cannot.add((a, b))
    must = {_pair_key(d.record_id_l, d.record_id_r) for d in _decisions_between(session, recs, recs, ("accept",))}
    auto = session.execute(select(MatchPair.record_id_l, MatchPair.record_id_r).where(
        MatchPair.record_id_l.in_(recs), MatchPair.record_id_r.in_(recs),
        or_(MatchPair.band == Band.AUTO, MatchPair.match_probability >= config.thresholds.auto_merge))).all()
    edges = [e for e in ({_pair_key(x, y) for x, y in auto} | must) if e not in cannot]
    comp = _components(recs, edges)
    if comp[a] != comp[b]:
        leaving = sorted(r for r in recs if comp[r] == comp[b])
    else:
        # Still joined through other evidence: b leaves alone unless a steward tied it to others.
        tied = [d for d in _decisions_between(session, [b], [r for r in recs if r != b], ("accept",))]
        if tied:
            raise Conflict(f"record {b} is tied to this person by decision(s) {sorted(d.id for d in tied)}; "
                           "split the person explicitly instead")
        leaving = [b]
    staying = sorted(set(recs) - set(leaving))
    return [staying, leaving]


def reject_pair(session: Session, config: HubConfig, record_a: int, record_b: int, *, steward: str,
                reason: str | None = None, task: ReviewTask | None = None, now: dt.datetime | None = None) -> ActionResult:
    """The two records are different people: record a cannot-link, and part them now if they share a golden person."""
    now = now or utcnow()
    a, b = _pair_key(int(record_a), int(record_b))
    if a == b:
        raise StewardshipError(f"cannot reject record {a} against itself")
    _live_record(session, a), _live_record(session, b)
    pa, pb = person_of(session, a), person_of(session, b)
    before = _state(session, [pa, pb])
    groups = None
    if pa is not None and pa == pb:
        groups = _separate(session, config, members(session, pa), a, b)
    superseded = _retire_decisions(session, a, b)
    decision = StewardDecision(action="reject", record_id_l=a, record_id_r=b, person_id=pa, steward=steward,
                               reason=reason, before=before, decided_at=now)
    session.add(decision)
    golden = _recluster(session, config, groups, steward_records=set(), now=now) if groups else None
    after_ids = [person_of(session, a), person_of(session, b)]
    decision.after = _state(session, after_ids)
    session.flush()
    _settle_tasks(session, task, decision, now)
    _audit(session, steward, "steward.reject", "record_pair", f"{a}:{b}",
           {"decision_id": decision.id, "task_id": task.id if task else None, "reason": reason,
            "superseded_decisions": superseded, "before": before, "after": decision.after})
    return ActionResult("reject", [decision.id], sorted({p for p in after_ids if p is not None}), golden)


def accept_task(session: Session, config: HubConfig, task_id: int, *, steward: str, reason: str | None = None) -> ActionResult:
    """Accept the pair of an open review task (merge)."""
    task, pair = _open_task(session, task_id)
    return accept_pair(session, config, pair.record_id_l, pair.record_id_r, steward=steward, reason=reason, task=task)


def reject_task(session: Session, config: HubConfig, task_id: int, *, steward: str, reason: str | None = None) -> ActionResult:
    """Reject the pair of an open review task (not the same person)."""
    task, pair = _open_task(session, task_id)
    return reject_pair(session, config, pair.record_id_l, pair.record_id_r, steward=steward, reason=reason, task=task)


def bulk_accept(session: Session, config: HubConfig, task_ids: Sequence[int], *, steward: str,
                reason: str | None = None) -> list[ActionResult]:
    """Accept several open tasks at once, all or nothing; tasks another action already answered are skipped."""
    results = []
    for task_id in dict.fromkeys(int(t) for t in task_ids):
        task = session.get(ReviewTask, task_id)
        if task is not None and task.status in ("resolved", "superseded"):
            continue
        results.append(accept_task(session, config, task_id, steward=steward, reason=reason or "bulk accept"))
    return results


def split_person(session: Session, config: HubConfig, person_id: int, groups: Sequence[Sequence[int]], *,
                 steward: str, reason: str | None = None, now: dt.datetime | None = None) -> ActionResult:
    """Split a golden person into the given record groups; the parts are kept apart in every later run."""
    now = now or utcnow()
    person = _live_person(session, person_id)
    recs = members(session, person.person_id)
    parts = [sorted({int(r) for r in g}) for g in groups if len(g)]
    flat = [r for g in parts for r in g]
    if len(parts) < 2:
        raise StewardshipError(f"splitting person {person.person_id} needs at least two non-empty groups")
    if len(flat) != len(set(flat)) or set(flat) != set(recs):
        raise StewardshipError(f"the groups must share out exactly the records of person {person.person_id}: {recs}")
    cross = [_pair_key(x, y) for g1, g2 in itertools.combinations(parts, 2) for x in g1 for y in g2]
    if len(cross) > MAX_SPLIT_PAIRS:
        raise StewardshipError(f"split of person {person.person_id} would record {len(cross)} decisions; too many")
    before = _state(session, [person.person_id])
    retired = []
    for g1, g2 in itertools.combinations(parts, 2):
        for d in _decisions_between(session, g1, g2, ("accept", "reject", "split")):
            d.active = False
            retired.append(d.id)
    decisions = [StewardDecision(action="split", record_id_l=x, record_id_r=y, person_id=person.person_id,
                                 steward=steward, reason=reason, before=before, decided_at=now) for x, y in cross]
    session.add_all(decisions)
    golden = _recluster(session, config, parts, steward_records=set(), now=now)
    after_ids = sorted({person_of(session, g[0]) for g in parts})
    after = _state(session, after_ids)
    for d in decisions:
        d.after = after
    session.flush()
    cross_set = set(cross)
    for task, left, right in session.execute(
            select(ReviewTask, MatchPair.record_id_l, MatchPair.record_id_r).join(MatchPair, MatchPair.id == ReviewTask.pair_id)
            .where(ReviewTask.status == "open", MatchPair.record_id_l.in_(flat), MatchPair.record_id_r.in_(flat))).all():
        if _pair_key(left, right) in cross_set:
            task.status, task.resolved_at, task.decision_id = "superseded", now, decisions[0].id
    _audit(session, steward, "steward.split", "person", person.person_id,
           {"decision_ids": [d.id for d in decisions], "groups": parts, "reason": reason,
            "superseded_decisions": retired, "before": before, "after": after})
    return ActionResult("split", [d.id for d in decisions], after_ids, golden)


def _check_value(attribute: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if attribute in ("date_of_birth", "date_of_death"):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise StewardshipError(f"{attribute} must be a date yyyy-mm-dd") from None
    if len(value) > 320:
        raise StewardshipError(f"{attribute} is too long")
    return value


def override_attribute(session: Session, config: HubConfig, person_id: int, attribute: str, value: str | None, *,
                       steward: str, reason: str, now: dt.datetime | None = None) -> ActionResult:
    """Set (or, with ``value=None``, remove) a steward override of one golden attribute and recompute the person."""
    now = now or utcnow()
    if attribute not in OVERRIDABLE:
        raise StewardshipError(f"attribute {attribute!r} cannot be overridden; expected one of {list(OVERRIDABLE)}")
    if not reason or not reason.strip():
        raise StewardshipError("an attribute override needs a reason")
    value = _check_value(attribute, value)
    person = _live_person(session, person_id)
    pid = person.person_id
    recs = members(session, pid)
    if not recs:
        raise StewardshipError(f"golden person {pid} has no live source records to recompute from")
    before = {attribute: getattr(person, attribute), "version": person.version}
    existing = session.scalar(select(AttributeOverride).where(AttributeOverride.person_id == pid,
                                                              AttributeOverride.attribute == attribute))
    if value is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(AttributeOverride(person_id=pid, attribute=attribute, value=value, steward=steward, reason=reason,
                                      created_at=now))
    else:
        existing.value, existing.steward, existing.reason, existing.created_at = value, steward, reason, now
    session.flush()
    golden = _recluster(session, config, [recs], steward_records=set(), now=now)
    person = session.get(GoldenPerson, pid)
    after = {attribute: getattr(person, attribute), "version": person.version}
    decision = StewardDecision(action="override", person_id=pid, attribute=attribute, steward=steward, reason=reason,
                               before=before, after=after, decided_at=now)
    session.add(decision)
    session.flush()
    _audit(session, steward, "steward.override", "person", pid,
           {"decision_id": decision.id, "attribute": attribute, "reason": reason, "before": before, "after": after})
    return ActionResult("override", [decision.id], [pid], golden)
