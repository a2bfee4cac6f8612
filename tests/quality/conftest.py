"""Fixtures for the data-quality tests: a tiny council and its hub store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.quality.council import write_council


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """hub.yaml of a tiny council with one SQLite source of 80 people."""
    return write_council(tmp_path / "council")
