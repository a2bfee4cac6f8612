"""Loading a source's extract into the hub store: content-hash diff, quarantine, deletes and reconciliation."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from connectors import ConnectorError
from connectors.pull import archive_drops, extract, source_keys
from connectors.validate import CONTENT_HASH, RAW, SOURCE_KEY, ValidatedChunk, validate_chunk
from schemas import ExtractBatch, QuarantinedRow, SourceRecord, SourceSystem
from schemas.sources import ERASED_MARKER
from schemas.base import utcnow
from schemas.columns import PersonRecord
from schemas.config import SourceConfig

log = logging.getLogger(__name__)

RECORD_FIELDS = tuple(f for f in PersonRecord.CANONICAL_FIELDS if f not in PersonRecord.ADDRESS_PART_FIELDS)
ID_CHUNK = 500


@dataclass
class ExtractSummary:
    """Reconciliation of one source's extract: extracted = loaded + quarantined."""

    source: str
    status: str = "ok"
    mode: str = "full"
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    error: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.extracted == self.loaded + self.quarantined


def ensure_source_system(session: Session, cfg: SourceConfig) -> SourceSystem:
    """The store's row for a configured source, created or brought up to date."""
    system = session.scalar(select(SourceSystem).where(SourceSystem.name == cfg.name))
    if system is None:
        system = SourceSystem(name=cfg.name, kind=cfg.kind, trust=cfg.trust)
        session.add(system)
        session.flush()
    system.kind, system.trust = cfg.kind, cfg.trust
    return system


def _record_values(row: dict, now: dt.datetime) -> dict:
    values = {f: row.get(f) for f in RECORD_FIELDS}
    values["uprn"] = int(values["uprn"]) if values.get("uprn") else None
    values.update(
        raw=row[RAW], content_hash=row[CONTENT_HASH], source_updated_at=row.get("source_updated_at"),
        attributes=row.get("attributes"), last_seen=now, last_changed=now, deleted=False, quarantine_reason=None,
    )
    return values


def _load_chunk(session: Session, system: SourceSystem, chunk: ValidatedChunk, existing: dict[str, tuple[int, str, bool]],
                summary: ExtractSummary, run_id: int | None, erased: set[str]) -> None:
    now = utcnow()
    inserts, updates, unchanged_ids = [], [], []
    recs = chunk.records
    # Pandas marks a missing cell NaN; SQLite quietly stores NULL, PostgreSQL rejects NaN in a JSON column.
    recs = recs.astype(object).where(recs.notna(), None)
    cols = list(recs.columns)
    for values_tuple in zip(*(recs[c].tolist() for c in cols)):  # far cheaper than to_dict(orient="records")
        row = dict(zip(cols, values_tuple))
        key = row[SOURCE_KEY]
        values = _record_values(row, now)
        known = existing.get(key)
        if key in erased:
            unchanged_ids.append(known[0])  # erased under GDPR: the hub keeps it out, whatever the source says
            continue
        if known is None:
            inserts.append({"source_id": system.id, "source_key": key, "kind": system.kind, "first_seen": now, **values})
        elif known[1] != row[CONTENT_HASH] or known[2]:
            updates.append({"id": known[0], **values})
        else:
            unchanged_ids.append(known[0])
    if inserts:
        # Core executemany: the ORM bulk path splits rows by which columns are NULL, one statement per group.
        session.connection().execute(insert(SourceRecord.__table__), inserts)
    if updates:
        session.execute(update(SourceRecord), updates)
    for start in range(0, len(unchanged_ids), ID_CHUNK):
        ids = unchanged_ids[start : start + ID_CHUNK]
        session.execute(update(SourceRecord).where(SourceRecord.id.in_(ids),
                                                   SourceRecord.quarantine_reason.is_distinct_from(ERASED_MARKER))
                        .values(last_seen=now, quarantine_reason=None))
    if inserts:
        keys = [r["source_key"] for r in inserts]
        for start in range(0, len(keys), ID_CHUNK):
            part = keys[start : start + ID_CHUNK]
            for rid, key, digest in session.execute(
                select(SourceRecord.id, SourceRecord.source_key, SourceRecord.content_hash)
                .where(SourceRecord.source_id == system.id, SourceRecord.source_key.in_(part))
            ):
                existing[key] = (rid, digest, False)
    q = chunk.quarantined
    if len(q):
        session.execute(insert(QuarantinedRow), [
            {"run_id": run_id, "source_id": system.id, "source_key": r["source_key"],
             "row_number": int(r["row_number"]) if pd.notna(r["row_number"]) else None,
             "field": r["field"], "reason": r["reason"], "raw": r["raw"]}
            for r in q.to_dict(orient="records")
        ])
        for r in q.to_dict(orient="records"):
            known = existing.get(r["source_key"]) if r["source_key"] else None
            if known is not None:
                session.execute(update(SourceRecord).where(SourceRecord.id == known[0])
                                .values(quarantine_reason=f"{r['field']}: {r['reason']}"))
            summary.quarantine_reasons[r["reason"]] = summary.quarantine_reasons.get(r["reason"], 0) + 1
    summary.inserted += len(inserts)
    summary.updated += len(updates)
    summary.unchanged += len(unchanged_ids)
    summary.loaded += len(chunk.records)
    summary.quarantined += len(q)
    summary.extracted += len(chunk.records) + len(q)


def ingest_source(engine: Engine, cfg: SourceConfig, *, run_id: int | None = None, full: bool = False,
                  chunksize: int = 50_000, progress: Callable[[int], None] | None = None) -> ExtractSummary:
    """Extract one source and load it into the hub, committing chunk by chunk so a failure can resume.

    A watermark source loads rows changed since its last watermark (``full`` ignores it); a source without
    one is diffed by content hash against the store, and keys missing from the full extract are marked
    deleted. A CSV drop folder loads each new file once, then archives it.
    """
    summary = ExtractSummary(source=cfg.name)
    with Session(engine) as session, session.begin():
        system = ensure_source_system(session, cfg)
        system_id, watermark = system.id, (None if full else system.watermark)
        batch = ExtractBatch(run_id=run_id, source_id=system_id, mode="", status="running")
        session.add(batch)
        session.flush()
        batch_id = batch.id
    drop_folder = cfg.is_file and Path(cfg.url).is_dir()
    summary.mode = "files" if drop_folder else ("watermark" if cfg.updated_at and watermark else "full")
    with Session(engine) as session:
        existing = {k: (i, h, d) for i, k, h, d in session.execute(
            select(SourceRecord.id, SourceRecord.source_key, SourceRecord.content_hash, SourceRecord.deleted)
            .where(SourceRecord.source_id == system_id))}
    with Session(engine) as session:
        erased = set(session.scalars(select(SourceRecord.source_key).where(
            SourceRecord.source_id == system_id, SourceRecord.quarantine_reason == ERASED_MARKER)))
    seen: set[str] = set()  # keys loaded in this extract (duplicate detection)
    present: set[str] = set()  # keys present in this extract, loaded or quarantined (delete detection)
    try:
        for raw_chunk in extract(cfg, watermark=watermark, chunksize=chunksize):
            validated = validate_chunk(raw_chunk.rows, cfg, seen_keys=seen)
            present.update(validated.records[SOURCE_KEY])
            present.update(k for k in validated.quarantined["source_key"] if isinstance(k, str))
            with Session(engine) as session, session.begin():
                system = session.get(SourceSystem, system_id)
                _load_chunk(session, system, validated, existing, summary, run_id, erased)
                if raw_chunk.watermark is not None:
                    # Chunks arrive in watermark order, so the newest chunk's mark is the highest; comparing the
                    # strings here would stall an integer watermark ("9" > "10").
                    system.watermark = raw_chunk.watermark
            if raw_chunk.files:
                archive_drops(cfg, raw_chunk.files)
            if progress:
                progress(len(raw_chunk.rows))
        if summary.mode == "full" and not drop_folder:
            summary.deleted = _mark_deleted(engine, system_id, existing, present)
        elif summary.mode == "watermark":
            # Hard deletes never show up above the watermark: compare the source's keys with the hub's.
            still_there: set[str] = set()
            for keys in source_keys(cfg):
                still_there.update(keys)
            summary.deleted = _mark_deleted(engine, system_id, existing, still_there | present)
        summary.status = "ok"
    except ConnectorError as err:
        summary.status, summary.error = "failed", str(err)
        log.warning("extract of source %s failed: %s", cfg.name, err)
    with Session(engine) as session, session.begin():
        batch = session.get(ExtractBatch, batch_id)
        for name in ("status", "mode", "extracted", "loaded", "quarantined", "inserted", "updated", "unchanged", "deleted", "error"):
            setattr(batch, name, getattr(summary, name))
        batch.finished_at = utcnow()
        session.get(SourceSystem, system_id).last_extract_at = batch.finished_at
    return summary


def _mark_deleted(engine: Engine, system_id: int, existing: dict[str, tuple[int, str, bool]], seen: set[str]) -> int:
    gone = [rid for key, (rid, _h, deleted) in existing.items() if key not in seen and not deleted]
    now = utcnow()
    with Session(engine) as session, session.begin():
        for start in range(0, len(gone), ID_CHUNK):
            session.execute(update(SourceRecord).where(SourceRecord.id.in_(gone[start : start + ID_CHUNK]))
                            .values(deleted=True, last_changed=now))
    return len(gone)
