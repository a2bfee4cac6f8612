"""A durable local spool for audit rows the hub cannot take at once, drained into ``audit_log`` by a background writer.

The spool is a small SQLite file beside the hub (``<hub file>.audit-spool``): a request commits its row there
(WAL, ``synchronous=FULL``: fsynced before the response) without touching the hub's write lock. A writer thread
moves spooled rows into the hub's ``audit_log`` as soon as the hub takes the write, and again at the next start.

Exactly once: spool rows have increasing ids, and the hub records how far it has taken this spool (a watermark in
``hub_state`` under ``audit_spool:<spool uuid>``) in the same transaction as the rows. A crash between that commit
and the spool's delete leaves rows the next drain skips; a crash before it leaves rows the next drain writes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from schemas import AuditLog, HubState
from schemas.base import utcnow

log = logging.getLogger("mdh.api.audit")

SPOOL_SUFFIX = ".audit-spool"
DRAIN_BATCH = 1000
HUB_WAIT_MS = 1000  # how long one drain waits for a SQLite hub's write lock before trying again later
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS spooled (id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL, "
    "action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT, detail TEXT, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_spooled_object ON spooled (object_type, object_id)",
)
_COLUMNS = ("actor", "action", "object_type", "object_id", "detail", "at")


class AuditSpoolError(RuntimeError):
    """The spool file cannot be opened or written: the server must not answer reads it cannot audit."""


def default_spool_path(engine: Engine) -> Path | None:
    """``<hub file>.audit-spool`` for a SQLite file hub; None for other hubs (give a path explicitly)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database + SPOOL_SUFFIX)


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at.astimezone(dt.timezone.utc)


class AuditSpool:
    """Spooled audit rows of one hub; ``start()`` runs the background writer that drains them into the hub."""

    def __init__(self, engine: Engine, path: Path, *, write_lock: threading.Lock | None = None,
                 interval: float = 0.5) -> None:
        """Open (or create) the spool at ``path``.

        Args:
            write_lock: held while writing to the hub, shared with the process's other audit writers.
            interval: how soon the writer tries a busy hub again (it also wakes on each ``put``, and looks for
                rows other processes left every ten intervals).
        """
        self.engine, self.path, self.interval = engine, path, interval
        self._hub_lock = write_lock or threading.Lock()
        self._lock = threading.Lock()  # one statement at a time on the spool connection
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a committed row survives a power cut, not only a crash
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO spool_meta (key, value) VALUES ('id', ?)", (uuid.uuid4().hex,))
        except (OSError, sqlite3.Error) as err:
            raise AuditSpoolError(f"cannot open the audit spool {path}: {err} (the folder must be writable by the "
                                  "server; or give another file with --audit-spool / MDH_AUDIT_SPOOL)") from err
        spool_id = self._db.execute("SELECT value FROM spool_meta WHERE key = 'id'").fetchone()[0]
        self.key = f"audit_spool:{spool_id}"  # this spool's watermark in the hub's hub_state
        self._dirty = True  # rows may be waiting (from an earlier process); cleared when a drain finds none
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting = False  # the last drain found the hub busy (logged once per spell)

    # -- the request's side ------------------------------------------------------------------------------------

    @property
    def backlog(self) -> bool:
        """True while rows may wait in the spool: later rows go there too, so the hub gets them in order."""
        return self._dirty

    def put(self, row: dict[str, Any]) -> None:
        """Commit one audit row to the spool (durable on return) and wake the writer."""
        values = (row["actor"], row["action"], row["object_type"], row["object_id"],
                  None if row.get("detail") is None else json.dumps(row["detail"]), _utc(row["at"]).isoformat())
        with self._lock:
            self._db.execute("INSERT INTO spooled (actor, action, object_type, object_id, detail, at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", values)
            self._dirty = True
        self._wake.set()

    def pending(self, object_type: str, object_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Rows still in the spool about these objects (for readers that must see every read)."""
        ids = list(object_ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        with self._lock:
            found = self._db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM spooled WHERE object_type = ? "
                                     f"AND object_id IN ({marks}) ORDER BY id", (object_type, *ids)).fetchall()
        return [self._as_row(r) for r in found]

    # -- the writer's side -------------------------------------------------------------------------------------

    def drain(self) -> int:
        """Move every spooled row into the hub (each exactly once); returns how many rows the hub received.

        Raises the hub's error (e.g. its write lock is taken) with the rows still safe in the spool.
        """
        written = 0
        while True:
            with self._lock:
                rows = self._db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM spooled ORDER BY id LIMIT ?",
                                        (DRAIN_BATCH,)).fetchall()
                if not rows:
                    self._dirty = False
                    return written
            rows = [self._as_row(r) for r in rows]
            through, fresh = self._to_hub(rows)
            written += fresh
            self._forget(through)

    def _to_hub(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert the rows above the hub's watermark for this spool and raise the watermark, in one transaction."""
        top, now = rows[-1]["spool_id"], utcnow()
        with self._hub_lock, self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # wait a little for the hub's write lock, not the hub's usual 30 s: the writer retries
                raw = conn.connection.dbapi_connection
                usual = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
                raw.execute(f"PRAGMA busy_timeout={HUB_WAIT_MS}")
            try:
                with conn.begin():
                    # Write first: takes SQLite's write lock (or the row's lock elsewhere) before the watermark is read.
                    found = conn.execute(update(HubState).where(HubState.key == self.key).values(updated_at=now))
                    if found.rowcount:
                        done = int(conn.scalar(select(HubState.value).where(HubState.key == self.key))["drained_through"])
                    else:
                        done = 0
                        conn.execute(insert(HubState).values(key=self.key, value={"drained_through": 0}, updated_at=now))
                    fresh = [{k: r[k] for k in _COLUMNS} for r in rows if r["spool_id"] > done]
                    if fresh:
                        conn.execute(insert(AuditLog), fresh)
                    conn.execute(update(HubState).where(HubState.key == self.key)
                                 .values(value={"drained_through": max(done, top)}, updated_at=now))
            finally:
                if sqlite:
                    raw.execute(f"PRAGMA busy_timeout={usual}")
        return max(done, top), len(fresh)

    def _forget(self, through: int) -> None:
        """Delete spooled rows the hub has (up to its watermark)."""
        with self._lock:
            self._db.execute("DELETE FROM spooled WHERE id <= ?", (through,))

    @staticmethod
    def _as_row(found: tuple[Any, ...]) -> dict[str, Any]:
        spool_id, actor, action, object_type, object_id, detail, at = found
        return {"spool_id": spool_id, "actor": actor, "action": action, "object_type": object_type,
                "object_id": object_id, "detail": None if detail is None else json.loads(detail),
                "at": dt.datetime.fromisoformat(at)}

    def start(self) -> None:
        """Run the background writer: it drains what an earlier process left, then each row as it is spooled."""
        self._thread = threading.Thread(target=self._run, name="mdh-audit-spool", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            stopping = self._stop.is_set()
            try:
                self.drain()
                if self._waiting:
                    log.info("audit spool: backlog written to the hub")
                self._waiting = False
            except DBAPIError as err:  # the hub is busy or away: the rows wait in the spool (no data in the log)
                if not self._waiting:
                    log.info("audit spool: %d rows wait for the hub (%s)", self._count(), err.__class__.__name__)
                self._waiting = True
            except Exception:  # noqa: BLE001 - keep the writer alive; rows stay in the spool
                log.exception("audit spool: drain failed; rows stay in the spool")
            if stopping:
                return
            # Puts wake the writer; the timeout only retries a busy hub or finds rows other processes left.
            self._wake.wait(self.interval if self._waiting else self.interval * 10)
            self._wake.clear()

    def _count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM spooled").fetchone()[0])

    def close(self, timeout: float = 10.0) -> None:
        """Stop the writer after one last drain (what the hub cannot take stays for the next start)."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                return  # still writing: leave the connection to it (a daemon thread; the rows are safe)
        with self._lock:
            self._db.close()
