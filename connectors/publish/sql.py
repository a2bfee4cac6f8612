"""Dialect-aware SQL for publish targets: engines on a source's database, upserts and insert-once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite

from connectors.publish.base import DeliveryError
from connectors.pull import describe_error as describe
from connectors.pull import sql_engine
from schemas.config import PublishTarget, SourceConfig

__all__ = ["describe", "insert_once", "split_name", "target_engine", "target_url", "upsert"]


def target_url(target: PublishTarget, source: SourceConfig) -> str:
    """The database a SQL target writes to: its own ``url`` if given, else the source's database."""
    url = target.url or source.url
    if "://" not in url:
        raise DeliveryError(f"subscriber {source.name}: {target.kind} target needs a database URL "
                            "(the source is a file drop; set 'url' on the target)")
    return url


def target_engine(target: PublishTarget, source: SourceConfig, timeout_s: int = 30) -> Engine:
    """An engine on the target database with connect timeouts."""
    return sql_engine(target_url(target, source), timeout_s)


def split_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` → ``("schema", "table")``; ``"table"`` → ``(None, "table")``."""
    schema, _, table = name.rpartition(".")
    return schema or None, table


def _insert(conn: Connection, table: Table):  # noqa: ANN202 - a dialect-specific Insert
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    if name in ("mysql", "mariadb"):
        return mysql.insert(table)
    raise DeliveryError(f"table {table.name}: upsert not supported on {name} (SQLite, PostgreSQL, MariaDB/MySQL are)")


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> None:
    """Insert ``rows``, replacing every non-key column where the key already exists."""
    if not rows:
        return
    stmt = _insert(conn, table)
    changing = [c.name for c in table.columns if c.name not in key]
    if conn.dialect.name in ("mysql", "mariadb"):
        stmt = stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in changing})
    else:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in changing})
    conn.execute(stmt, list(rows))


def insert_once(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> None:
    """Insert ``rows`` whose ``key`` is not there yet; replays insert nothing twice."""
    if not rows:
        return
    stmt = _insert(conn, table)
    if conn.dialect.name in ("mysql", "mariadb"):
        stmt = stmt.on_duplicate_key_update({key: stmt.inserted[key]})  # a no-op update, unlike INSERT IGNORE
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[key])
    conn.execute(stmt, list(rows))
