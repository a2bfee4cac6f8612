"""Tests for hub/ingest.py through real sources: a source killed mid-extract, a source that is down, reconciliation."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from hub.ingest import ingest_source
from hub.store import open_hub
from schemas import ExtractBatch, QuarantinedRow, SourceRecord
from schemas.config import SourceConfig
from tests.conftest_servers import free_port, maria_url, pg_url  # noqa: F401 - fixtures

N = 6000
CHUNK = 500
PAD = "x" * 2500  # wide rows so MariaDB cannot have pushed the whole table into socket buffers before the kill


@pytest.fixture
def hub(tmp_path: Path):  # noqa: ANN201 - an Engine
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


def _seed(url: str, table: str, *, ts_type: str, bad: int = 0) -> None:
    engine = create_engine(url)
    base = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text(f"CREATE TABLE {table} (ref VARCHAR(20), name VARCHAR(60), dob VARCHAR(20), "
                          f"pad VARCHAR(3000), updated_at {ts_type})"))
        # Ties on updated_at (7 rows per stamp) straddle the chunk boundaries on purpose.
        rows = [{"r": f"K{i:06d}", "n": f"Person {i}", "d": "1970-01-01" if i >= bad else "31/02/1970",
                 "p": PAD, "u": base + dt.timedelta(minutes=i // 7)} for i in range(N)]
        conn.execute(text(f"INSERT INTO {table} VALUES (:r, :n, :d, :p, :u)"), rows)
    engine.dispose()


def _cfg(url: str, table: str, **kw: object) -> SourceConfig:
    return SourceConfig(name="benefits", url=url, table=table, key="ref",
                        fields={"full_name": "name", "date_of_birth": "dob"}, **kw)


def _killer(url: str, after_chunks: int):  # noqa: ANN202 - a progress callback
    """Kill the source's extract connection from outside, as an operator or a crash would, after k chunks."""
    calls = {"n": 0}
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def progress(_rows: int) -> None:
        calls["n"] += 1
        if calls["n"] != after_chunks:
            return
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            else:
                ids = conn.scalars(text("SELECT id FROM information_schema.processlist "
                                        "WHERE db = DATABASE() AND id <> CONNECTION_ID()")).all()
                for pid in ids:
                    conn.execute(text(f"KILL {int(pid)}"))
    return progress, engine


def _keys(hub) -> list[str]:  # noqa: ANN001
    with Session(hub) as s:
        return list(s.scalars(select(SourceRecord.source_key)))


# PyMySQL's unbuffered result complains from __del__ once its connection was killed under it: noise, not a failure.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("server", ["postgres", "mariadb"])
@pytest.mark.parametrize("watermark", [True, False], ids=["watermark", "full"])
def test_source_killed_mid_extract_loses_nothing_and_duplicates_nothing(server: str, watermark: bool, hub,  # noqa: ANN001
                                                                        request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url" if server == "postgres" else "maria_url")
    table = f"people_{'wm' if watermark else 'full'}"
    _seed(url, table, ts_type="TIMESTAMP" if server == "postgres" else "DATETIME", bad=5)
    cfg = _cfg(url, table, **({"updated_at": "updated_at"} if watermark else {}))
    progress, killer = _killer(url, after_chunks=3)
    try:
        first = ingest_source(hub, cfg, chunksize=CHUNK, progress=progress)
    finally:
        killer.dispose()
    assert first.status == "failed" and first.error.startswith("source benefits:")
    assert 0 < first.extracted < N and first.reconciles and first.deleted == 0
    assert first.quarantined == 5  # the impossible dates, in the first chunk
    second = ingest_source(hub, cfg, chunksize=CHUNK)
    assert second.status == "ok" and second.reconciles and second.deleted == 0
    keys = _keys(hub)
    assert len(keys) == len(set(keys)) == N - 5  # every good row once; the 5 bad ones quarantined
    if watermark:
        assert second.extracted < N  # resumed from the safe watermark, not from scratch
    with Session(hub) as s:
        batches = s.execute(select(ExtractBatch.status, ExtractBatch.extracted, ExtractBatch.loaded,
                                   ExtractBatch.quarantined).order_by(ExtractBatch.id)).all()
    assert [b.status for b in batches] == ["failed", "ok"]
    assert all(b.extracted == b.loaded + b.quarantined for b in batches)


def test_hub_crash_mid_extract_then_rerun(tmp_path: Path, hub) -> None:  # noqa: ANN001
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as db:
        db.execute("create table people (ref text, name text, dob text, pad text, updated_at text)")
        db.executemany("insert into people values (?, ?, ?, '', ?)",
                       [(f"K{i}", f"P {i}", "1970-01-01", f"2024-01-01 00:{i // 60:02d}:{i % 60:02d}") for i in range(1000)])
    cfg = _cfg(f"sqlite:///{path}", "people", updated_at="updated_at")

    def crash(_rows: int) -> None:
        raise KeyboardInterrupt  # the hub process dies between chunks

    with pytest.raises(KeyboardInterrupt):
        ingest_source(hub, cfg, chunksize=100, progress=crash)
    assert len(_keys(hub)) == 100  # the committed chunk survives
    again = ingest_source(hub, cfg, chunksize=100)
    assert again.status == "ok" and again.extracted == 900 and sorted(_keys(hub)) == sorted(f"K{i}" for i in range(1000))


def test_down_source_fails_alone_and_run_reports_it(tmp_path: Path, hub) -> None:  # noqa: ANN001
    path = tmp_path / "ok.db"
    with sqlite3.connect(path) as db:
        db.execute("create table people (ref text, name text, dob text)")
        db.executemany("insert into people values (?, ?, ?)", [("1", "A", "1970-01-01"), ("2", "B", "1971-13-01"),
                                                               ("2", "B2", "1971-01-01"), (None, "C", None)])
    down = SourceConfig(name="parking", url=f"postgresql+psycopg://svc:hunter2pw@127.0.0.1:{free_port()}/p",
                        table="people", key="ref", fields={"full_name": "name"})
    results = [ingest_source(hub, cfg) for cfg in (down, _cfg(f"sqlite:///{path}", "people"))]
    assert [r.status for r in results] == ["failed", "ok"]
    assert "source parking" in results[0].error and "hunter2pw" not in results[0].error
    ok = results[1]
    assert (ok.extracted, ok.loaded, ok.quarantined) == (4, 1, 3) and ok.reconciles
    with Session(hub) as s:
        reasons = sorted(s.scalars(select(QuarantinedRow.reason)))
        assert s.scalar(select(func.count()).select_from(SourceRecord)) == 1
    assert reasons == ["duplicate key in this extract", "missing key", "unparseable or impossible date (unrecognised format)"]


def test_watermark_source_sees_hard_deletes_by_key_scan(tmp_path) -> None:
    """A row deleted at a watermark source is marked deleted in the hub on the next incremental run."""
    import sqlite3

    from sqlalchemy import select as _select
    from sqlalchemy.orm import Session as _Session

    from hub.ingest import ingest_source as _ingest
    from hub.store import open_hub as _open
    from schemas import SourceRecord as _SR
    from schemas.config import SourceConfig as _SC

    db = tmp_path / "src.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("create table t (ref text, name text, upd text)")
        con.executemany("insert into t values (?, ?, ?)", [("1", "A", "2026-01-01"), ("2", "B", "2026-01-01")])
    cfg = _SC(name="src", url=f"sqlite:///{db}", table="t", key="ref", updated_at="upd", fields={"full_name": "name"})
    engine = _open(f"sqlite:///{tmp_path / 'hub.db'}")
    assert _ingest(engine, cfg).loaded == 2
    with sqlite3.connect(db) as con:
        con.execute("delete from t where ref = '2'")
    second = _ingest(engine, cfg)
    assert second.mode == "watermark" and second.extracted == 0 and second.deleted == 1
    with _Session(engine) as s:
        assert dict(s.execute(_select(_SR.source_key, _SR.deleted)).all()) == {"1": False, "2": True}
