"""The hub schema migrates and round-trips on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store import open_hub, table_names
from schemas import Base, ChangeEvent, EventDelivery, GoldenPerson, Lpi, Property, SourceRecord, SourceSystem, Xref


def _round_trip(url: str) -> None:
    engine = open_hub(url)
    open_hub(url)  # migrating twice is a no-op
    assert set(Base.metadata.tables) <= set(table_names(engine))
    with Session(engine) as s, s.begin():
        src = SourceSystem(name="council_tax", trust=3)
        s.add(src)
        s.flush()
        rec = SourceRecord(source_id=src.id, source_key="A1", last_name="SMITH", raw={"k": "v"}, content_hash="h")
        s.add(rec)
        s.add(Property(uprn=100023336956, easting=530000.0, northing=180000.0))
        s.flush()
        s.add(Lpi(lpi_key="L1", uprn=100023336956, logical_status=1, address="1 HIGH STREET"))
        gp1, gp2 = GoldenPerson(last_name="SMITH"), GoldenPerson(last_name="JONES")
        s.add_all([gp1, gp2])
        s.flush()
        s.add(Xref(source_record_id=rec.id, person_id=gp1.person_id, uprn=100023336956, link_band="singleton"))
        ev = ChangeEvent(idempotency_key="new:1", event_type="new_person", person_id=gp1.person_id, payload={"a": 1})
        s.add(ev)
        s.flush()
        s.add(EventDelivery(event_id=ev.id, subscriber="housing"))
        first, second = gp1.person_id, gp2.person_id
    assert second > first
    with Session(engine) as s:
        assert s.scalar(select(Xref.uprn)) == 100023336956  # 12-digit UPRNs fit
        assert s.scalar(select(SourceRecord.raw)) == {"k": "v"}
    engine.dispose()


def test_schema_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'hub.db'}")


def test_schema_on_postgresql(postgres_url: str) -> None:
    _round_trip(postgres_url)


def test_golden_ids_are_never_reused_on_sqlite(tmp_path: Path) -> None:
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    with Session(engine) as s, s.begin():
        gp = GoldenPerson(last_name="A")
        s.add(gp)
        s.flush()
        gone = gp.person_id
        s.delete(gp)
    with Session(engine) as s, s.begin():
        fresh = GoldenPerson(last_name="B")
        s.add(fresh)
        s.flush()
        assert fresh.person_id > gone


def test_statistics_are_refreshed_after_bulk_writes_on_postgresql(postgres_url: str) -> None:
    """Tables changed by more than a tenth since last analysed are analysed (autovacuum may be off, or late), and
    only those; a table with more dead row versions than a fifth of its rows is vacuumed too. On SQLite there is
    nothing to do."""
    from sqlalchemy import insert, text, update

    from hub.store import refresh_statistics

    engine = open_hub(postgres_url)
    refresh_statistics(engine)  # whatever migrating left
    with Session(engine) as s, s.begin():
        src = SourceSystem(name="bulk", trust=1)
        s.add(src)
        s.flush()
        s.execute(insert(SourceRecord), [{"source_id": src.id, "source_key": f"K{i}", "raw": {}, "content_hash": "h"}
                                         for i in range(2000)])
    for _ in range(20):  # the server publishes table statistics within a second or so of the commit
        if "source_record" in (analysed := refresh_statistics(engine)):
            break
        time.sleep(0.25)
    assert "source_record" in analysed and "golden_person" not in analysed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                 "WHERE relname = 'source_record' AND schemaname = current_schema()")).scalar()
    assert "source_record" not in refresh_statistics(engine)  # nothing changed since

    def vacuumed() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                     "WHERE relname = 'source_record' AND schemaname = current_schema()")).scalar()

    assert not vacuumed()
    with Session(engine) as s, s.begin():  # every row rewritten once: as many dead row versions as live rows
        s.execute(update(SourceRecord).values(content_hash="h2"))
    for _ in range(20):
        if "source_record" in refresh_statistics(engine):
            break
        time.sleep(0.25)
    assert vacuumed()
    engine.dispose()


def test_statistics_refresh_is_a_no_op_on_sqlite(tmp_path: Path) -> None:
    from hub.store import refresh_statistics

    assert refresh_statistics(open_hub(f"sqlite:///{tmp_path / 'hub.db'}")) == []
