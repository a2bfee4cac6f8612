"""One pipeline run at a time per hub, and rows of killed runs closed by the next run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.run_lock import HubBusyError, close_interrupted_runs, exclusive_run
from hub.store import open_hub
from schemas import Run


def _second_run_is_refused_while_the_first_holds_the_hub(url: str) -> None:
    first, second = open_hub(url), open_hub(url)  # two engines: as two processes would hold the hub
    try:
        with exclusive_run(first):
            with pytest.raises(HubBusyError, match="another pipeline run is in progress"):
                with exclusive_run(second):
                    pass
        with exclusive_run(second):  # released when the first run ends
            pass
    finally:
        first.dispose()
        second.dispose()


def test_sqlite_hub_takes_one_run_at_a_time(tmp_path: Path) -> None:
    _second_run_is_refused_while_the_first_holds_the_hub(f"sqlite:///{tmp_path / 'hub.db'}")


def test_postgresql_hub_takes_one_run_at_a_time(pg_fresh_url: str) -> None:
    _second_run_is_refused_while_the_first_holds_the_hub(pg_fresh_url)


def test_rows_of_runs_that_died_are_closed_as_interrupted(tmp_path: Path) -> None:
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    with Session(engine) as session, session.begin():
        session.add_all([Run(kind="incremental", status="ok"), Run(kind="incremental", status="running")])
    with exclusive_run(engine):
        assert close_interrupted_runs(engine) == 1
    with Session(engine) as session:
        rows = session.execute(select(Run.status, Run.error).order_by(Run.id)).all()
    assert [r.status for r in rows] == ["ok", "interrupted"]
    assert "stopped before it finished" in rows[1].error
    engine.dispose()
