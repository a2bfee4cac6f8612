"""Shared fixtures. The real-server fixtures (PostgreSQL, MariaDB, RabbitMQ, an HTTP receiver) live in
tests/conftest_servers.py and skip with a clear reason when their server is not running."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.conftest_servers"]


@pytest.fixture
def postgres_url(pg_fresh_url: str) -> str:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    return pg_fresh_url


@pytest.fixture
def mariadb_url(maria_fresh_url: str) -> str:
    """A fresh, empty MariaDB database for one test, dropped afterwards."""
    return maria_fresh_url
