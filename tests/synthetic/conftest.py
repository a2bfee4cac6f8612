"""A small synthetic council shared by the read-only tests of this room."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic import CouncilManifest, SynthSettings, write_council


@pytest.fixture(scope="session")
def council(tmp_path_factory: pytest.TempPathFactory) -> CouncilManifest:
    """3,000 people with 180 prepared days (not applied): enough for every noise kind and event type."""
    return write_council(tmp_path_factory.mktemp("council"), SynthSettings(people=3000, days=180, seed=7))


@pytest.fixture(scope="session")
def council_dir(council: CouncilManifest) -> Path:
    return council.out_dir
