"""A Dagster run and `mdh run` are locked against each other on one hub (issue 11).

The ``hub`` resource holds the hub's run lock while it is initialised (the whole run in-process, each step under
the multiprocess executor). A run that finds the hub held waits up to ``run_lock_wait_s``, then fails naming the
run that holds it, having written nothing; once the hub is free it runs, closing rows of killed runs as
``interrupted`` as ``mdh run`` does. The holder here is another process, as an ``mdh run`` would be.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance, ExecuteInProcessResult, execute_job, instance_for_test, materialize, reconstructable,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.run_lock import HubBusyError, RunInterruptedError, exclusive_run, orchestrated_step
from hub.store import open_hub
from pipelines.ingest.assets import build_extract_asset
from pipelines.resources import HubResource
from schemas import Run, SourceRecord
from schemas.config import load_config
from tests.conftest_servers import maria_fresh_url, pg_fresh_url  # noqa: F401 - fixtures
from tests.quality.council import write_council
from tests.reliability.lock_jobs import CONFIG_ENV, two_extracts_job

HOLDER = """
import sys
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from hub.run_lock import close_interrupted_runs, exclusive_run
from hub.store import open_hub
from schemas import Run, SourceRecord

engine = open_hub(sys.argv[1])
with exclusive_run(engine):  # as `mdh run` holds it for its whole run
    close_interrupted_runs(engine)
    with Session(engine) as s, s.begin():
        s.add(Run(kind="incremental", dagster_run_id=sys.argv[2]))  # the run-log row its first step creates
    print("held", flush=True)
    sys.stdin.readline()
    with Session(engine) as s, s.begin():
        written = s.scalar(select(func.count()).select_from(SourceRecord))  # by others while it held the hub
        s.get(Run, 1).status = "ok"
sys.exit(3 if written else 0)
"""


class Holder:
    """A process holding the hub's run lock, as an ``mdh run`` in progress does."""

    def __init__(self, hub_url: str, dagster_run_id: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, hub_url, dagster_run_id],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def finish(self) -> None:
        """The run ends normally: marks its row ok and releases the lock (may be called from a timer thread)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def ended_ok(self) -> bool:
        """It ended normally, and nothing was written to the hub while it held it (exit code 3)."""
        return self.proc.wait(timeout=30) == 0

    def kill(self) -> None:
        """The run is killed (-9): the operating system frees the lock; its row still says running."""
        self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def council(tmp_path: Path) -> Path:
    return write_council(tmp_path / "council")


def _extract(config: Path, *, wait_s: float) -> ExecuteInProcessResult:
    """Materialise the council tax extract (a hub-writing asset) through Dagster's in-process API."""
    asset = build_extract_asset(load_config(config).source("council_tax"))
    return materialize([asset], resources={"hub": HubResource(config_path=str(config), run_lock_wait_s=wait_s)},
                       instance=DagsterInstance.ephemeral(), raise_on_error=False)


def _failure(result: ExecuteInProcessResult) -> str:
    """Every error message of a failed run, causes included."""
    texts = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            texts.append(error.message)
            error = error.cause
    return "\n".join(texts)


def _state(hub_url: str) -> tuple[int, list[tuple[str, str]]]:
    engine = open_hub(hub_url)
    try:
        with Session(engine) as s:
            records = s.scalar(select(func.count()).select_from(SourceRecord))
            runs = [tuple(r) for r in s.execute(select(Run.dagster_run_id, Run.status).order_by(Run.id))]
    finally:
        engine.dispose()
    return records, runs


def test_dagster_run_fails_clearly_while_a_cli_run_holds_the_hub_then_runs_once_it_is_free(council: Path) -> None:
    hub_url = load_config(council).hub
    holder = Holder(hub_url, "cli-run-1")
    try:
        started = time.monotonic()
        result = _extract(council, wait_s=1.0)
        waited = time.monotonic() - started
        assert not result.success
        error = _failure(result)
        assert "another pipeline run is in progress" in error
        assert "run id 1 (dagster run cli-run-1) is running" in error and "waited 1s" in error
        assert waited >= 1.0  # it waited (bounded), rather than failing at once or hanging
        assert _state(hub_url) == (0, [("cli-run-1", "running")])  # nothing extracted, no run row of its own
    finally:
        holder.kill()  # the CLI run is killed mid-run: its row says running, its lock is gone

    result = _extract(council, wait_s=1.0)
    assert result.success
    records, runs = _state(hub_url)
    assert records == 80
    # The killed CLI run's row is closed as `mdh run` closes killed runs' rows; this run's own row is open.
    assert runs == [("cli-run-1", "interrupted"), (result.run_id, "running")]


def test_a_step_waits_for_a_run_that_ends_within_the_bound(council: Path) -> None:
    hub_url = load_config(council).hub
    holder = Holder(hub_url, "cli-run-1")
    started = time.monotonic()
    threading.Timer(3.0, holder.finish).start()  # the CLI run ends while the Dagster step waits
    result = _extract(council, wait_s=60.0)
    assert holder.ended_ok()  # nothing was written while the CLI run held the hub...
    assert result.success and time.monotonic() - started >= 3.0  # ...and the step ran once it had ended
    assert _state(hub_url) == (80, [("cli-run-1", "ok"), (result.run_id, "running")])


def test_steps_of_an_mdh_run_go_ahead_under_the_lock_it_holds(council: Path) -> None:
    """`mdh run` holds the lock and executes its steps in-process, in the same thread: they must not wait on it."""
    engine = open_hub(load_config(council).hub)
    try:
        with exclusive_run(engine):
            result = _extract(council, wait_s=0.0)
    finally:
        engine.dispose()
    assert result.success


def test_a_run_whose_row_was_closed_between_its_steps_stops(tmp_path: Path) -> None:
    """Multiprocess executor: between two steps nothing holds the lock, so an `mdh run` may start, closing this
    run's row as interrupted. The next step must not write on (nor reopen the row for `finish_run` to mark ok)."""
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with Session(engine) as s, s.begin():
            s.add(Run(kind="incremental", dagster_run_id="dagster-a", status="interrupted"))
        with pytest.raises(RunInterruptedError, match="hub run id 1 .dagster run dagster-a. was closed as interrupted"):
            with orchestrated_step(engine, "dagster-a", wait_s=0):
                pytest.fail("the step ran")
        with orchestrated_step(engine, "dagster-b", wait_s=0):  # a new run goes ahead
            pass
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", ["pg_fresh_url", "maria_fresh_url"])
def test_server_hubs_wait_bounded_then_name_the_holder(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    holder = Holder(url, "cli-run-1")
    engine = open_hub(url)
    try:
        started = time.monotonic()
        with pytest.raises(HubBusyError, match=r": run id 1 \(dagster run cli-run-1\) is running; waited 1s;"):
            with orchestrated_step(engine, "dagster-b", wait_s=1.0, poll_s=0.2):
                pytest.fail("the step ran while another run held the hub")
        assert time.monotonic() - started >= 1.0
        threading.Timer(0.5, holder.finish).start()
        with orchestrated_step(engine, "dagster-b", wait_s=30.0, poll_s=0.2):
            assert holder.ended_ok()
    finally:
        if holder.proc.poll() is None:
            holder.kill()
        engine.dispose()


@pytest.mark.slow
def test_parallel_steps_of_one_multiprocess_run_take_turns_on_the_lock(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the multiprocess executor each step takes the lock in its own process; the two extracts run in
    parallel and must wait for each other, not fail each other."""
    config = write_council(tmp_path / "council", drops=True)
    (config.parent / "drops" / "housing" / "tenants_01.csv").write_text(
        "tenancy,tenant,address,postcode\nT1,Anna Smith,1 High Street,AB1 2DE\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    (tmp_path / "dagster").mkdir()
    with instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        with execute_job(reconstructable(two_extracts_job), instance=instance, raise_on_error=False) as result:
            steps = {e.step_key for e in result.all_events if e.is_step_success}
            engine_events = [e.message or "" for e in result.all_events if e.event_type_value == "ENGINE_EVENT"]
            assert result.success, _failure(result)
            run_id = result.run_id
    assert steps == {"extract_council_tax", "extract_housing"}
    assert any("Multiprocess executor" in m for m in engine_events), engine_events
    assert _state(load_config(config).hub) == (81, [(run_id, "running")])
