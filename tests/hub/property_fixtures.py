"""Small hand-built hubs for the property tests: a tmp SQLite store, a few properties and records inserted directly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import Base, Lpi, Property, SourceRecord, SourceSystem
from schemas.config import HubConfig, parse_config
from schemas.property import DqFinding, GazetteerSeen, GoldenPropertyAttribute, PropertyXref

PROPERTY_TABLES = [t.__table__ for t in (PropertyXref, GoldenPropertyAttribute, DqFinding, GazetteerSeen)]


@dataclass
class Hub:
    engine: Engine
    config: HubConfig


def make_hub(tmp_path: Path, sources: list[tuple[str, str, int]], *, url: str = "sqlite:///hub.db") -> Hub:
    """A migrated hub (SQLite in ``tmp_path`` unless ``url`` names another) with ``(name, kind, trust)`` sources."""
    config = parse_config({
        "hub": url, "gazetteer": {"path": "g.csv"},
        "sources": [{"name": n, "kind": k, "url": f"{n}.csv", "key": "k", "trust": t,
                     "fields": {"full_name": "n", "address": "a"} if k == "person" else {"address": "a"}}
                    for n, k, t in sources],
    }, base_dir=tmp_path)
    engine = open_hub(config.hub)
    # Until the migration is regenerated with schemas/property.py, create the property tables directly.
    Base.metadata.create_all(engine, tables=PROPERTY_TABLES, checkfirst=True)
    with Session(engine) as s, s.begin():
        s.add_all([SourceSystem(name=n, kind=k, trust=t) for n, k, t in sources])
    return Hub(engine, config)


def add_property(engine: Engine, uprn: int, address: str, *, classification: str = "RD04", parent: int | None = None,
                 blpu_state: int = 2, logical_status: int = 1, postcode: str = "LS1 1AA",
                 other_lpis: tuple[tuple[int, str], ...] = (), **parts: Any) -> None:
    """A property with its approved LPI (``parts``: LPI columns such as ``pao_start_number``, ``street_description``)
    and any alternative/historical LPIs as ``(status, address)``."""
    with Session(engine) as s, s.begin():
        s.add(Property(uprn=uprn, parent_uprn=parent, classification=classification, blpu_state=blpu_state,
                       logical_status=logical_status, postcode=postcode, easting=430000.0, northing=433000.0))
        s.flush()
        s.add(Lpi(lpi_key=f"{uprn}L1", uprn=uprn, logical_status=1, address=address, postcode=postcode, **parts))
        for i, (status, text) in enumerate(other_lpis, start=2):
            s.add(Lpi(lpi_key=f"{uprn}L{i}", uprn=uprn, logical_status=status, address=text, postcode=postcode))


def add_record(engine: Engine, source: str, key: str, **fields: Any) -> int:
    """A source record of ``source`` (its kind taken from the source system)."""
    with Session(engine) as s, s.begin():
        system = s.scalar(select(SourceSystem).where(SourceSystem.name == source))
        rec = SourceRecord(source_id=system.id, source_key=key, kind=system.kind, raw={}, content_hash=key, **fields)
        s.add(rec)
        s.flush()
        return rec.id


def matched(uprn: int | None, band: str = "auto", score: float | None = 0.995, reason: str = "postcode+street+number agree",
            address_hash: str = "h") -> dict[str, Any]:
    """Address-resolution fields as ``resolve_addresses`` would leave them."""
    return {"matched_uprn": uprn, "address_band": band, "address_score": score, "address_reason": reason,
            "address_hash": address_hash}
