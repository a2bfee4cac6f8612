"""The spooled audit trail: a read never waits for the hub's write lock, and its audit row reaches the hub exactly once."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api import create_app
from api.audit import with_spooled
from api.audit_spool import AuditSpool, default_spool_path
from schemas import AuditLog
from tests.api.steward_hub import StewardHub, build_hub

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 20.0  # seconds: generous; far below the hub's 30 s busy timeout a blocked request would wait


@pytest.fixture
def hub(tmp_path: Path) -> StewardHub:
    return build_hub(tmp_path)


def auth(hub: StewardHub, role: str = "reader") -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.tokens[role]}"}


@contextmanager
def write_lock_held(hub: StewardHub) -> Iterator[None]:
    """Another connection holds the SQLite hub's write lock (as a nightly run's long transaction does)."""
    conn = sqlite3.connect(hub.engine.url.database, isolation_level=None, timeout=30.0)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def person_reads(engine: Engine, person_id: int) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == "read", AuditLog.object_type == "person",
                                                     AuditLog.object_id == str(person_id)).order_by(AuditLog.id)))


def spooled(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM spooled").fetchone()[0]


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_read_returns_while_the_hubs_write_lock_is_held_and_its_row_lands_after(hub: StewardHub) -> None:
    app = create_app(hub.config, engine=hub.engine, secret_key="t")  # default on SQLite: spool
    spool, pid = default_spool_path(hub.engine), hub.person("C1")
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        with write_lock_held(hub):
            response = pool.submit(client.get, f"/api/v1/persons/{pid}", headers=auth(hub)).result(timeout=PATIENCE)
            assert response.status_code == 200
            # Answered while the lock is still held: the row is in the spool, not (yet) in the hub.
            assert person_reads(hub.engine, pid) == [] and spooled(spool) == 1
        assert eventually(lambda: len(person_reads(hub.engine, pid)) == 1), "the spooled row never reached the hub"
        assert eventually(lambda: spooled(spool) == 0)
        # With the hub free again, reads are written to the hub directly, in order after the spooled one.
        assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 200
    rows = person_reads(hub.engine, pid)
    assert [r.actor for r in rows] == ["test-reader"] * 2 and rows[0].at < rows[1].at


def test_sync_mode_waits_for_the_write_lock(hub: StewardHub) -> None:
    """The contrast that makes the test above mean something: the held lock does block a hub write."""
    app = create_app(hub.config, engine=hub.engine, secret_key="t", audit="sync")
    pid = hub.person("C1")
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        with write_lock_held(hub):
            future = pool.submit(client.get, f"/api/v1/persons/{pid}", headers=auth(hub))
            time.sleep(1.0)
            answered_while_locked = future.done()
        assert future.result(timeout=PATIENCE).status_code == 200
    assert not answered_while_locked
    assert len(person_reads(hub.engine, pid)) == 1


def test_subject_access_lists_spooled_reads_once(hub: StewardHub) -> None:
    app = create_app(hub.config, engine=hub.engine, secret_key="t", audit="spool")
    pid = hub.person("C1")
    with TestClient(app) as client:
        with write_lock_held(hub):
            assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 200
            export = client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "admin")).json()
        reads = [r for r in export["reads_and_actions"] if r["action"] == "read"]
        assert [(r["id"], r["actor"], r["detail"]["via"]) for r in reads] == [(None, "test-reader", "id")]
        assert eventually(lambda: len(person_reads(hub.engine, pid)) == 2)  # the read and the export
        export = client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "admin")).json()
    vias = [r["detail"]["via"] for r in export["reads_and_actions"] if r["action"] == "read"]
    assert vias == ["id", "subject_access_export"]
    assert all(r["id"] is not None for r in export["reads_and_actions"])


def test_a_crash_between_the_hub_commit_and_the_spool_delete_does_not_duplicate_rows(hub: StewardHub,
                                                                                       tmp_path: Path) -> None:
    path = tmp_path / "audit.spool"
    spool = AuditSpool(hub.engine, path)  # not started: rows stay in the spool until drained by hand
    at = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
    for i in range(3):
        spool.put({"actor": "crash-test", "action": "read", "object_type": "person", "object_id": str(900 + i),
                   "detail": {"n": i}, "at": at + dt.timedelta(seconds=i)})
    spool.close()
    # A process that dies (os._exit: no cleanup) right after the hub committed the rows and its watermark.
    script = ("import os, sys\nfrom pathlib import Path\nfrom api.audit_spool import AuditSpool\n"
              "from hub.store import open_hub\n"
              "AuditSpool._forget = lambda self, through: os._exit(9)\n"
              "AuditSpool(open_hub(sys.argv[1]), Path(sys.argv[2])).drain()\n")
    done = subprocess.run([sys.executable, "-c", script, hub.config.hub, str(path)], cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert done.returncode == 9, done.stderr[-2000:]

    def in_hub() -> list[AuditLog]:
        with Session(hub.engine) as s:
            return list(s.scalars(select(AuditLog).where(AuditLog.actor == "crash-test").order_by(AuditLog.id)))

    assert len(in_hub()) == 3 and spooled(path) == 3  # in both places now
    again = AuditSpool(hub.engine, path)
    try:
        ids = [str(900 + i) for i in range(3)]
        hub_rows = [{"id": r.id, "actor": r.actor, "action": r.action, "object_type": r.object_type,
                     "object_id": r.object_id, "detail": r.detail, "at": r.at.isoformat()} for r in in_hub()]
        assert len(with_spooled(hub_rows, again.pending("person", ids))) == 3  # a reader sees each row once
        assert again.drain() == 0  # the next start writes nothing twice...
        assert spooled(path) == 0  # ...and clears the spool
    finally:
        again.close()
    assert [(r.object_id, r.detail) for r in in_hub()] == [(str(900 + i), {"n": i}) for i in range(3)]


def test_auto_mode_spools_only_sqlite_file_hubs_and_a_spool_elsewhere_needs_a_path(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from api.audit import resolve_mode, start_audit

    assert resolve_mode("auto", create_engine(f"sqlite:///{tmp_path / 'hub.db'}")) == "spool"
    assert resolve_mode("auto", create_engine("sqlite://")) == "sync"  # in memory: nowhere to put a spool beside it
    pg = create_engine("postgresql+psycopg://u@127.0.0.1:1/none")  # never connected
    assert resolve_mode("auto", pg) == "sync"
    with pytest.raises(ValueError, match="needs a spool file"):
        start_audit(pg, "spool")
    with pytest.raises(ValueError, match="audit must be one of"):
        resolve_mode("async", pg)


def test_the_server_factory_freezes_startup_objects_out_of_the_gc(hub: StewardHub) -> None:
    import gc

    app = create_app(hub.config, engine=hub.engine, secret_key="t", freeze_gc=True)
    try:
        with TestClient(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_spool_that_cannot_be_written_stops_the_server_with_one_line(hub: StewardHub, tmp_path: Path) -> None:
    """Reads that cannot be audited must not be served: the server refuses to start, naming the spool file."""
    from api.audit_spool import AuditSpoolError

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spool's folder should be")
    with pytest.raises(AuditSpoolError, match="cannot open the audit spool .*not-a-folder"):
        create_app(hub.config, engine=hub.engine, audit="spool", audit_spool=blocked / "hub.audit-spool")
