"""A golden person whose every source record was deleted at its source is retired, not left active and empty."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.golden import orphaned_persons
from hub.linking import link_people_stage
from schemas import ChangeEvent, GoldenPerson, SourceRecord, SourceSystem, Xref


def _add(engine, key: str, **fields) -> int:  # noqa: ANN001
    with Session(engine) as s, s.begin():
        sid = s.scalar(select(SourceSystem.id).where(SourceSystem.name == "ctax"))
        rec = SourceRecord(source_id=sid, source_key=key, raw={}, content_hash=key, **fields)
        s.add(rec)
        s.flush()
        return rec.id


def _status(engine, record_id: int) -> str:  # noqa: ANN001
    with Session(engine) as s:
        person_id = s.scalar(select(Xref.person_id).where(Xref.source_record_id == record_id))
        return s.get(GoldenPerson, person_id).status


def test_a_person_whose_records_were_all_deleted_is_retired_once(trusted_hub) -> None:  # noqa: ANN001
    engine, config = trusted_hub
    gone = _add(engine, "A1", first_name="ANN", last_name="SMITH", date_of_birth="1980-02-03", uprn=11)
    stays = _add(engine, "B1", first_name="BOB", last_name="JONES", date_of_birth="1970-05-06", uprn=22)
    link_people_stage(engine, config, run_id=None, full=True)
    with Session(engine) as s:
        gone_person = s.scalar(select(Xref.person_id).where(Xref.source_record_id == gone))
        assert s.scalar(select(func.count()).where(GoldenPerson.status == "active")) == 2
    with Session(engine) as s, s.begin():  # the council tax account left the source
        s.execute(update(SourceRecord).where(SourceRecord.id == gone).values(deleted=True))

    link_people_stage(engine, config, run_id=None, full=False)
    with Session(engine) as s:
        assert s.get(GoldenPerson, gone_person).status == "retired"
        assert _status(engine, stays) == "active"
        assert orphaned_persons(s) == set()
        events = s.scalar(select(func.count()).select_from(ChangeEvent))
    link_people_stage(engine, config, run_id=None, full=False)  # a rerun changes nothing
    with Session(engine) as s:
        assert s.get(GoldenPerson, gone_person).status == "retired"
        assert s.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_an_empty_person_left_by_an_earlier_run_is_retired_by_the_next(trusted_hub) -> None:  # noqa: ANN001
    engine, config = trusted_hub
    first = _add(engine, "A1", first_name="ANN", last_name="SMITH", date_of_birth="1980-02-03", uprn=11)
    link_people_stage(engine, config, run_id=None, full=True)
    with Session(engine) as s, s.begin():  # as a hub before this fix left it: the xref gone, the person active
        person_id = s.scalar(select(Xref.person_id).where(Xref.source_record_id == first))
        s.execute(update(SourceRecord).where(SourceRecord.id == first).values(deleted=True))
        s.query(Xref).filter(Xref.source_record_id == first).delete()
    with Session(engine) as s:
        assert orphaned_persons(s) == {person_id}
    _add(engine, "C1", first_name="CAT", last_name="BROWN", date_of_birth="1990-01-01", uprn=33)
    link_people_stage(engine, config, run_id=None, full=False)
    with Session(engine) as s:
        assert s.get(GoldenPerson, person_id).status == "retired"
        assert orphaned_persons(s) == set()
