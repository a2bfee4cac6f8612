"""The hub database unavailable, at the start of a run and in the middle of one: one clear line, nothing lost, recovery."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.store import open_hub
from tests.conftest_servers import PG_HOST, PG_PORT, free_port
from tests.quality.council import people_rows, write_council
from tests.reliability.pipeline_runs import assert_reconciles, receivers, run_to_end, snapshot, start_run

pytestmark = pytest.mark.slow

ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres"


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """A tiny council (two sources, one a CSV drop folder holding one file) so each whole run takes seconds."""
    config = write_council(tmp_path / "council", people=40, drops=True)
    lines = ["tenancy,tenant,address,postcode"]
    lines += [f'H{i:04d},{r["name"]},"{r["addr"]}",{r["pc"]}' for i, r in enumerate(people_rows(20))]
    (config.parent / "drops" / "housing" / "tenants_0001.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config.parent


def _point_hub_at(config: Path, url: str) -> None:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["hub"] = url
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def _pending_drops(council: Path) -> list[str]:
    return sorted(p.name for p in (council / "drops").rglob("*.csv") if "_archive" not in p.parts)


def _assert_one_line_error(rc: int, out: str, err: str, *must_name: str) -> str:
    assert rc != 0
    assert "Traceback" not in out + err, (out + err)[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err[-3000:]
    for name in must_name:
        assert name in errors[0], errors[0]
    return errors[0]


def test_hub_unreachable_at_start_is_one_line_and_touches_nothing(council: Path) -> None:
    port = free_port()
    _point_hub_at(council / "hub.yaml", f"postgresql+psycopg://mdh:s3cret-pw@127.0.0.1:{port}/hub")
    drops, received = _pending_drops(council), receivers(council)
    assert drops

    rc, out, err = start_run(council / "hub.yaml").finish(timeout=60)

    line = _assert_one_line_error(rc, out, err, "hub store", f"127.0.0.1:{port}/hub", "Connection refused")
    assert "s3cret-pw" not in out + err
    assert "▶" not in out, "a stage started although the hub was down"
    assert _pending_drops(council) == drops, "a drop was consumed while the hub was down"
    assert receivers(council) == received
    assert line
    for command in (["status"], ["export", "xref", "--out", str(council / "x.csv")]):
        other = subprocess.run([sys.executable, "-c", "from hub.cli import main; main()", *command,
                                "--config", str(council / "hub.yaml")], capture_output=True, text=True, timeout=60)
        _assert_one_line_error(other.returncode, other.stdout, other.stderr, "hub store", f"127.0.0.1:{port}/hub")


def _locks(conn, db: str) -> dict[str, set[tuple[str, bool]]]:  # noqa: ANN001 - a SQLAlchemy connection
    rows = conn.execute(text("""
        SELECT c.relname, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE a.datname = :db AND a.pid <> pg_backend_pid() AND c.relname IN ('golden_person', 'xref', 'match_pair')"""),
        {"db": db})
    out: dict[str, set[tuple[str, bool]]] = {}
    for rel, mode, granted in rows:
        out.setdefault(rel, set()).add((mode, granted))
    return out


@pytest.mark.postgres
def test_hub_lost_mid_stage_fails_in_one_line_then_next_run_recovers(council: Path, pg_fresh_url: str) -> None:
    _point_hub_at(council / "hub.yaml", pg_fresh_url)
    db = make_url(pg_fresh_url).database
    open_hub(pg_fresh_url).dispose()  # schema in place, so a lock can be taken on a table before the run starts
    hub = create_engine(pg_fresh_url)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        # Hold a SHARE lock on match_pair: reads go on, but golden_persons' transaction, which writes golden
        # persons, xrefs and events before its match pairs, waits there with all of those written and uncommitted.
        blocker = hub.connect()
        blocker.execute(text("LOCK TABLE match_pair IN SHARE MODE"))
        run = start_run(council / "hub.yaml")
        deadline = time.monotonic() + 120
        with hub.connect() as watch:  # pg_class is per database: watch from inside the hub's
            while True:
                locks = _locks(watch, db)
                watch.rollback()
                if (("RowExclusiveLock", False) in locks.get("match_pair", set())
                        and ("RowExclusiveLock", True) in locks.get("golden_person", set())
                        and ("RowExclusiveLock", True) in locks.get("xref", set())):
                    break
                assert time.monotonic() < deadline and run.proc.poll() is None, "".join(run.lines[-30:])
                time.sleep(0.02)
        # The hub goes away: no new connections, every open one cut (the lock holder's included).
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"), {"db": db})
        rc, out, err = run.finish(timeout=120)
        blocker.invalidate()  # cut by the server with the rest
        _assert_one_line_error(rc, out, err, "golden_persons", "hub store", db)
        assert "✘ golden_persons" in out

        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true'))
        hub.dispose()
        half = snapshot(pg_fresh_url)
        assert half.golden_rows == 0, "golden_persons left part of its work behind"
        assert_reconciles(half)

        run_to_end(council / "hub.yaml")
        got = snapshot(pg_fresh_url)
        assert_reconciles(got)
        assert {k: v[:2] for k, v in got.records.items()} == {k: v[:2] for k, v in half.records.items()}, \
            "source records were lost or duplicated"
        assert got.extracted["housing"] == half.extracted["housing"] == 20, "the drop was lost or read twice"
        assert set(got.xref) == got.live_people, "a live person record has no golden person"
        assert got.event_keys == len(got.events), "an event was written twice"
        new_people = [e for e in got.events if e[0] == "new_person"]
        assert len(new_people) == len({e[1] for e in new_people}) == len(got.persons), "a person was created twice"
        assert got.runs[-1] == ("ok",)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true'))
        hub.dispose()
        admin.dispose()


def test_a_database_error_is_reported_by_its_first_line_not_its_sql() -> None:
    from types import SimpleNamespace

    from hub.cli import _root_cause

    error = SimpleNamespace(cause=None, cls_name="DataError", message=(
        "sqlalchemy.exc.DataError: (psycopg.errors.InvalidTextRepresentation) invalid input syntax for type json\n"
        "DETAIL:  Token \"NaN\" is invalid.\nunnamed portal parameter $17 = '...'\n[SQL: INSERT INTO source_record …]\n"
        "[parameters: [{'last_name': 'x'}]]\n(Background on this error at: https://sqlalche.me/e/21/9h9h)\n"))
    assert _root_cause(error).endswith("invalid input syntax for type json")
    step = SimpleNamespace(cause=None, cls_name="X", message="Step failed\nDagsterAssetCheckFailedError: check failed")
    assert _root_cause(step) == "DagsterAssetCheckFailedError: check failed"
