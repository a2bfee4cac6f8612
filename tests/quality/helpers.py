"""Running extracts of the tiny council without Dagster: a run-log row, then the ingest service."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.ingest import ingest_source
from hub.store import open_hub
from schemas import Run
from schemas.config import HubConfig, load_config


def new_run(engine: Engine) -> int:
    with Session(engine) as s, s.begin():
        run = Run(kind="full")
        s.add(run)
        s.flush()
        return run.id


def extract_run(config_path: Path) -> tuple[HubConfig, Engine, int]:
    """Open the hub, start a run and extract every source; returns the config, engine and run id."""
    config = load_config(config_path)
    engine = open_hub(config.hub)
    run_id = new_run(engine)
    for source in config.sources:
        ingest_source(engine, source, run_id=run_id, full=True)
    return config, engine, run_id
