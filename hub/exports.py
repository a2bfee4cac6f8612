"""Exports for back-office systems and analysts: the cross-reference file."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import SourceRecord, SourceSystem, Xref

XREF_COLUMNS = ("source", "source_key", "person_id", "uprn")


def write_xref(hub_url: str, out: Path) -> int:
    """Write ``source,source_key,person_id,uprn`` for every live source record; returns rows written.

    Person records carry their golden person ID; property records carry only their UPRN.
    """
    engine = open_hub(hub_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    stmt = (select(SourceSystem.name, SourceRecord.source_key, Xref.person_id,
                   Xref.uprn, SourceRecord.matched_uprn, SourceRecord.uprn, SourceRecord.address_band)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(Xref, Xref.source_record_id == SourceRecord.id, isouter=True)
            .where(SourceRecord.deleted.is_(False))
            .order_by(SourceSystem.name, SourceRecord.source_key))
    n = 0
    tmp = out.with_suffix(out.suffix + ".tmp")
    with Session(engine) as session, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(XREF_COLUMNS)
        for source, key, person_id, xref_uprn, matched, held, band in session.execute(stmt):
            uprn = xref_uprn if xref_uprn is not None else (held if held is not None else (matched if band == "auto" else None))
            writer.writerow([source, key, "" if person_id is None else person_id, "" if uprn is None else uprn])
            n += 1
    tmp.replace(out)
    return n
