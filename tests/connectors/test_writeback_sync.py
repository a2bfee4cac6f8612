"""Tests for SqlWritebackTarget.sync / row_count: the table made to agree with the hub, rewriting only what differs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from connectors.publish import WritebackRow
from connectors.publish.sql_writeback import SqlWritebackTarget, writeback_table
from schemas.config import PublishTarget, SourceConfig
from tests.conftest_servers import maria_url, pg_url  # noqa: F401 - fixtures


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'housing.db'}"
    return request.getfixturevalue("pg_url" if request.param == "postgres" else "maria_url")


def _rows(url: str, table: str) -> dict[str, tuple]:
    engine = create_engine(url)
    tbl = writeback_table(table)
    with engine.connect() as conn:
        found = conn.execute(select(tbl.c.source_key, tbl.c.golden_person_id, tbl.c.uprn, tbl.c.address,
                                    tbl.c.postcode, tbl.c.hub_updated_at)).all()
    engine.dispose()
    return {key: tuple(rest) for key, *rest in found}


def test_sync_writes_only_what_differs_and_removes_in_scope(db_url: str) -> None:
    table = f"wbs_{dt.datetime.now().strftime('%H%M%S%f')}"
    source = SourceConfig(name="housing", url=db_url, table="tenants", key="ref", fields={"full_name": "name"})
    target = SqlWritebackTarget(PublishTarget(kind="sql_writeback", table=table), source)
    assert target.row_count() is None  # no table yet

    rows = [WritebackRow("A1", 1, 10, "1 High St", "LS1 1AA"), WritebackRow("A2", 2, None, None, None),
            WritebackRow("A3", 3, 30, "3 High St", "LS3 3CC")]
    done = target.sync(rows)
    assert (done.written, done.removed, done.rows) == (3, 0, 3) and target.row_count() == 3
    before = _rows(db_url, table)

    # In scope A1 (moved), A2 (gone) and A9 (never written); A3 is out of scope and stays as it is.
    done = target.sync([WritebackRow("A1", 1, 11, "2 Low St", "LS2 2BB")], scope=["A1", "A2", "A9"])
    assert (done.written, done.removed, done.rows) == (1, 1, 2)
    after = _rows(db_url, table)
    assert sorted(after) == ["A1", "A3"] and after["A1"][:4] == (1, 11, "2 Low St", "LS2 2BB")
    assert after["A3"] == before["A3"]

    # The whole table: identical rows are not rewritten (hub_updated_at stays), keys absent from rows go.
    done = target.sync([WritebackRow("A1", 1, 11, "2 Low St", "LS2 2BB")])
    assert (done.written, done.removed, done.rows) == (0, 1, 1)
    assert _rows(db_url, table) == {"A1": after["A1"]}
