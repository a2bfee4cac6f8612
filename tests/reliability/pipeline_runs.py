"""Helpers for fault tests on whole runs: `mdh run` as a subprocess watched line by line, and a hub snapshot to compare."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

RUN_TIMEOUT = 180.0


@dataclass
class MdhRun:
    """A running ``mdh run`` whose console lines (the progress log: ``▶ step`` / ``✔ step``) arrive as they print."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def wait_for(self, needle: str, timeout: float = RUN_TIMEOUT) -> str:
        """Block until a console line contains ``needle``; fail (and kill the run) if the run ends or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                raise AssertionError(f"'{needle}' never printed; output so far:\n" + "".join(self.lines[-40:]))
            if needle in line:
                return line

    def stop(self) -> None:
        """Freeze the process at once (SIGSTOP), so what it has committed can be inspected before it is killed."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen process go on (SIGCONT)."""
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, no rollback from the process's side."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = RUN_TIMEOUT) -> tuple[int, str, str]:
        """Wait for the end of the run: exit code, everything printed on stdout, everything on stderr."""
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return rc, "".join(self.lines), err

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def start_run(config: Path, *extra: str) -> MdhRun:
    """Start ``mdh run --config CONFIG`` in a subprocess with unbuffered output and an ephemeral Dagster instance."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="200")
    cmd = [sys.executable, "-c", "from hub.cli import main; main()", "run", "--config", str(config), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    return MdhRun(proc)


def run_to_end(config: Path, *extra: str) -> str:
    """Run ``mdh run`` to the end and return its output; fails the test on a non-zero exit."""
    rc, out, err = start_run(config, *extra).finish()
    assert rc == 0, f"mdh run exited {rc}\n{out[-3000:]}\n{err[-3000:]}"
    return out


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@dataclass
class HubSnapshot:
    """What a run leaves in the hub, minus timestamps and run ids: comparable between a faulted and a clean hub."""

    records: dict[tuple[str, str], tuple[Any, ...]]  # (source, key) -> content hash, deleted, matched UPRN, band
    extracted: dict[str, int]  # rows extracted per source, over every extract batch
    batches: list[tuple[str, str, int, int, int]]  # source, status, extracted, loaded, quarantined
    quarantined: list[tuple[Any, ...]]  # source, key, field, reason (sorted, duplicates kept)
    xref: dict[tuple[str, str], int]  # (source, key) -> golden person id
    persons: dict[int, tuple[Any, ...]]  # person id -> status, redirect, version, names, dob, uprn, postcode
    events: list[tuple[Any, ...]]  # event type, person id, uprn, source (sorted, duplicates kept)
    event_keys: int  # distinct idempotency keys
    deliveries: list[tuple[Any, ...]]  # event's type and person, subscriber (sorted, duplicates kept)
    versions: int
    pairs: int
    open_tasks: int
    property_xref: dict[tuple[str, str], Any]
    runs: list[tuple[str, ...]]  # status of every run, oldest first
    live_people: set[tuple[str, str]]  # (source, key) of every live person record

    @property
    def golden_rows(self) -> int:
        return len(self.persons) + len(self.xref) + len(self.events) + self.versions + self.pairs


def snapshot(url: str) -> HubSnapshot:
    """Read the hub at ``url`` into a :class:`HubSnapshot`."""
    engine = create_engine(url)
    try:
        src = "JOIN source_system s ON s.id = r.source_id"
        return HubSnapshot(
            records={(s, k): rest for s, k, *rest in _rows(engine, f"""
                SELECT s.name, r.source_key, r.content_hash, r.deleted, r.matched_uprn, r.address_band
                FROM source_record r {src}""")},
            extracted=dict(_rows(engine, """SELECT s.name, SUM(b.extracted) FROM extract_batch b
                                            JOIN source_system s ON s.id = b.source_id GROUP BY s.name""")),
            batches=_rows(engine, """SELECT s.name, b.status, b.extracted, b.loaded, b.quarantined FROM extract_batch b
                                     JOIN source_system s ON s.id = b.source_id ORDER BY b.id"""),
            quarantined=sorted(_rows(engine, """SELECT s.name, q.source_key, q.field, q.reason FROM quarantined_row q
                                                JOIN source_system s ON s.id = q.source_id"""), key=repr),
            xref={(s, k): p for s, k, p in _rows(engine, f"""
                SELECT s.name, r.source_key, x.person_id FROM xref x
                JOIN source_record r ON r.id = x.source_record_id {src}""")},
            persons={p: rest for p, *rest in _rows(engine, """
                SELECT person_id, status, redirect_to, version, first_name, last_name, date_of_birth, uprn, postcode
                FROM golden_person""")},
            events=sorted(_rows(engine, "SELECT event_type, person_id, uprn, source FROM change_event"), key=repr),
            event_keys=_rows(engine, "SELECT COUNT(DISTINCT idempotency_key) FROM change_event")[0][0],
            deliveries=sorted(_rows(engine, """SELECT e.event_type, e.person_id, d.subscriber FROM event_delivery d
                                               JOIN change_event e ON e.id = d.event_id"""), key=repr),
            versions=_rows(engine, "SELECT COUNT(*) FROM golden_person_version")[0][0],
            pairs=_rows(engine, "SELECT COUNT(*) FROM match_pair")[0][0],
            open_tasks=_rows(engine, "SELECT COUNT(*) FROM review_task WHERE status = 'open'")[0][0],
            property_xref={(s, k): u for s, k, u in _rows(engine, f"""
                SELECT s.name, r.source_key, x.uprn FROM property_xref x
                JOIN source_record r ON r.id = x.source_record_id {src}""")},
            runs=_rows(engine, "SELECT status FROM run ORDER BY id"),
            live_people=set(_rows(engine, f"""SELECT s.name, r.source_key FROM source_record r {src}
                                              WHERE r.kind = 'person' AND NOT r.deleted""")),
        )
    finally:
        engine.dispose()


def assert_same_outcome(got: HubSnapshot, clean: HubSnapshot) -> None:
    """Everything a nightly run produces matches the clean run's, record for record and ID for ID."""
    assert got.records == clean.records, "source records differ from a clean run"
    assert got.extracted == clean.extracted, "rows extracted per source differ from a clean run"
    assert got.quarantined == clean.quarantined, "quarantined rows differ from a clean run"
    assert got.xref == clean.xref, "golden IDs differ from a clean run"
    assert got.persons == clean.persons, "golden persons differ from a clean run"
    assert got.events == clean.events, "change events differ from a clean run"
    assert got.event_keys == len(got.events), "an idempotency key is repeated"
    assert got.deliveries == clean.deliveries, "deliveries differ from a clean run"
    assert (got.versions, got.pairs, got.open_tasks) == (clean.versions, clean.pairs, clean.open_tasks)
    assert got.property_xref == clean.property_xref, "property cross-references differ from a clean run"


def assert_reconciles(snap: HubSnapshot) -> None:
    """Every extract batch finished and reconciles: extracted = loaded + quarantined."""
    assert snap.batches, "no extract batches"
    for source, status, extracted, loaded, quarantined in snap.batches:
        assert status == "ok", f"extract of {source} left as {status}"
        assert extracted == loaded + quarantined, f"{source}: {extracted} != {loaded} + {quarantined}"


def receivers(council: Path) -> dict[str, int]:
    """What the synthetic council's systems received: rows in each write-back table, files in each outbox folder."""
    import sqlite3

    got: dict[str, int] = {}
    for db in sorted((council / "sources").glob("*.sqlite")):
        with sqlite3.connect(db) as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'mdh_%'"):
                got[f"{db.stem}.{table}"] = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    for folder in sorted(p for p in (council / "outbox").glob("*") if p.is_dir()):
        got[f"outbox/{folder.name}"] = sum(1 for _ in folder.rglob("*") if _.is_file())
    return got
