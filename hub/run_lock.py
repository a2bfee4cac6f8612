"""One pipeline run at a time per hub: a lock that the operating system or the database frees when its holder dies.

A run killed mid-way (power cut, OOM killer, ``kill -9``) leaves its run-log row saying ``running``. Holding this
lock proves no other run is alive, so such rows can be closed as ``interrupted`` when the next run starts.
SQLite hubs use an advisory file lock beside the database file; PostgreSQL hubs a session-level advisory lock
(freed when the connection drops); MySQL/MariaDB hubs ``GET_LOCK``.

``mdh run`` holds the lock for its whole run (:func:`exclusive_run`). Runs launched by Dagster (schedule, sensor,
UI) take it through the ``hub`` resource (:func:`orchestrated_step`): once for the whole run under the in-process
executor, once per step under the multiprocess executor, where steps are separate processes. A step goes ahead
under the lock its own thread holds, so the steps of an ``mdh run`` (executed in-process, in the thread that holds
it) do not wait on it.
Dagster's own queue (``max_concurrent_runs: 1`` in dagster_home/dagster.yaml) keeps Dagster runs apart.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from hub.store import HubStoreError, migrate, one_line
from schemas import Run
from schemas.base import utcnow

LOCK_NAME = "mdh-pipeline-run"
LOCK_KEY = zlib.crc32(LOCK_NAME.encode())  # PostgreSQL advisory locks take a 64-bit integer key
INTERRUPTED_ERROR = "the run was stopped before it finished (process killed or machine down)"

_held = threading.local()  # lock identities this thread holds: nested requests for the same hub go ahead


class HubBusyError(RuntimeError):
    """Another pipeline run holds this hub."""


class RunInterruptedError(RuntimeError):
    """This run's run-log row was closed as interrupted by a run that held the hub in between two of its steps."""


def _identity(engine: Engine) -> str:
    """What the lock is taken on: the SQLite file, or the database (host, port, name) on a server."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        return f"sqlite:{Path(url.database or '').resolve()}"
    return f"{engine.dialect.name}://{url.host}:{url.port}/{url.database}"


def _running_runs(engine: Engine) -> str:
    """The hub's run-log rows still marked running (who holds the hub, as far as the hub knows), or ''."""
    try:
        with Session(engine) as session:
            rows = session.execute(select(Run.id, Run.dagster_run_id).where(Run.status == "running")
                                   .order_by(Run.id.desc()).limit(3)).all()
    except SQLAlchemyError:
        return ""
    return ", ".join(f"run id {rid}" + (f" (dagster run {did})" if did else "") for rid, did in rows)


def _busy(engine: Engine, waited_s: float) -> HubBusyError:
    running = _running_runs(engine)
    return HubBusyError(
        f"another pipeline run is in progress on hub {engine.url!r}"
        + (f": {running} is running" if running else "")
        + (f"; waited {waited_s:.0f}s" if waited_s else "") + "; try again when it has finished")


@contextmanager
def _os_or_db_lock(engine: Engine, wait_s: float, poll_s: float) -> Iterator[None]:
    deadline = time.monotonic() + wait_s
    dialect = engine.dialect.name
    if dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(Path(engine.url.database).with_suffix(".run-lock"), "a+") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _busy(engine, wait_s) from None
                    time.sleep(poll_s)
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
    try:
        conn = engine.connect()  # the lock lives as long as this connection
    except DBAPIError as err:
        raise HubStoreError(f"cannot open hub store {engine.url!r}: {one_line(err)}") from err
    with conn:
        while not conn.execute(text(acquire), params).scalar():
            conn.commit()
            if time.monotonic() >= deadline:
                raise _busy(engine, wait_s)
            time.sleep(poll_s)
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(text(release), params)
                conn.commit()
            except DBAPIError:
                pass  # the connection is gone (hub down, server restarted), and its lock with it


@contextmanager
def exclusive_run(engine: Engine, *, wait_s: float = 0.0, poll_s: float = 0.5,
                  reentrant: bool = False) -> Iterator[bool]:
    """Hold the hub's run lock for the block; raise HubBusyError if another run holds it (at once, or after ``wait_s``).

    With ``reentrant``, a thread that already holds this hub's lock goes ahead without taking it again. Yields
    True when this call took the lock, False when it went ahead under the lock its thread holds.
    """
    key = (os.getpid(), _identity(engine))  # a forked child does not hold its parent's lock
    held: set[tuple[int, str]] = _held.__dict__.setdefault("keys", set())
    if reentrant and key in held:
        yield False
        return
    with _os_or_db_lock(engine, wait_s, poll_s):
        held.add(key)
        try:
            yield True
        finally:
            held.discard(key)


def close_interrupted_runs(engine: Engine, *, keep_dagster_run: str | None = None) -> int:
    """Mark run-log rows still ``running`` as ``interrupted`` (call only while holding the run lock).

    ``keep_dagster_run`` spares the row of the Dagster run calling this from one of its steps.
    """
    stmt = update(Run).where(Run.status == "running")
    if keep_dagster_run is not None:
        stmt = stmt.where((Run.dagster_run_id != keep_dagster_run) | Run.dagster_run_id.is_(None))
    with Session(engine) as session, session.begin():
        closed = session.execute(stmt.values(status="interrupted", finished_at=utcnow(), error=INTERRUPTED_ERROR))
        return closed.rowcount or 0


@contextmanager
def orchestrated_step(engine: Engine, dagster_run_id: str, *, wait_s: float, poll_s: float = 0.5) -> Iterator[None]:
    """Hold the run lock for one step (or a whole in-process run) of a Dagster run, with the CLI's bookkeeping.

    ``engine`` need not be migrated yet: the schema is brought up to date under the lock, so parallel steps
    (separate processes) never migrate a new hub at the same time. Waits up to ``wait_s`` for the lock: under
    the multiprocess executor the steps of one run take turns on it. Once taken, rows of other runs left
    ``running`` are closed as interrupted, as ``mdh run`` does; if this run's own row was so closed (a run took
    the hub between two of its steps), the step fails rather than write on. Inside an ``mdh run`` (the lock
    already held by this thread, the hub already migrated) it does nothing more.
    """
    with exclusive_run(engine, wait_s=wait_s, poll_s=poll_s, reentrant=True) as took:
        if took:
            migrate(engine)
            close_interrupted_runs(engine, keep_dagster_run=dagster_run_id)
            with Session(engine) as session:
                own = session.execute(select(Run.id, Run.status).where(Run.dagster_run_id == dagster_run_id)).first()
            if own is not None and own.status == "interrupted":
                raise RunInterruptedError(
                    f"hub run id {own.id} (dagster run {dagster_run_id}) was closed as interrupted: another run "
                    "used the hub between two of its steps; start a new run")
        yield
