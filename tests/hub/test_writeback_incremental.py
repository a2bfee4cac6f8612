"""Tests for the incremental write-back of hub/writeback.py (publish_xref): only what changed since the last
successful write-back to a table is written, and nothing is lost when the target or the hub fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, delete, select, update
from sqlalchemy.orm import Session

from connectors.publish import DeliveryError, WritebackRow
from connectors.publish.sql_writeback import SqlWritebackTarget, WritebackSync, writeback_table
from hub.writeback import XrefPublishSummary, publish_xref
from hub.store import open_hub
from schemas import ExtractBatch, GoldenPerson, SourceRecord, SourceSystem, Xref
from schemas.base import utcnow
from schemas.config import HubConfig, parse_config
from tests.conftest_servers import pg_fresh_url  # noqa: F401 - fixture

TABLE = "golden_xref"
NO_LAG = dt.timedelta(0)  # the tests' changes follow each publish within seconds: no safety lag, or it hides them


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The hub store on SQLite (default) and on PostgreSQL (production)."""
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_fresh_url")
    engine = open_hub(url)
    yield engine
    engine.dispose()


def _config(tmp_path: Path) -> HubConfig:
    sources = [{"name": "housing", "url": f"sqlite:///{tmp_path / 'housing.db'}", "table": "people", "key": "ref",
                "fields": {"full_name": "name"}, "publish": [{"kind": "sql_writeback", "table": TABLE}]}]
    return parse_config({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"}, "sources": sources},
                        base_dir=tmp_path)


def _publish(hub: Engine, cfg: HubConfig, **kwargs: Any) -> XrefPublishSummary:
    return publish_xref(hub, cfg, lag=NO_LAG, **kwargs)


def _setup(hub: Engine) -> None:
    """Keys H1-H6 of persons 1-6, all stamped a day ago: 4 is restricted, 5 was merged into 3 long ago."""
    old = utcnow() - dt.timedelta(days=1)
    with Session(hub) as s, s.begin():
        housing = SourceSystem(name="housing")
        s.add(housing)
        s.flush()
        s.add_all(GoldenPerson(person_id=p, uprn=100 * p, address=f"{p} High St", postcode=f"LS{p} 1AA",
                               restricted=p == 4, created_at=old, updated_at=old) for p in range(1, 7))
        s.flush()
        s.get(GoldenPerson, 5).status, s.get(GoldenPerson, 5).redirect_to = "merged", 3
        records = [SourceRecord(source_id=housing.id, source_key=f"H{p}", raw={}, content_hash="h",
                                last_seen=old, last_changed=old) for p in range(1, 7)]
        s.add_all(records)
        s.flush()
        s.add_all(Xref(source_record_id=r.id, person_id=p, link_band="auto", linked_at=old)
                  for p, r in enumerate(records, start=1))


def _table(cfg: HubConfig) -> dict[str, tuple]:
    engine = create_engine(cfg.source("housing").url)
    tbl = writeback_table(TABLE)
    with engine.connect() as conn:
        rows = conn.execute(select(tbl.c.source_key, tbl.c.golden_person_id, tbl.c.uprn, tbl.c.address,
                                   tbl.c.hub_updated_at)).all()
    engine.dispose()
    return {key: tuple(rest) for key, *rest in rows}


def _record_id(s: Session, key: str) -> int:
    return s.scalar(select(SourceRecord.id).where(SourceRecord.source_key == key))


def _move(hub: Engine, person_id: int, uprn: int) -> None:
    """Survivorship moved the person: new address, stamped now."""
    with Session(hub) as s, s.begin():
        person = s.get(GoldenPerson, person_id)
        person.uprn, person.address, person.updated_at = uprn, f"{uprn} New Rd", utcnow()


def test_one_change_reaches_the_target_and_nothing_else_is_rewritten(tmp_path: Path, hub: Engine) -> None:
    cfg = _config(tmp_path)
    _setup(hub)
    first = _publish(hub, cfg)
    assert first.mode == {"housing": "full"} and first.counts == {"housing": 6} and not first.failed
    before = _table(cfg)
    assert before["H4"][:3] == (4, None, None)  # restricted: the ID, not the address
    assert before["H5"][:3] == (3, 300, "3 High St")  # merged away: the survivor's

    _move(hub, 1, 111)
    with Session(hub) as s, s.begin():  # a new record joins person 2 (linking writes its cross-reference now)
        record = SourceRecord(source_id=s.scalar(select(SourceSystem.id)), source_key="H7", raw={}, content_hash="h")
        s.add(record)
        s.flush()
        s.add(Xref(source_record_id=record.id, person_id=2, link_band="auto", linked_at=utcnow()))
    tampered = utcnow() - dt.timedelta(days=3)
    engine = create_engine(cfg.source("housing").url)
    tbl = writeback_table(TABLE)
    with engine.begin() as conn:  # someone edits a row behind the hub's back (the same number of rows)
        conn.execute(update(tbl).where(tbl.c.source_key == "H6").values(address="edited", hub_updated_at=tampered))
    engine.dispose()

    second = _publish(hub, cfg)
    assert second.mode == {"housing": "incremental"}
    assert second.counts == {"housing": 2} and second.removed == {"housing": 0}
    after = _table(cfg)
    assert after["H1"][:3] == (1, 111, "111 New Rd") and after["H1"][3] != before["H1"][3]
    assert after["H7"][:3] == (2, 200, "2 High St")
    for key in ("H2", "H3", "H4", "H5"):
        assert after[key] == before[key]  # untouched rows are not rewritten: hub_updated_at stays
    assert after["H6"][2] == "edited"  # only keys the hub changed are compared: the work follows the change

    third = _publish(hub, cfg)  # nothing changed since
    assert third.mode == {"housing": "incremental"} and third.counts == {"housing": 0} and _table(cfg) == after

    repaired = _publish(hub, cfg, full=True)  # a full rebuild compares every row and repairs the edit
    assert repaired.mode == {"housing": "full"} and repaired.counts == {"housing": 1}
    assert _table(cfg)["H6"][:3] == (6, 600, "6 High St")


def test_merge_rewrites_the_merged_away_keys(tmp_path: Path, hub: Engine) -> None:
    cfg = _config(tmp_path)
    _setup(hub)
    _publish(hub, cfg)
    now = utcnow()
    with Session(hub) as s, s.begin():
        # Person 3 merges into 1 as golden.apply_clusters does it: the absorbed person is stamped, older redirects
        # into it (5) are re-pointed to the survivor unstamped, and the records in scope are re-linked.
        s.execute(update(GoldenPerson).where(GoldenPerson.person_id == 3)
                  .values(status="merged", redirect_to=1, updated_at=now))
        s.execute(update(GoldenPerson).where(GoldenPerson.redirect_to == 3).values(redirect_to=1))
        s.execute(update(Xref).where(Xref.source_record_id == _record_id(s, "H3")).values(person_id=1, linked_at=now))
        # Person 6 merges into 2, stamped on the golden person only (its key's cross-reference is left as it was).
        s.execute(update(GoldenPerson).where(GoldenPerson.person_id == 6)
                  .values(status="merged", redirect_to=2, updated_at=now))
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "incremental"} and summary.counts == {"housing": 3}
    rows = _table(cfg)
    assert rows["H3"][:3] == (1, 100, "1 High St")
    assert rows["H5"][:3] == (1, 100, "1 High St")  # two merges away, through an unstamped redirect
    assert rows["H6"][:3] == (2, 200, "2 High St")


def test_deleted_record_and_erased_person_are_removed(tmp_path: Path, hub: Engine) -> None:
    from api.gdpr import erase_person

    cfg = _config(tmp_path)
    _setup(hub)
    _publish(hub, cfg)
    now = utcnow()
    with Session(hub) as s, s.begin():  # H2 left its source: the extract marks it deleted, linking drops its xref
        housing = s.scalar(select(SourceSystem.id))
        s.add(ExtractBatch(source_id=housing, mode="full", status="ok", deleted=1, started_at=now, finished_at=now))
        record_id = _record_id(s, "H2")
        s.execute(update(SourceRecord).where(SourceRecord.id == record_id).values(deleted=True, last_changed=now))
        s.execute(delete(Xref).where(Xref.source_record_id == record_id))
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "incremental"} and summary.removed == {"housing": 1}
    assert "H2" not in _table(cfg) and len(_table(cfg)) == 5

    with Session(hub) as s, s.begin():  # erasure: the record keeps no stamp and loses its cross-reference
        erase_person(s, 3, actor="dpo", reason="art. 17 request")  # 3 and 5, merged into it
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "incremental"} and summary.removed == {"housing": 2}
    assert sorted(_table(cfg)) == ["H1", "H4", "H6"]
    assert _publish(hub, cfg).removed == {"housing": 0}


def test_failed_target_keeps_its_watermark_and_gets_everything_next_time(tmp_path: Path, hub: Engine,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    _setup(hub)
    _publish(hub, cfg)
    _move(hub, 1, 111)
    _move(hub, 2, 222)
    real_sync = SqlWritebackTarget.sync

    def half_then_down(self: SqlWritebackTarget, rows: Sequence[WritebackRow], *,
                       scope: Sequence[str] | None = None) -> WritebackSync:
        real_sync(self, [r for r in rows if r.source_key == "H1"], scope=["H1"])
        raise DeliveryError("subscriber housing: write-back to table golden_xref failed: connection lost")

    monkeypatch.setattr(SqlWritebackTarget, "sync", half_then_down)
    failed = _publish(hub, cfg)
    assert "connection lost" in failed.failed["housing"] and "housing" not in failed.counts
    monkeypatch.setattr(SqlWritebackTarget, "sync", real_sync)
    _move(hub, 3, 333)  # and another change while the target was down

    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "incremental"} and not summary.failed
    rows = _table(cfg)
    assert [rows[k][1] for k in ("H1", "H2", "H3", "H5")] == [111, 222, 333, 333]
    assert summary.counts == {"housing": 3}  # H2, H3 and H5; H1 was taken before the target went down


@pytest.mark.parametrize("crash", ["before the target write", "after the target write"])
def test_hub_killed_around_the_target_write_loses_nothing(tmp_path: Path, hub: Engine, crash: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    _setup(hub)
    _publish(hub, cfg)
    _move(hub, 1, 111)  # committed in the hub...
    real_sync = SqlWritebackTarget.sync

    def killed(self: SqlWritebackTarget, rows: Sequence[WritebackRow], *,
               scope: Sequence[str] | None = None) -> WritebackSync:
        if crash == "after the target write":
            real_sync(self, rows, scope=scope)
        raise SystemExit("hub killed")  # ...and the watermark is never recorded

    monkeypatch.setattr(SqlWritebackTarget, "sync", killed)
    with pytest.raises(SystemExit):
        _publish(hub, cfg)
    monkeypatch.setattr(SqlWritebackTarget, "sync", real_sync)
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "incremental"}
    assert summary.counts == {"housing": 1 if crash == "before the target write" else 0}  # sent once in effect
    assert _table(cfg)["H1"][1] == 111
    _move(hub, 2, 222)
    assert _publish(hub, cfg).counts == {"housing": 1} and _table(cfg)["H2"][1] == 222


def test_table_dropped_or_emptied_is_written_in_full(tmp_path: Path, hub: Engine) -> None:
    cfg = _config(tmp_path)
    _setup(hub)
    assert _publish(hub, cfg).mode == {"housing": "full"}
    full = {k: v[:3] for k, v in _table(cfg).items()}
    engine = create_engine(cfg.source("housing").url)
    tbl = writeback_table(TABLE)
    with engine.begin() as conn:
        conn.execute(delete(tbl))  # emptied (or recreated) behind the hub's back
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "full"} and summary.counts == {"housing": 6}
    with engine.begin() as conn:
        tbl.drop(conn)
    engine.dispose()
    summary = _publish(hub, cfg)
    assert summary.mode == {"housing": "full"} and summary.counts == {"housing": 6}
    assert {k: v[:3] for k, v in _table(cfg).items()} == full


def test_one_read_of_what_changed_serves_every_table_and_a_change_during_the_pass_is_not_lost(
        tmp_path: Path, hub: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sources, a write-back table each: one pass reads the hub's changes once. A steward's decision that
    commits while the pass runs, after that read, reaches both tables on the next pass."""
    import hub.writeback as wb

    sources = [{"name": name, "url": f"sqlite:///{tmp_path / f'{name}.db'}", "table": "people", "key": "ref",
                "fields": {"full_name": "name"}, "publish": [{"kind": "sql_writeback", "table": TABLE}]}
               for name in ("housing", "ctax")]
    cfg = parse_config({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"}, "sources": sources},
                       base_dir=tmp_path)
    _setup(hub)
    with Session(hub) as s, s.begin():
        ctax = SourceSystem(name="ctax")
        s.add(ctax)
        s.flush()
        record = SourceRecord(source_id=ctax.id, source_key="C2", raw={}, content_hash="h")
        s.add(record)
        s.flush()
        s.add(Xref(source_record_id=record.id, person_id=2, link_band="auto", linked_at=utcnow() - dt.timedelta(days=1)))
    assert _publish(hub, cfg).mode == {"housing": "full", "ctax": "full"}

    reads = []
    real = wb._touched_records

    def read_then_a_steward_moves_person_2(session: Session, since: dt.datetime):
        reads.append(since)
        found = real(session, since)
        if len(reads) == 1:
            _move(hub, 2, 222)  # commits in its own transaction, after the pass read what changed
        return found

    monkeypatch.setattr(wb, "_touched_records", read_then_a_steward_moves_person_2)
    _move(hub, 1, 111)
    second = _publish(hub, cfg)
    assert len(reads) == 1 and second.mode == {"housing": "incremental", "ctax": "incremental"}
    assert _table(cfg)["H1"][:3] == (1, 111, "111 New Rd")
    third = _publish(hub, cfg)
    assert third.counts == {"housing": 1, "ctax": 1}
    assert _table(cfg)["H2"][:3] == (2, 222, "222 New Rd")
    engine = create_engine(cfg.source("ctax").url)
    with engine.connect() as conn:
        tbl = writeback_table(TABLE)
        assert conn.execute(select(tbl.c.uprn).where(tbl.c.source_key == "C2")).scalar_one() == 222
    engine.dispose()
