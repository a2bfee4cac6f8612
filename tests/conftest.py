"""Shared fixtures: real database servers on this machine (skipped with a reason when absent)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

pytest_plugins = ["tests.conftest_servers"]

PG_HOST = os.environ.get("MDH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("MDH_TEST_PG_PORT", "5432"))
MYSQL_HOST = os.environ.get("MDH_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("MDH_TEST_MYSQL_PORT", "3306"))


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not port_open(PG_HOST, PG_PORT):
        pytest.skip(f"PostgreSQL is not running on {PG_HOST}:{PG_PORT}")
    name = f"mdh_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"cannot create a PostgreSQL test database: {err.__class__.__name__}")
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database for one test, dropped afterwards."""
    if not port_open(MYSQL_HOST, MYSQL_PORT):
        pytest.skip(f"MariaDB is not running on {MYSQL_HOST}:{MYSQL_PORT}")
    name = f"mdh_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}/", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"cannot create a MariaDB test database: {err.__class__.__name__}")
    try:
        yield f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
