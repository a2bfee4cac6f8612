"""`mdh run` SIGKILLed between stages and inside one, then rerun: the hub ends exactly as after one clean run."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.reliability.pipeline_runs import (
    assert_reconciles,
    assert_same_outcome,
    receivers,
    run_to_end,
    snapshot,
    start_run,
)

pytestmark = pytest.mark.slow


def _hub_url(council: Path) -> str:
    return f"sqlite:///{council / 'hub.db'}"


def _writer_active(db: Path) -> bool:
    """True while another connection holds the hub's write lock (SQLite: an open write transaction)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        assert "locked" in str(err) or "busy" in str(err), err
        return True
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def test_run_killed_between_and_inside_stages_then_rerun_matches_a_clean_run(council_template: Path,
                                                                            tmp_path: Path) -> None:
    clean_dir, faulted = tmp_path / "clean", tmp_path / "faulted"
    shutil.copytree(council_template, clean_dir)
    shutil.copytree(council_template, faulted)
    clean_run = start_run(clean_dir / "hub.yaml")  # the reference, on a copy of the same data, alongside
    config, db = faulted / "hub.yaml", faulted / "hub.db"

    # 1. Between stages: address resolution has committed, its check is running, golden records not started.
    first = start_run(config)
    first.wait_for("✔ resolved_addresses")
    first.stop()
    for _ in range(200):  # the next step may be writing its check metrics: let it finish that, in small steps
        if not _writer_active(db):
            break
        first.resume()
        time.sleep(0.005)
        first.stop()
    assert not _writer_active(db), "a hub transaction was open: the kill would not be between stages"
    assert not any("▶ golden_persons" in line for line in first.lines)
    first.kill()
    after_first = snapshot(_hub_url(faulted))
    assert_reconciles(after_first)  # every extract finished before the kill
    assert any(band for *_rest, band in after_first.records.values()), "addresses were not resolved before the kill"
    assert after_first.golden_rows == 0
    assert after_first.runs == [("running",)]

    # 2. Inside a stage: golden_persons links and writes golden persons, xrefs, events and pairs in one
    # transaction. Once the step has started, wait until the run holds the hub's write lock (it has written and
    # not committed), freeze it, check it still holds the lock, and kill it.
    second = start_run(config)
    second.wait_for("▶ golden_persons")
    deadline = time.monotonic() + 60
    while not _writer_active(db):
        assert time.monotonic() < deadline and second.proc.poll() is None, "golden_persons never started writing"
        assert not any("✔ golden_persons" in line for line in second.lines), "golden_persons finished unobserved"
        time.sleep(0.002)
    second.stop()
    assert _writer_active(db), "the stage committed before the kill: not inside the stage"
    second.kill()
    after_second = snapshot(_hub_url(faulted))
    assert after_second.golden_rows == 0, "golden_persons left part of its work behind"
    assert after_second.records == after_first.records
    assert after_second.runs == [("interrupted",), ("running",)]  # the second run closed the first one's row

    # 3. The next run completes and the hub holds exactly what one clean run produced.
    run_to_end(config)
    rc, out, err = clean_run.finish()
    assert rc == 0, f"clean run failed: {out[-2000:]} {err[-2000:]}"
    got, clean = snapshot(_hub_url(faulted)), snapshot(_hub_url(clean_dir))
    assert_reconciles(got)
    assert clean.persons and clean.events and clean.xref
    assert_same_outcome(got, clean)
    assert got.runs == [("interrupted",), ("interrupted",), ("ok",)]
    assert receivers(faulted) == receivers(clean_dir)
    live = {k for k, (_h, deleted, *_r) in got.records.items() if not deleted}
    assert set(got.xref) <= live


def test_a_second_run_on_a_busy_hub_is_refused_in_one_line_and_changes_nothing(council_template: Path,
                                                                              tmp_path: Path) -> None:
    from hub.run_lock import exclusive_run
    from hub.store import open_hub

    council = tmp_path / "council"
    shutil.copytree(council_template, council)
    engine = open_hub(_hub_url(council))
    try:
        with exclusive_run(engine):  # as a run in another process would hold it
            rc, out, err = start_run(council / "hub.yaml").finish()
    finally:
        engine.dispose()
    assert rc != 0
    assert "another pipeline run is in progress" in err and len(err.strip().splitlines()) == 1
    assert snapshot(_hub_url(council)).runs == []  # nothing extracted, no run row
