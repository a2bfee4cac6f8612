"""The read audit trail of personal data: how each read's row reaches the hub's ``audit_log``.

Modes (``create_app(audit=...)``, ``MDH_AUDIT``):

- ``spool``: durable and never waits for the hub's write lock. The row is committed to the hub at once if the hub
  can take the write now, else to a local spool file (fsynced) that a background writer drains into the hub,
  exactly once, as soon as it can (``api.audit_spool``). The default for SQLite hubs, whose single write lock a
  nightly run holds for seconds at a time.
- ``sync``: committed to the hub before the response (waits for the write lock). The default for other hubs
  (PostgreSQL), where an insert does not queue behind the run.
- ``batched``: handed to an in-memory writer that commits every 50 ms; a crash loses at most that window.
- ``auto``: ``spool`` for a SQLite file hub, else ``sync``.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
import queue
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.audit_spool import AuditSpool, default_spool_path
from schemas import AuditLog
from schemas.base import utcnow

log = logging.getLogger("mdh.api.audit")
# One writer at a time per process: SQLite's busy handler sleeps in coarse steps (up to 100 ms) when
# threads race for its write lock, so queueing here keeps audit commits at their real cost (~1 ms).
_WRITE_LOCK = threading.Lock()
_WRITERS: dict[int, AuditWriter | AuditSpool] = {}  # the audit writer of each engine (batched and spool modes)
AUDIT_MODES = ("auto", "spool", "sync", "batched")


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
        if _WRITERS.get(id(self.engine)) is self:
            _WRITERS.pop(id(self.engine))


def resolve_mode(mode: str, engine: Engine) -> str:
    """The concrete mode for ``auto``: ``spool`` on a SQLite file hub, ``sync`` elsewhere."""
    if mode not in AUDIT_MODES:
        raise ValueError(f"audit must be one of {', '.join(AUDIT_MODES)}, not {mode!r}")
    if mode == "auto":
        return "spool" if default_spool_path(engine) is not None else "sync"
    return mode


def start_audit(engine: Engine, mode: str, spool: Path | None = None) -> AuditWriter | AuditSpool | None:
    """Start the audit writer ``mode`` needs for ``engine`` (None for ``sync``), replacing an earlier one.

    Args:
        spool: the spool file (``spool`` mode); default ``<hub file>.audit-spool`` beside a SQLite hub.
    """
    mode = resolve_mode(mode, engine)
    earlier = _WRITERS.pop(id(engine), None)
    if earlier is not None:
        earlier.close()
    if mode == "sync":
        return None
    if mode == "batched":
        return AuditWriter(engine)
    path = spool or default_spool_path(engine)
    if path is None:
        raise ValueError(f"audit mode 'spool' over a {engine.dialect.name} hub needs a spool file "
                         "(create_app(audit_spool=...) or MDH_AUDIT_SPOOL)")
    writer = AuditSpool(engine, Path(path), write_lock=_WRITE_LOCK)
    _WRITERS[id(engine)] = writer
    writer.start()  # first drains what an earlier process left
    return writer


def stop_audit(writer: AuditWriter | AuditSpool) -> None:
    """Write (or spool) everything pending, then stop ``writer``."""
    writer.close()
    if _WRITERS.get(id(writer.engine)) is writer:
        _WRITERS.pop(id(writer.engine))


def record(session: Session, actor: str, what: str, object_id: object, detail: dict[str, Any]) -> None:
    """Record one read of personal data, as the engine's audit mode says (see the module's docstring)."""
    row = {"actor": actor, "action": "read", "object_type": what,
           "object_id": None if object_id is None else str(object_id), "detail": detail, "at": utcnow()}
    writer = _WRITERS.get(id(session.get_bind()))
    if isinstance(writer, AuditWriter):
        writer.put(row)
        return
    session.commit()  # end the read transaction first so the write lock is held only for the insert
    if isinstance(writer, AuditSpool):
        if writer.backlog or not _insert_now(writer.engine, row):
            writer.put(row)
        return
    # SQLite: one writer at a time (see _WRITE_LOCK). PostgreSQL takes concurrent inserts, and commits wait for its
    # WAL flush: queueing them here made every read wait for the others' flushes (py-spy: 38 % of thread samples).
    with _WRITE_LOCK if session.get_bind().dialect.name == "sqlite" else nullcontext():
        session.execute(insert(AuditLog), [row])
        session.commit()


def _insert_now(engine: Engine, row: dict[str, Any]) -> bool:
    """Commit ``row`` to the hub if it can take the write at once; False (nothing written) if it is busy."""
    if not _WRITE_LOCK.acquire(blocking=False):  # another thread of ours is writing: do not queue behind it
        return False
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # fail at once, not after the busy timeout, when another connection holds the write lock
                raw = conn.connection.dbapi_connection
                usual = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
                raw.execute("PRAGMA busy_timeout=0")
            try:
                with conn.begin():
                    conn.execute(insert(AuditLog), [row])
                return True
            except OperationalError:  # locked (SQLite) or the connection failed: the spool takes the row
                return False
            finally:
                if sqlite:
                    raw.execute(f"PRAGMA busy_timeout={usual}")
    finally:
        _WRITE_LOCK.release()


def spooled_reads(session: Session, object_type: str, object_ids: list[str]) -> list[dict[str, Any]]:
    """Audit rows about these objects still waiting in the spool. Read them BEFORE ``audit_log``; merge with
    :func:`with_spooled` (a row drained in between is then found in the hub and not repeated)."""
    writer = _WRITERS.get(id(session.get_bind()))
    return writer.pending(object_type, object_ids) if isinstance(writer, AuditSpool) else []


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    at = row["at"] if isinstance(row["at"], dt.datetime) else dt.datetime.fromisoformat(row["at"])
    at = at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at.astimezone(dt.timezone.utc)
    return row["actor"], row["action"], row["object_type"], row["object_id"], at


def with_spooled(hub_rows: list[dict[str, Any]], spooled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``audit_log`` rows (as dicts) followed by the spooled rows not among them (``id`` None: not yet in the hub)."""
    seen = {_key(r) for r in hub_rows}
    return [*hub_rows, *({"id": None, **{k: v for k, v in r.items() if k != "spool_id"},
                          "at": r["at"].isoformat()} for r in spooled if _key(r) not in seen)]
