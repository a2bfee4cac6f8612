"""Fixtures shared by the hub's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import SourceSystem
from schemas.config import parse_config


@pytest.fixture
def trusted_hub(tmp_path: Path):  # noqa: ANN201 - (engine, HubConfig)
    """A SQLite hub with a trusted source (ctax, trust 3) and one below ``events.min_trust`` (requests, trust 1)."""
    config = parse_config({
        "hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"}, "events": {"min_trust": 2},
        "sources": [{"name": "ctax", "url": "c.csv", "key": "k", "trust": 3, "fields": {"full_name": "n"}},
                    {"name": "requests", "url": "r.csv", "key": "k", "trust": 1, "fields": {"full_name": "n"}}],
    }, base_dir=tmp_path)
    engine = open_hub(config.hub)
    with Session(engine) as s, s.begin():
        s.add_all([SourceSystem(name="ctax", trust=3), SourceSystem(name="requests", trust=1)])
    yield engine, config
    engine.dispose()
