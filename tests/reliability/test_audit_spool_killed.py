"""An API process killed (SIGKILL) with audit rows only in its spool: the next start writes each row to the hub once.

The reads happen while another connection holds the SQLite hub's write lock (as a nightly run does), so their
audit rows can only be in the spool when the responses arrive; the process then dies before it could drain them.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit_spool import default_spool_path
from schemas import AuditLog
from tests.api.steward_hub import SOURCES, build_hub
from tests.conftest_servers import free_port
from tests.reliability.api_load import HOST, ApiServer

READS = 5
PATIENCE = 30.0  # seconds, generous


def test_rows_spooled_by_a_killed_api_reach_the_hub_exactly_once_at_the_next_start(tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    hub = build_hub(tmp_path / "hub")
    config = tmp_path / "hub.yaml"
    config.write_text(yaml.safe_dump({
        "hub": hub.config.hub, "gazetteer": {"path": "g.csv"},
        "sources": [{"name": n, "url": f"{n}.csv", "key": "k", "trust": t, "fields": {"full_name": "n"}}
                    for n, t in SOURCES]}), encoding="utf-8")
    spool, pid = default_spool_path(hub.engine), hub.person("C1")
    headers = {"Authorization": f"Bearer {hub.tokens['reader']}"}

    def hub_reads() -> int:
        with Session(hub.engine) as s:
            return s.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.action == "read", AuditLog.object_type == "person", AuditLog.object_id == str(pid)))

    def spooled() -> int:
        with sqlite3.connect(spool) as conn:
            return conn.execute("SELECT COUNT(*) FROM spooled").fetchone()[0]

    with ApiServer(config, free_port(), tmp_path / "api-1.log") as server:
        lock = sqlite3.connect(hub.engine.url.database, isolation_level=None, timeout=30.0)
        lock.execute("BEGIN IMMEDIATE")  # the hub cannot take a write until this ends
        try:
            for _ in range(READS):
                response = httpx.get(f"http://{HOST}:{server.port}/api/v1/persons/{pid}", headers=headers,
                                     timeout=PATIENCE)
                assert response.status_code == 200
            server.proc.kill()  # SIGKILL: no shutdown, no last drain
            server.proc.wait(timeout=30)
            assert hub_reads() == 0, "a read reached the hub through its write lock"
            assert spooled() == READS, "a read answered 200 without a durable audit row"
        finally:
            lock.execute("ROLLBACK")
            lock.close()

    with ApiServer(config, free_port(), tmp_path / "api-2.log") as server:  # the next start drains the spool
        deadline = time.monotonic() + PATIENCE
        while hub_reads() < READS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hub_reads() == READS
        assert httpx.get(f"http://{HOST}:{server.port}/api/v1/persons/{pid}", headers=headers,
                         timeout=PATIENCE).status_code == 200
    assert hub_reads() == READS + 1 and spooled() == 0
    assert "Traceback" not in (tmp_path / "api-2.log").read_text(encoding="utf-8", errors="replace")
