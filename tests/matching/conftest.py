"""Fixtures for matching tests (helpers live in ``matching_fixtures``)."""

from __future__ import annotations

import pytest

from matching.model import FellegiSunterModel
from matching_fixtures import toy_model


@pytest.fixture
def model() -> FellegiSunterModel:
    return toy_model()
