"""read_frame gives what SQLAlchemy's own result would, on SQLite and on PostgreSQL, inside the session's
transaction and with bound parameters."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.frames import read_frame
from hub.store import open_hub
from schemas import SourceRecord, SourceSystem

SEEN = dt.datetime(2026, 3, 1, 9, 48, 58, 435950)


def _fill_and_compare(url: str) -> None:
    engine = open_hub(url)
    try:
        with Session(engine) as s, s.begin():
            s.add(SourceSystem(name="ctax", trust=3))
            s.flush()
            sid = s.scalar(select(SourceSystem.id))
            s.add_all([SourceRecord(source_id=sid, source_key=f"K{i}", kind="person", raw={}, content_hash=f"h{i}",
                                    first_name=None if i == 2 else f"N{i}", uprn=None if i else 990000000001,
                                    last_changed=SEEN + dt.timedelta(seconds=i), deleted=i == 3)
                       for i in range(4)])
            s.flush()  # not committed: read_frame must see the session's own transaction
            stmt = (select(SourceRecord.id, SourceSystem.name.label("source"), SourceRecord.first_name,
                           SourceRecord.uprn, SourceRecord.last_changed)
                    .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                    .where(SourceRecord.deleted.is_(False), SourceRecord.source_key.in_(["K0", "K1", "K2", "K3"]))
                    .order_by(SourceRecord.id))
            fast = read_frame(s, stmt, datetime_columns=["last_changed"])
            plain = pd.DataFrame(s.execute(stmt).all(), columns=["id", "source", "first_name", "uprn", "last_changed"])
        pd.testing.assert_frame_equal(fast, plain)
        assert len(fast) == 3 and fast["first_name"].isna().sum() == 1
        assert fast["last_changed"].iloc[0].to_pydatetime().replace(tzinfo=None) == SEEN
    finally:
        engine.dispose()


def test_read_frame_matches_the_orm_result_on_sqlite(tmp_path) -> None:
    _fill_and_compare(f"sqlite:///{tmp_path / 'hub.db'}")


@pytest.mark.postgres
def test_read_frame_matches_the_orm_result_on_postgresql(postgres_url: str) -> None:
    _fill_and_compare(postgres_url)
