"""One pipeline run at a time per hub: a lock that the operating system or the database frees when its holder dies.

A run killed mid-way (power cut, OOM killer, ``kill -9``) leaves its run-log row saying ``running``. Holding this
lock proves no other run is alive, so such rows can be closed as ``interrupted`` when the next run starts.
SQLite hubs use an advisory file lock beside the database file; PostgreSQL hubs a session-level advisory lock
(freed when the connection drops); MySQL/MariaDB hubs ``GET_LOCK``. Dagster's own queue
(``max_concurrent_runs: 1`` in dagster_home/dagster.yaml) keeps scheduled runs apart in the same way.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from schemas import Run
from schemas.base import utcnow

LOCK_NAME = "mdh-pipeline-run"
LOCK_KEY = zlib.crc32(LOCK_NAME.encode())  # PostgreSQL advisory locks take a 64-bit integer key


class HubBusyError(RuntimeError):
    """Another pipeline run holds this hub."""


@contextmanager
def exclusive_run(engine: Engine) -> Iterator[None]:
    """Hold the hub's run lock for the block; raise HubBusyError at once if another run holds it."""
    busy = HubBusyError(f"another pipeline run is in progress on hub {engine.url!r}; try again when it has finished")
    dialect = engine.dialect.name
    if dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(Path(engine.url.database).with_suffix(".run-lock"), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if dialect not in ("postgresql", "mysql", "mariadb"):
        yield  # an in-memory hub lives in one process: nothing else can run on it
        return
    acquire, release = (("SELECT pg_try_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)")
                        if dialect == "postgresql" else ("SELECT GET_LOCK(:name, 0)", "SELECT RELEASE_LOCK(:name)"))
    params = {"key": LOCK_KEY, "name": LOCK_NAME}
    with engine.connect() as conn:  # the lock lives as long as this connection
        if not conn.execute(text(acquire), params).scalar():
            raise busy
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(text(release), params)
                conn.commit()
            except DBAPIError:
                pass  # the connection is gone (hub down, server restarted), and its lock with it


def close_interrupted_runs(engine: Engine) -> int:
    """Mark run-log rows still ``running`` as ``interrupted`` (call only while holding the run lock)."""
    with Session(engine) as session, session.begin():
        closed = session.execute(update(Run).where(Run.status == "running")
                                 .values(status="interrupted", finished_at=utcnow(),
                                         error="the run was stopped before it finished (process killed or machine down)"))
        return closed.rowcount or 0
