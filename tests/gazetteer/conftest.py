"""Shared fixtures: the small gazetteer files of every format, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import gazetteer_fixtures as F


@pytest.fixture(scope="session")
def gaz_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("gaz")
    return {name: F.write(d, f"{name}.csv", getattr(F, name.upper()))
            for name in ("abp_new", "abp_old", "dtf73", "abplus", "minimal")}
