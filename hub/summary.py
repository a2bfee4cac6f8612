"""Figures that describe the hub after a run: rows per source, UPRN match rate, golden persons, queue, events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from schemas import ChangeEvent, EventDelivery, ExtractBatch, GoldenPerson, Property, ReviewTask, Run, SourceRecord, SourceSystem
from schemas.base import utcnow
from schemas.columns import Band


@dataclass
class SourceFigures:
    source: str
    kind: str
    records: int
    extracted: int
    loaded: int
    quarantined: int
    uprn_match_rate: float
    last_status: str


@dataclass
class HubFigures:
    """The summary printed after `mdh run` / `mdh demo` and by `mdh status`."""

    sources: list[SourceFigures] = field(default_factory=list)
    properties: int = 0
    golden_persons: int = 0
    merged_ids: int = 0
    review_queue: int = 0  # person pairs for stewards
    address_queue: int = 0  # records for the address custodian (LLPG improvement worklist)
    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    deliveries_pending: int = 0
    deliveries_delivered: int = 0
    deliveries_failed: int = 0
    uprn_match_rate: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def hub_figures(engine: Engine, *, run_id: int | None = None) -> HubFigures:
    """Figures for the whole hub; extract counts are those of ``run_id`` (or each source's latest extract)."""
    figs = HubFigures()
    with Session(engine) as s:
        matched = func.sum(case((SourceRecord.address_band == Band.AUTO, 1), else_=0))
        rows = s.execute(select(SourceSystem.id, SourceSystem.name, SourceSystem.kind, func.count(SourceRecord.id), matched)
                         .join(SourceRecord, (SourceRecord.source_id == SourceSystem.id) & SourceRecord.deleted.is_(False), isouter=True)
                         .group_by(SourceSystem.id, SourceSystem.name, SourceSystem.kind).order_by(SourceSystem.name)).all()
        total, total_matched = 0, 0
        for sid, name, kind, n, m in rows:
            q = select(ExtractBatch).where(ExtractBatch.source_id == sid)
            if run_id is not None:
                q = q.where(ExtractBatch.run_id == run_id)
            batch = s.scalar(q.order_by(ExtractBatch.id.desc()).limit(1))
            figs.sources.append(SourceFigures(
                source=name, kind=kind, records=n, extracted=batch.extracted if batch else 0,
                loaded=batch.loaded if batch else 0, quarantined=batch.quarantined if batch else 0,
                uprn_match_rate=(m or 0) / n if n else 0.0, last_status=batch.status if batch else "never"))
            total, total_matched = total + n, total_matched + (m or 0)
        figs.uprn_match_rate = total_matched / total if total else 0.0
        figs.properties = s.scalar(select(func.count()).select_from(Property)) or 0
        figs.golden_persons = s.scalar(select(func.count()).where(GoldenPerson.status == "active")) or 0
        figs.merged_ids = s.scalar(select(func.count()).where(GoldenPerson.status == "merged")) or 0
        figs.review_queue = s.scalar(select(func.count()).where(ReviewTask.status == "open",
                                                                ReviewTask.kind == "person_pair")) or 0
        figs.address_queue = s.scalar(select(func.count()).where(ReviewTask.status == "open",
                                                                 ReviewTask.kind == "address")) or 0
        figs.events = s.scalar(select(func.count()).select_from(ChangeEvent)) or 0
        figs.events_by_type = dict(s.execute(select(ChangeEvent.event_type, func.count()).group_by(ChangeEvent.event_type)).all())
        for status, n in s.execute(select(EventDelivery.status, func.count()).group_by(EventDelivery.status)).all():
            setattr(figs, f"deliveries_{status}", n)
    return figs


def finish_run(engine: Engine, run_id: int, *, status: str = "ok", error: str | None = None) -> HubFigures:
    """Close a run-log row with its status and summary figures."""
    figs = hub_figures(engine, run_id=run_id)
    with Session(engine) as s, s.begin():
        run = s.get(Run, run_id)
        run.status, run.finished_at, run.error = status, utcnow(), error
        run.summary = figs.as_dict()
    return figs
