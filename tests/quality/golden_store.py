"""A hand-built golden store: two persons, a merged ID, three source records; optionally broken."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import GoldenPerson, SourceRecord, SourceSystem, Xref
from schemas.config import load_config
from tests.quality.helpers import new_run


def _record(s: Session, system: SourceSystem, key: str) -> SourceRecord:
    rec = SourceRecord(source_id=system.id, source_key=key, kind="person", raw={}, content_hash=key)
    s.add(rec)
    s.flush()
    return rec


def build_store(council: Path, *, broken: bool):  # noqa: ANN202 - (config, engine, run id)
    config = load_config(council)
    engine = open_hub(config.hub)
    with Session(engine) as s, s.begin():
        system = SourceSystem(name="council_tax", kind="person", trust=3)
        s.add(system)
        s.flush()
        s.add_all([GoldenPerson(person_id=1, status="active", nino="AB123456C", date_of_birth="1980-02-03"),
                   GoldenPerson(person_id=2, status="merged", redirect_to=1)])
        s.flush()
        s.add_all([Xref(source_record_id=_record(s, system, "A1").id, person_id=1, link_band="auto"),
                   Xref(source_record_id=_record(s, system, "A2").id, person_id=1, link_band="auto")])
        if broken:
            s.add_all([GoldenPerson(person_id=3, status="active"),  # no source record: an orphan
                       GoldenPerson(person_id=4, status="merged"), GoldenPerson(person_id=5, status="merged")])
            s.flush()
            s.get(GoldenPerson, 4).redirect_to, s.get(GoldenPerson, 5).redirect_to = 5, 4  # a cycle
            s.add(Xref(source_record_id=_record(s, system, "A3").id, person_id=2, link_band="auto"))  # to a merged ID
    return config, engine, new_run(engine)
