"""Fixtures for the Dagster tests: a tiny council with a CSV drop folder, and its Definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.quality.council import write_council


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """hub.yaml of a tiny council: a SQLite council tax source and a housing CSV drop folder (empty)."""
    return write_council(tmp_path / "council", drops=True)
