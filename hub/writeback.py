"""Write-back of golden IDs to the sources' own tables: every key's golden person ID, UPRN and current address.

A ``sql_writeback`` target is a table in a source system's database (or beside it) that the back office reads. The
nightly run keeps it in step incrementally: a watermark per target (in ``hub_state``) says when the hub last wrote it
whole, and only keys whose person, membership, restriction, erasure or deletion changed since are compared; only rows
that differ are written. Change events refresh the rows of the persons they touch (:func:`writeback_rows`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from connectors.publish import DeliveryError, WritebackRow
from schemas import ExtractBatch, GoldenPerson, HubState, SourceRecord, SourceSystem, Xref
from schemas.base import utcnow
from schemas.config import HubConfig, PublishTarget, SourceConfig
from schemas.sources import ERASED_MARKER

log = logging.getLogger(__name__)

ID_CHUNK = 500
MAX_REDIRECTS = 20
WRITEBACK_STATE = "writeback:"  # hub_state key prefix: one watermark per write-back target
# Changes are read from this long before the last watermark: a short transaction outside the run lock (the API's
# restriction or erasure) stamps its rows just before it commits, and hosts' clocks differ a little.
WATERMARK_LAG = dt.timedelta(minutes=15)
# Compare every row when more records than this share of the table's rows (and than the floor) were touched.
FULL_SHARE, FULL_FLOOR = 0.25, 2000



@dataclass
class XrefPublishSummary:
    """Rows written back per source, and the sources whose database could not be reached."""

    counts: dict[str, int] = field(default_factory=dict)  # rows written (new or changed)
    removed: dict[str, int] = field(default_factory=dict)  # rows deleted
    failed: dict[str, str] = field(default_factory=dict)
    mode: dict[str, str] = field(default_factory=dict)  # full | incremental, per source



def _resolve(session: Session, persons: dict[int, GoldenPerson]) -> dict[int, GoldenPerson]:
    """Follow merge redirects so a key whose person was merged away gets the survivor."""
    resolved = dict(persons)
    for _ in range(MAX_REDIRECTS):
        missing = {p.redirect_to for p in resolved.values() if p.redirect_to and p.redirect_to not in resolved}
        if not missing:
            break
        for p in session.scalars(select(GoldenPerson).where(GoldenPerson.person_id.in_(missing))):
            resolved[p.person_id] = p
    final: dict[int, GoldenPerson] = {}
    for pid, person in persons.items():
        hops = 0
        while person.redirect_to and person.redirect_to in resolved and hops < MAX_REDIRECTS:
            person, hops = resolved[person.redirect_to], hops + 1
        final[pid] = person
    return final


def _with_merged_away(session: Session, person_ids: Sequence[int]) -> list[int]:
    """``person_ids`` plus every person merged into one of them, whose keys now belong to the survivor."""
    found = set(person_ids)
    frontier = set(person_ids)
    for _ in range(MAX_REDIRECTS):
        if not frontier:
            break
        fresh: set[int] = set()
        todo = sorted(frontier)
        for start in range(0, len(todo), ID_CHUNK):
            fresh.update(session.scalars(select(GoldenPerson.person_id)
                                         .where(GoldenPerson.redirect_to.in_(todo[start : start + ID_CHUNK]))))
        frontier = fresh - found
        found |= frontier
    return sorted(found)


def writeback_rows(engine: Engine, source: str, *, person_ids: Sequence[int] | None = None
                   ) -> tuple[list[WritebackRow], list[str]]:
    """Write-back rows for ``source``'s keys (all, or those of ``person_ids``) and the keys to remove.

    A key is removed when its source record is deleted or its person erased; a person under a restriction
    of processing keeps the ID but not the address.
    """
    stmt = (select(SourceRecord.source_key, SourceRecord.deleted, GoldenPerson)
            .join(Xref, Xref.source_record_id == SourceRecord.id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(GoldenPerson, GoldenPerson.person_id == Xref.person_id)
            .where(SourceSystem.name == source))
    rows: list[WritebackRow] = []
    gone: list[str] = []
    with Session(engine) as session:
        if person_ids is not None:
            person_ids = _with_merged_away(session, person_ids)
        chunks = ([None] if person_ids is None else
                  [list(person_ids)[i : i + ID_CHUNK] for i in range(0, len(person_ids), ID_CHUNK)])
        for part in chunks:
            query = stmt if part is None else stmt.where(Xref.person_id.in_(part))
            found = session.execute(query).all()
            final = _resolve(session, {p.person_id: p for _k, _d, p in found})
            for key, deleted, person in found:
                golden = final[person.person_id]
                if deleted or golden.status == "erased":
                    gone.append(key)
                elif golden.restricted:
                    rows.append(WritebackRow(key, golden.person_id, None, None, None))
                else:
                    rows.append(WritebackRow(key, golden.person_id, golden.uprn, golden.address, golden.postcode))
    return rows, gone


_GOLDEN = (GoldenPerson.person_id, GoldenPerson.status, GoldenPerson.redirect_to, GoldenPerson.restricted,
           GoldenPerson.uprn, GoldenPerson.address, GoldenPerson.postcode)


def _golden_of(session: Session, rows: dict[int, tuple]) -> None:
    """Add to ``rows`` (person_id -> golden columns) every person their merge redirects lead to."""
    for _ in range(MAX_REDIRECTS):
        missing = sorted({g[2] for g in rows.values() if g[2] is not None and g[2] not in rows})
        if not missing:
            return
        for start in range(0, len(missing), ID_CHUNK):
            rows.update((r[0], tuple(r)) for r in session.execute(
                select(*_GOLDEN).where(GoldenPerson.person_id.in_(missing[start : start + ID_CHUNK]))))


def _final(golden: dict[int, tuple], person_id: int) -> tuple:
    person, hops = golden[person_id], 0
    while person[2] is not None and person[2] in golden and hops < MAX_REDIRECTS:
        person, hops = golden[person[2]], hops + 1
    return person


def _desired(session: Session, source_id: int, where: ColumnElement[bool] | None = None
             ) -> dict[str, WritebackRow | None]:
    """What the write-back table should hold for ``source_id``'s linked keys (all, or those matching ``where``).

    ``None`` marks a key to remove: its record is deleted or its person erased. Same rules as :func:`writeback_rows`.
    """
    stmt = (select(SourceRecord.source_key, SourceRecord.deleted, *_GOLDEN)
            .join(Xref, Xref.source_record_id == SourceRecord.id)
            .join(GoldenPerson, GoldenPerson.person_id == Xref.person_id)
            .where(SourceRecord.source_id == source_id))
    if where is not None:
        stmt = stmt.where(where)
    found = session.execute(stmt).all()
    golden = {r[2]: tuple(r[2:]) for r in found}
    _golden_of(session, golden)
    out: dict[str, WritebackRow | None] = {}
    for key, deleted, person_id, *_rest in found:
        _pid, status, _to, restricted, uprn, address, postcode = _final(golden, person_id)
        if deleted or status == "erased":
            out[key] = None
        elif restricted:
            out[key] = WritebackRow(key, _pid, None, None, None)
        else:
            out[key] = WritebackRow(key, _pid, uprn, address, postcode)
    return out


def _touched_records(session: Session, since: dt.datetime) -> tuple[set[int], bool]:
    """Source records (of any source) whose write-back row may have changed after ``since``; and whether someone
    was erased then.

    A record is touched when its cross-reference was rewritten (new record, re-link, merge or split: linking
    re-links every record of a person it touches), when its golden person was updated (address, restriction,
    erasure, merge), or when it is still held by a merged-away person: a merge re-points older redirects to the
    survivor without stamping them, so those few keys are compared every time.
    """
    people = session.execute(select(GoldenPerson.person_id, GoldenPerson.status,
                                    (GoldenPerson.updated_at > since).label("fresh"))
                             .where(or_(GoldenPerson.updated_at > since, GoldenPerson.redirect_to.is_not(None)))).all()
    erased = any(status == "erased" and fresh for _pid, status, fresh in people)
    persons = {pid for pid, _status, _fresh in people}
    records = set(session.scalars(select(Xref.source_record_id).where(Xref.linked_at > since)))
    todo = sorted(persons)
    for start in range(0, len(todo), ID_CHUNK):
        records.update(session.scalars(select(Xref.source_record_id)
                                       .where(Xref.person_id.in_(todo[start : start + ID_CHUNK]))))
    return records, erased


def _extracted_since(session: Session, source_id: int, since: dt.datetime) -> bool:
    """Whether an extract of the source that may have marked records deleted started after ``since``."""
    return (session.scalar(select(func.count()).select_from(ExtractBatch).where(
        ExtractBatch.source_id == source_id, ExtractBatch.started_at > since,
        or_(ExtractBatch.deleted > 0, ExtractBatch.status != "ok"))) or 0) > 0


def _changed(session: Session, source_id: int, since: dt.datetime, records: set[int], erased: bool
             ) -> dict[str, WritebackRow | None]:
    """The keys of ``source_id`` whose write-back row may differ from what it was at ``since``, as :func:`_desired`.

    ``records`` and ``erased`` come from :func:`_touched_records`. A record deleted at its source (stamped in
    ``last_changed``) or erased (which leaves no stamp on the record and drops its cross-reference: every erased
    key of the source is looked at again after an erasure) is a key to remove.
    """
    out: dict[str, WritebackRow | None] = {}
    todo = sorted(records)
    for start in range(0, len(todo), ID_CHUNK):
        out.update(_desired(session, source_id, SourceRecord.id.in_(todo[start : start + ID_CHUNK])))
    if erased or _extracted_since(session, source_id, since):
        for key in session.scalars(select(SourceRecord.source_key).where(
                SourceRecord.source_id == source_id, SourceRecord.deleted.is_(True),
                or_(SourceRecord.last_changed > since, SourceRecord.quarantine_reason == ERASED_MARKER))):
            out.setdefault(key, None)
    return out


def _state_key(source: SourceConfig, target_cfg: PublishTarget, table: str) -> str:
    """The hub_state key of one write-back target: the source, its database (password left out) and table."""
    from connectors.publish.sql import target_url

    url = make_url(target_url(target_cfg, source)).render_as_string(hide_password=True)
    digest = hashlib.sha256(f"{source.name}\n{url}\n{table}".encode()).hexdigest()[:40]
    return f"{WRITEBACK_STATE}{digest}"


def _watermark(state: dict, lag: dt.timedelta) -> dt.datetime | None:
    """Where to read changes from: the last successful write-back less ``lag`` (``None``: unknown, compare all)."""
    try:
        return _utc(dt.datetime.fromisoformat(str(state["watermark"]))).astimezone(dt.timezone.utc) - lag
    except (KeyError, ValueError):
        return None


class _TouchedOnce:
    """:func:`_touched_records` read once per write-back pass and shared by its tables.

    A read from an earlier ``since`` covers any later one (it can only name more keys to compare). Every table of
    the pass takes the pass's start as its watermark, taken before this read: whatever commits after it, a
    steward's decision while the pass runs included, is read again next time.
    """

    def __init__(self) -> None:
        self.since: dt.datetime | None = None
        self.value: tuple[set[int], bool] = (set(), False)

    def __call__(self, session: Session, since: dt.datetime) -> tuple[set[int], bool]:
        if self.since is None or self.since > since:
            self.since, self.value = since, _touched_records(session, since)
        return self.value


def _publish_target(engine: Engine, source: SourceConfig, target_cfg: PublishTarget, *, full: bool,
                    started: dt.datetime, lag: dt.timedelta, summary: XrefPublishSummary,
                    touched: _TouchedOnce | None = None) -> None:
    """Bring one write-back table up to date, incrementally when the hub knows what it last wrote there.

    Full when the target was never written (no watermark), its table is missing or holds another number of rows
    than the hub left there (dropped, recreated, emptied, or written by someone else), or ``full`` is asked for.
    The watermark moves only after the table took every row, so a crash or a failed target resends next time.
    """
    from connectors.publish.sql_writeback import SqlWritebackTarget

    target = SqlWritebackTarget(target_cfg, source)
    state_key = _state_key(source, target_cfg, target.table.fullname)
    with Session(engine) as session:
        state = session.get(HubState, state_key)
        last = dict(state.value) if state is not None and isinstance(state.value, dict) else {}
        source_id = session.scalar(select(SourceSystem.id).where(SourceSystem.name == source.name))
    if source_id is None:  # nothing extracted from this source yet: leave its table as it is
        target.sync([], scope=[])  # (creates the table, as a first write-back always did)
        summary.mode[source.name] = "no records"
        summary.counts.setdefault(source.name, 0)
        summary.removed.setdefault(source.name, 0)
        return
    present = target.row_count()
    since = None if full or present is None or last.get("rows") != present else _watermark(last, lag)
    with Session(engine) as session:
        if since is not None:
            records, erased = (touched or _TouchedOnce())(session, since)
            if len(records) > max(FULL_FLOOR, FULL_SHARE * (present or 0)):
                since = None  # so much changed (a rebuild) that comparing every row is quicker
        if since is None:
            desired = _desired(session, source_id)
        else:
            desired = _changed(session, source_id, since, records, erased)
    rows = [r for r in desired.values() if r is not None]
    done = target.sync(rows, scope=None if since is None else list(desired))
    with Session(engine) as session, session.begin():
        value = {"source": source.name, "table": target.table.fullname, "watermark": started.isoformat(),
                 "rows": done.rows}
        state = session.get(HubState, state_key)
        if state is None:
            session.add(HubState(key=state_key, value=value, updated_at=utcnow()))
        else:
            state.value, state.updated_at = value, utcnow()
    summary.mode[source.name] = "incremental" if since is not None else "full"
    summary.counts[source.name] = summary.counts.get(source.name, 0) + done.written
    summary.removed[source.name] = summary.removed.get(source.name, 0) + done.removed


def publish_xref(engine: Engine, config: HubConfig, *, sources: Sequence[str] | None = None, full: bool = False,
                 lag: dt.timedelta = WATERMARK_LAG) -> XrefPublishSummary:
    """Keep every ``sql_writeback`` table in step with golden person ID, UPRN and current golden address per key.

    Incremental: only keys whose person, membership, restriction, erasure or deletion changed since the last
    successful write-back to that table (less ``lag``) are compared, and only rows that differ are written or
    deleted. A full comparison runs when asked (``full``, e.g. on a full rebuild), the first time, and when the
    table is not as the hub left it. A source whose database is down is reported in ``failed`` (its watermark
    stays, so the next run resends) and the others are still written.
    """
    summary = XrefPublishSummary()
    started = utcnow()  # before the hub is read: whatever commits later is newer than the watermark
    touched = _TouchedOnce()
    for source in config.sources:
        if sources is not None and source.name not in sources:
            continue
        for target_cfg in (t for t in source.publish if t.kind == "sql_writeback"):
            try:
                _publish_target(engine, source, target_cfg, full=full, started=started, lag=lag,
                                summary=summary, touched=touched)
            except DeliveryError as err:
                summary.failed[source.name] = str(err)
                log.warning("write-back for source %s failed: %s", source.name, err)
    return summary


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
