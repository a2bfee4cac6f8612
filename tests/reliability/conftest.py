"""Fixtures of the reliability room: one small synthetic council, written once and copied by each fault test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def council_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-resident synthetic council (8 sources, a CSV drop folder, write-back targets); copy it, never run it."""
    from synthetic import SynthSettings, write_council

    out = tmp_path_factory.mktemp("council")
    write_council(out, SynthSettings(people=200, days=0, seed=7))
    return out
