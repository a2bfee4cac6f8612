"""Tests for connectors/pull.py and connectors/drops.py against SQLite, PostgreSQL, MariaDB and real drop files."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from connectors import ConnectorError
from connectors.pull import (
    ROW_NUMBER, RetryPolicy, archive_drops, connect_with_retry, extract, has_new_drops, pending_drops, safe_watermark,
    sql_engine,
)
from schemas.config import SourceConfig
from tests.conftest_servers import free_port, maria_url, pg_url  # noqa: F401 - fixtures

FAST = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=2)


def _cfg(url: str, **kw: object) -> SourceConfig:
    base = {"name": "ctax", "url": url, "key": "ref", "fields": {"full_name": "name"}}
    if "://" in url:
        base["table"] = "people"
    return SourceConfig(**{**base, **kw})


def _sqlite(tmp_path: Path, rows: list[tuple]) -> str:
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as db:
        db.execute("create table people (ref integer, name text, updated_at text)")
        db.executemany("insert into people values (?, ?, ?)", rows)
    return f"sqlite:///{path}"


def test_sqlite_extract_chunks_values_as_strings(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, [(1, " Ann ", "2024-01-01"), (None, "", "2024-01-02"), (30, "Cy", None)])
    chunks = list(extract(_cfg(url), chunksize=2))
    assert [len(c.rows) for c in chunks] == [2, 1]
    rows = pd.concat([c.rows for c in chunks])
    # An integer column with a NULL must not turn into floats ("30.0") on the way through pandas.
    assert rows["ref"].tolist() == ["1", None, "30"]
    assert rows["name"].tolist() == ["Ann", None, "Cy"]
    assert rows[ROW_NUMBER].tolist() == [1, 2, 3]


def test_safe_watermark_never_splits_a_tie() -> None:
    batch = [(1, "a"), (2, "b"), (2, "c")]
    assert safe_watermark(batch, 0, next_first=2, more=True) == "1"  # the 2s continue in the next chunk
    assert safe_watermark(batch, 0, next_first=3, more=True) == "2"
    assert safe_watermark(batch, 0, next_first=None, more=False) == "2"
    assert safe_watermark([(2, "x")], 0, next_first=2, more=True) is None


def test_watermark_resume_from_any_chunk_loses_nothing(tmp_path: Path) -> None:
    stamps = ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-03"]
    url = _sqlite(tmp_path, [(i, f"n{i}", s) for i, s in enumerate(stamps)])
    cfg = _cfg(url, updated_at="updated_at")
    chunks = list(extract(cfg, chunksize=2))
    seen_before: list[str] = []
    for chunk in chunks:
        seen_before += chunk.rows["ref"].tolist()
        if chunk.watermark is None:
            continue
        # A run that died right after this chunk resumes from its watermark: together they cover every row.
        resumed = [r for c in extract(cfg, watermark=chunk.watermark, chunksize=2) for r in c.rows["ref"]]
        assert set(seen_before) | set(resumed) == {str(i) for i in range(len(stamps))}
    assert chunks[-1].watermark == "2024-01-03"


def test_connect_retries_with_exponential_backoff() -> None:
    waits: list[float] = []
    engine = sql_engine(f"postgresql+psycopg://u:hunter2pw@127.0.0.1:{free_port()}/db", timeout_s=2)
    policy = RetryPolicy(attempts=3, backoff_s=0.5, max_backoff_s=0.75)
    with pytest.raises(ConnectorError) as err:
        connect_with_retry(engine, "benefits", policy, sleep=waits.append)
    assert waits == [0.5, 0.75]
    assert "source benefits" in str(err.value) and "3 attempt" in str(err.value)
    assert "hunter2pw" not in str(err.value)


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_down_source_fails_clearly_without_password(scheme: str) -> None:
    cfg = _cfg(f"{scheme}://svc:hunter2pw@127.0.0.1:{free_port()}/council")
    with pytest.raises(ConnectorError) as err:
        list(extract(cfg, retry=FAST))
    message = str(err.value)
    assert message.startswith("source ctax:") and "hunter2pw" not in message
    assert "hunter2pw" not in repr(err.value.__cause__)


def test_missing_table_is_a_source_named_error(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, [])
    with pytest.raises(ConnectorError, match="source ctax: extract failed after 0 rows"):
        list(extract(_cfg(url, table="nope"), retry=FAST))


def _write_xlsx(path: Path, rows: list[list[object]]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_excel_and_csv_drops_each_processed_once(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    drops.mkdir()
    cfg = _cfg(str(drops))
    assert not has_new_drops(cfg)
    (drops / ".upload.csv.tmp").write_text("ref,name\n1,x\n")
    (drops / "~$lock.xlsx").write_bytes(b"")
    assert not has_new_drops(cfg) and pending_drops(cfg) == []
    _write_xlsx(drops / "b.xlsx", [["ref", "name", "dob"], [12345, "Ann", dt.datetime(1980, 2, 3)], [7.0, "Bo", None]])
    (drops / "a.csv").write_bytes("ref;name\n1;Zo\xeb\n2;\"multi\nline\"\n".encode("cp1252"))
    assert has_new_drops(cfg)
    chunks = list(extract(cfg, chunksize=1))
    rows = pd.concat([c.rows for c in chunks], ignore_index=True)
    assert rows["ref"].tolist() == ["1", "2", "12345", "7"]  # Excel numbers without ".0"
    assert rows["name"].tolist() == ["Zoë", "multi\nline", "Ann", "Bo"]  # cp1252 fallback, quoted newline
    assert rows.loc[2, "dob"] == "1980-02-03"
    assert rows[ROW_NUMBER].tolist() == [2, 4, 2, 3]  # physical line of each row, for stewards
    for chunk in chunks:
        archive_drops(cfg, chunk.files)
    assert not has_new_drops(cfg)
    assert sorted(p.name for p in (drops / "_archive").iterdir()) == ["a.csv", "b.xlsx"]


def test_has_new_drops_for_database_and_single_file(tmp_path: Path) -> None:
    assert not has_new_drops(_cfg("sqlite:///x.db"))
    single = tmp_path / "one.csv"
    assert not has_new_drops(_cfg(str(single)))
    single.write_text("ref,name\n1,a\n")
    assert has_new_drops(_cfg(str(single)))


def _cursor_types() -> tuple[list[str], object]:
    seen: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):  # noqa: ANN001, ARG001 - event signature
        if "people" in statement:
            seen.append(f"{type(cursor).__module__}.{type(cursor).__name__}")

    event.listen(Engine, "before_cursor_execute", spy)
    return seen, spy


def _seed(url: str, n: int, ts_type: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS people"))
        conn.execute(text(f"CREATE TABLE people (ref INTEGER PRIMARY KEY, name VARCHAR(50), updated_at {ts_type})"))
        base = dt.datetime(2024, 1, 1)
        conn.execute(text("INSERT INTO people VALUES (:r, :n, :u)"),
                     [{"r": i, "n": f"name{i}", "u": base + dt.timedelta(hours=i // 3)} for i in range(n)])
    engine.dispose()


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_server_extract_streams_with_server_side_cursor(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url" if server == "postgres" else "maria_url")
    _seed(url, 100, "TIMESTAMP" if server == "postgres" else "DATETIME")
    seen, spy = _cursor_types()
    try:
        cfg = _cfg(url, updated_at="updated_at")
        chunks = list(extract(cfg, chunksize=30))
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    assert [len(c.rows) for c in chunks] == [30, 30, 30, 10]
    # A server-side cursor: rows arrive as they are fetched, never the whole table in client memory.
    expected = "psycopg.ServerCursor" if server == "postgres" else "pymysql.cursors.SSCursor"
    assert seen == [expected]
    # Incremental: only rows after the watermark, compared as a bound parameter on the native column.
    later = list(extract(cfg, watermark=chunks[1].watermark, chunksize=30))
    refs = [int(r) for c in later for r in c.rows["ref"]]
    assert min(refs) <= 60 and max(refs) == 99 and len(refs) < 100
