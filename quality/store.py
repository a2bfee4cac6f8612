"""Reading what the suites validate from the hub store: a source's extract, resolved addresses, golden records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from schemas import ExtractBatch, GoldenPerson, Property, QuarantinedRow, Run, SourceRecord, SourceSystem, Xref
from schemas.columns import PersonRecord
from schemas.config import SourceConfig

# Canonical fields as stored on a source record (address parts are joined into ``address`` at the boundary).
STORED_FIELDS = tuple(f for f in PersonRecord.CANONICAL_FIELDS if f not in PersonRecord.ADDRESS_PART_FIELDS)
MAX_REDIRECT_HOPS = 50
ACTIVE = "active"


@dataclass(frozen=True)
class BatchStats:
    """Reconciliation figures of one source's extract in one run."""

    status: str
    mode: str
    extracted: int
    loaded: int
    quarantined: int
    started_at: dt.datetime | None = None

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.extracted if self.extracted else 0.0


@dataclass
class SourceExtract:
    """The rows of one source loaded in one run, with the batch figures and the fields the source maps."""

    source: str
    run_id: int
    frame: pd.DataFrame
    mapped_fields: tuple[str, ...]
    batch: BatchStats | None
    live_records: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def mapped_fields(cfg: SourceConfig) -> tuple[str, ...]:
    """Stored canonical fields the source fills: its mapped fields, with address parts counted as ``address``."""
    mapped = set(cfg.fields)
    if mapped & set(PersonRecord.ADDRESS_PART_FIELDS):
        mapped.add(PersonRecord.address)
    return tuple(f for f in STORED_FIELDS if f in mapped)


def _source_id(session: Session, name: str) -> int | None:
    return session.scalar(select(SourceSystem.id).where(SourceSystem.name == name))


def source_extract(engine: Engine, cfg: SourceConfig, run_id: int) -> SourceExtract:
    """Rows of ``cfg``'s source loaded (inserted, updated or seen unchanged) in hub run ``run_id``.

    Rows are those whose ``last_seen`` is at or after the start of the run's extract batch. Without a
    batch in that run (the extract never ran) the frame is empty.
    """
    cols = [SourceRecord.id.label("record_id"), SourceRecord.source_key, *[getattr(SourceRecord, f) for f in STORED_FIELDS],
            SourceRecord.matched_uprn, SourceRecord.address_band]
    with Session(engine) as s:
        sid = _source_id(s, cfg.name)
        batch_row = None if sid is None else s.scalar(
            select(ExtractBatch).where(ExtractBatch.source_id == sid, ExtractBatch.run_id == run_id)
            .order_by(ExtractBatch.id.desc()).limit(1))
        batch = None if batch_row is None else BatchStats(
            status=batch_row.status, mode=batch_row.mode, extracted=batch_row.extracted, loaded=batch_row.loaded,
            quarantined=batch_row.quarantined, started_at=batch_row.started_at)
        rows: list = []
        live = 0
        if sid is not None:
            live = s.scalar(select(func.count()).where(SourceRecord.source_id == sid, SourceRecord.deleted.is_(False))) or 0
            if batch is not None:
                rows = s.execute(select(*cols).where(SourceRecord.source_id == sid, SourceRecord.deleted.is_(False),
                                                     SourceRecord.last_seen >= batch_row.started_at)).all()
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    return SourceExtract(source=cfg.name, run_id=run_id, frame=frame, mapped_fields=mapped_fields(cfg),
                         batch=batch, live_records=live)


def address_frame(engine: Engine, source: str) -> pd.DataFrame:
    """Every live record of ``source`` with its address match and whether the UPRNs exist in the gazetteer."""
    matched = Property.__table__.alias("matched_property")
    held = Property.__table__.alias("held_property")
    stmt = (select(SourceRecord.source_key, SourceRecord.address, SourceRecord.postcode, SourceRecord.uprn,
                   SourceRecord.matched_uprn, SourceRecord.address_band, SourceRecord.address_score,
                   matched.c.uprn.label("gazetteer_uprn"), held.c.uprn.label("held_uprn_in_gazetteer"))
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(matched, matched.c.uprn == SourceRecord.matched_uprn, isouter=True)
            .join(held, held.c.uprn == SourceRecord.uprn, isouter=True)
            .where(SourceSystem.name == source, SourceRecord.deleted.is_(False)))
    with Session(engine) as s:
        rows = s.execute(stmt).all()
    return pd.DataFrame(rows, columns=["source_key", "address", "postcode", "uprn", "matched_uprn", "address_band",
                                       "address_score", "gazetteer_uprn", "held_uprn_in_gazetteer"])


def resolve_redirects(persons: pd.DataFrame) -> pd.DataFrame:
    """Add ``final_id``, ``final_status`` and ``chain_length``: where each ID's redirect chain ends.

    Vectorised hop by hop; a cycle or a chain longer than ``MAX_REDIRECT_HOPS`` ends with status ``cycle``.

    Examples:
        >>> p = pd.DataFrame({"person_id": [1, 2, 3], "status": ["merged", "merged", "active"],
        ...                   "redirect_to": [2, 3, None]})
        >>> resolve_redirects(p)[["final_id", "final_status", "chain_length"]].values.tolist()
        [[3, 'active', 2], [3, 'active', 1], [3, 'active', 0]]
    """
    out = persons.copy()
    redirect = dict(zip(out["person_id"], out["redirect_to"]))
    status = dict(zip(out["person_id"], out["status"]))
    current = out["person_id"].astype("Int64")
    hops = pd.Series(0, index=out.index)
    for _ in range(MAX_REDIRECT_HOPS):
        nxt = current.map(redirect).astype("Float64").astype("Int64")
        moving = nxt.notna()
        if not moving.any():
            break
        current = current.where(~moving, nxt)
        hops = hops + moving.astype(int)
    out["final_id"] = current.astype("Int64")
    out["final_status"] = current.map(status).where(current.map(redirect).isna(), "cycle").fillna("missing")
    out["chain_length"] = hops
    return out


def golden_frames(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Golden persons (with xref counts and where their redirects end) and cross-references (with statuses)."""
    with Session(engine) as s:
        xref_counts = (select(Xref.person_id, func.count().label("xref_count")).group_by(Xref.person_id).subquery())
        persons = s.execute(select(GoldenPerson.person_id, GoldenPerson.status, GoldenPerson.redirect_to,
                                   GoldenPerson.nino, GoldenPerson.date_of_birth, GoldenPerson.date_of_death,
                                   GoldenPerson.postcode, GoldenPerson.uprn,
                                   func.coalesce(xref_counts.c.xref_count, 0).label("xref_count"))
                            .join(xref_counts, xref_counts.c.person_id == GoldenPerson.person_id, isouter=True)).all()
        xrefs = s.execute(select(Xref.source_record_id, Xref.person_id, GoldenPerson.status.label("person_status"),
                                 SourceSystem.name.label("source"), SourceRecord.deleted.label("record_deleted"),
                                 SourceRecord.kind.label("record_kind"), Xref.link_band)
                          .join(GoldenPerson, GoldenPerson.person_id == Xref.person_id, isouter=True)
                          .join(SourceRecord, SourceRecord.id == Xref.source_record_id, isouter=True)
                          .join(SourceSystem, SourceSystem.id == SourceRecord.source_id, isouter=True)).all()
    pframe = pd.DataFrame(persons, columns=["person_id", "status", "redirect_to", "nino", "date_of_birth",
                                            "date_of_death", "postcode", "uprn", "xref_count"])
    pframe["redirect_to"] = pframe["redirect_to"].astype("Int64")
    xframe = pd.DataFrame(xrefs, columns=["source_record_id", "person_id", "person_status", "source",
                                          "record_deleted", "record_kind", "link_band"])
    return resolve_redirects(pframe), xframe


def quarantine_reasons(engine: Engine, *, run_id: int | None = None) -> pd.DataFrame:
    """Quarantined rows counted by source, field and reason (one run, or all runs)."""
    stmt = (select(SourceSystem.name.label("source"), QuarantinedRow.field, QuarantinedRow.reason,
                   func.count().label("rows"))
            .join(SourceSystem, SourceSystem.id == QuarantinedRow.source_id)
            .group_by(SourceSystem.name, QuarantinedRow.field, QuarantinedRow.reason))
    if run_id is not None:
        stmt = stmt.where(QuarantinedRow.run_id == run_id)
    with Session(engine) as s:
        rows = s.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["source", "field", "reason", "rows"])
    return frame.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def runs(engine: Engine) -> pd.DataFrame:
    """The run log: id, kind, status, start and finish."""
    with Session(engine) as s:
        rows = s.execute(select(Run.id, Run.kind, Run.status, Run.started_at, Run.finished_at).order_by(Run.id)).all()
    return pd.DataFrame(rows, columns=["run_id", "kind", "status", "started_at", "finished_at"])
