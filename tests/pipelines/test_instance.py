"""The instance configurations in dagster_home/: SQLite by default, PostgreSQL run storage when configured."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, job, op
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[2]


@op
def count_to_three() -> int:
    return 3


@job
def tiny_job() -> None:
    count_to_three()


def _home(tmp_path: Path, config: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / config, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_default_instance_keeps_sqlite_storage_inside_dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path, "dagster.yaml", monkeypatch)
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert not instance.telemetry_enabled
        result = tiny_job.execute_in_process(instance=instance)
        assert result.success and result.output_for_node("count_to_three") == 3
        assert [r.dagster_run.run_id for r in instance.get_run_records()] == [result.run_id]
    assert (home / "history" / "runs.db").is_file()


def test_postgres_run_storage(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dagster_postgres", reason="dagster-postgres is not installed (pip install dagster-postgres)")
    # dagster-postgres needs psycopg2: under SQLAlchemy 2.1 a bare postgresql:// means psycopg 3 (NOTIFY fails).
    dagster_url = postgres_url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    _home(tmp_path, "dagster.postgres.yaml", monkeypatch)
    monkeypatch.setenv("MDH_DAGSTER_PG_URL", dagster_url)
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = tiny_job.execute_in_process(instance=instance)
        assert result.success
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        stored = conn.execute(text("select run_id, status from runs")).all()
        events = conn.execute(text("select count(*) from event_logs where run_id = :r"), {"r": result.run_id}).scalar()
    engine.dispose()
    assert stored == [(result.run_id, "SUCCESS")]
    assert events > 0
