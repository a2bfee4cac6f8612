"""The read audit trail: synchronous (committed before the response) or batched by a background writer."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from schemas import AuditLog
from schemas.base import utcnow

log = logging.getLogger("mdh.api.audit")
# One writer at a time per process: SQLite's busy handler sleeps in coarse steps (up to 100 ms) when
# threads race for its write lock, so queueing here keeps audit commits at their real cost (~1 ms).
_WRITE_LOCK = threading.Lock()
_WRITERS: dict[int, AuditWriter] = {}


class AuditWriter:
    """Writes queued audit rows in one transaction every ``interval`` seconds (a crash loses at most that window)."""

    def __init__(self, engine: Engine, *, interval: float = 0.05) -> None:
        self.engine, self.interval = engine, interval
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mdh-audit-writer", daemon=True)
        self._thread.start()
        _WRITERS[id(engine)] = self

    def put(self, row: dict[str, Any]) -> None:
        self._queue.put(row)

    def _drain(self, first: dict[str, Any] | None) -> tuple[list[dict[str, Any]], bool]:
        rows, stop = ([first] if first else []), first is None
        while len(rows) < 5000:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stop = True
            else:
                rows.append(item)
        return rows, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            try:
                first = self._queue.get(timeout=self.interval)
            except queue.Empty:
                continue
            rows, stop = self._drain(first)
            if rows:
                try:
                    with _WRITE_LOCK, self.engine.begin() as conn:
                        conn.execute(insert(AuditLog), rows)
                except Exception:  # noqa: BLE001 - keep writing later rows; the failure is logged without data
                    log.exception("could not write %d audit rows", len(rows))

    def close(self) -> None:
        """Write everything queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout=10)
        _WRITERS.pop(id(self.engine), None)


def record(session: Session, actor: str, what: str, object_id: object, detail: dict[str, Any]) -> None:
    """Record one read of personal data: batched when the engine has a writer, else committed now."""
    row = {"actor": actor, "action": "read", "object_type": what,
           "object_id": None if object_id is None else str(object_id), "detail": detail, "at": utcnow()}
    writer = _WRITERS.get(id(session.get_bind()))
    if writer is not None:
        writer.put(row)
        return
    session.commit()  # end the read transaction first so the write lock is held only for the insert
    with _WRITE_LOCK:
        session.execute(insert(AuditLog), [row])
        session.commit()
