"""Extracting raw rows from a source: any SQLAlchemy URL (streamed, server-side cursor), or CSV/Excel drops, in chunks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, column, create_engine, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.types import NullType

from connectors import ConnectorError
from connectors.drops import ARCHIVE_DIR, archive_drops, file_chunks, has_new_drops, pending_drops
from connectors.frames import DROP_FILE, ROW_NUMBER, ExtractChunk, records_as_strings
from schemas.config import SourceConfig

__all__ = [
    "ARCHIVE_DIR", "DEFAULT_RETRY", "DROP_FILE", "ROW_NUMBER", "ExtractChunk", "RetryPolicy", "archive_drops",
    "connect_with_retry", "describe_error", "extract", "has_new_drops", "pending_drops", "redact", "safe_watermark",
    "sql_engine",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try to reach a source: attempts, exponential backoff between them, and a connect timeout."""

    attempts: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    timeout_s: int = 30

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


DEFAULT_RETRY = RetryPolicy()


def redact(message: str, url: str) -> str:
    """``message`` with the URL's password (if any) blanked, so errors never leak credentials."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return message
    return message.replace(str(password), "***") if password else message


def sql_engine(url: str, timeout_s: int = 30) -> Engine:
    """An engine for a departmental database with a connect timeout on every dialect we support."""
    connect_args: dict[str, object] = {}
    if url.startswith("postgresql"):
        # Keepalives notice a server that vanished mid-stream instead of waiting on a dead socket forever.
        connect_args = {"connect_timeout": timeout_s, "keepalives": 1, "keepalives_idle": 30,
                        "keepalives_interval": 10, "keepalives_count": 3}
    elif url.startswith(("mysql", "mariadb")):
        # With a streaming (unbuffered) cursor the server waits while the hub loads a chunk; its default
        # net_write_timeout of 60 s would cut a slow consumer off mid-extract.
        connect_args = {"connect_timeout": timeout_s, "read_timeout": max(timeout_s, 300),
                        "init_command": "SET SESSION net_write_timeout = 3600"}
    elif url.startswith("sqlite"):
        connect_args = {"timeout": timeout_s}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def describe_error(err: BaseException, url: str) -> str:
    """One line about a driver error (its class and first line), credentials blanked."""
    first = str(getattr(err, "orig", None) or err).strip().splitlines()
    return redact(f"{err.__class__.__name__}: {first[0][:300] if first else ''}", url)


def connect_with_retry(engine: Engine, name: str, policy: RetryPolicy = DEFAULT_RETRY,
                       sleep: Callable[[float], None] = time.sleep) -> Connection:
    """Open a connection, retrying with exponential backoff; raises ConnectorError naming ``name`` when all fail."""
    url = engine.url.render_as_string(hide_password=False)
    for attempt in range(1, policy.attempts + 1):
        try:
            return engine.connect()
        except (DBAPIError, OSError) as err:
            if attempt == policy.attempts:
                raise ConnectorError(f"source {name}: cannot connect to {engine.url!r} after {attempt} "
                                     f"attempt(s): {describe_error(err, url)}") from err
            wait = policy.delay(attempt)
            log.warning("source %s: connect attempt %d failed (%s); retrying in %.1f s",
                        name, attempt, describe_error(err, url), wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _statement(cfg: SourceConfig, watermark: str | None):  # noqa: ANN202 - a SQLAlchemy Select
    if cfg.table:
        schema, _, name = cfg.table.rpartition(".")
        src = select(text("*")).select_from(table(name, schema=schema or None)).subquery("src")
    else:
        src = select(text("*")).select_from(text(f"({cfg.query}) AS src_query")).subquery("src")
    stmt = select(text("*")).select_from(src)
    if cfg.updated_at:
        wm_col = column(cfg.updated_at)
        if watermark is not None:
            # A bound parameter (never interpolated) of no declared type, so the server casts the text to the
            # column's own type (timestamp, date, integer) instead of comparing as varchar.
            stmt = stmt.where(wm_col > bindparam("watermark", watermark, type_=NullType()))
        stmt = stmt.order_by(wm_col)
    return stmt


def _watermark_text(value: object) -> str:
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") and hasattr(value, "hour") else str(value)


def safe_watermark(batch: Sequence[Sequence[object]], idx: int, next_first: object | None, more: bool) -> str | None:
    """The highest watermark value of a sorted batch that no later row can share.

    When the next batch starts with the batch's last value, rows with that value straddle the boundary:
    resuming after it would skip the rest, so the watermark stops at the value before it.
    """
    values = [row[idx] for row in batch if row[idx] is not None]
    if not values:
        return None
    last = values[-1]
    if more and next_first == last:
        earlier = [v for v in values if v != last]
        return _watermark_text(earlier[-1]) if earlier else None
    return _watermark_text(last)


def _sql_chunks(cfg: SourceConfig, watermark: str | None, chunksize: int, policy: RetryPolicy) -> Iterator[ExtractChunk]:
    engine = sql_engine(cfg.url, policy.timeout_s)
    row_base = 0
    try:
        with connect_with_retry(engine, cfg.name, policy) as conn:
            # stream_results: a named server-side cursor on PostgreSQL, SSCursor on MariaDB/MySQL, so a
            # 10M-row table is never held in memory; only one chunk (plus one look-ahead) is.
            result = conn.execution_options(stream_results=True, max_row_buffer=chunksize).execute(
                _statement(cfg, watermark))
            keys = [str(k) for k in result.keys()]
            wm_idx = keys.index(cfg.updated_at) if cfg.updated_at and cfg.updated_at in keys else None
            batch = result.fetchmany(chunksize)
            while batch:
                following = result.fetchmany(chunksize)
                frame = records_as_strings(batch, keys)
                frame[ROW_NUMBER] = range(row_base + 1, row_base + len(frame) + 1)
                row_base += len(frame)
                wm = None
                if wm_idx is not None:
                    wm = safe_watermark(batch, wm_idx, following[0][wm_idx] if following else None, bool(following))
                yield ExtractChunk(rows=frame, watermark=wm)
                batch = following
    except ConnectorError:
        raise
    except Exception as err:  # noqa: BLE001 - any driver error becomes one clear, source-named error
        raise ConnectorError(f"source {cfg.name}: extract failed after {row_base} rows: "
                             f"{describe_error(err, cfg.url)}") from err
    finally:
        engine.dispose()


def source_keys(cfg: SourceConfig, *, chunksize: int = 200_000, retry: RetryPolicy = DEFAULT_RETRY) -> Iterator[list[str]]:
    """Stream only the key column of a database source, for delete detection on watermark sources.

    An incremental (watermark) extract never sees a hard-deleted row; a key-only scan is cheap enough to
    run every night and tells which keys are gone.
    """
    engine = sql_engine(cfg.url, retry.timeout_s)
    src = _statement(cfg, None).order_by(None).subquery("keyscan")
    stmt = select(src.c[cfg.key]) if cfg.key in src.c else select(column(cfg.key)).select_from(src)
    try:
        with connect_with_retry(engine, cfg.name, retry) as conn:
            result = conn.execution_options(stream_results=True, max_row_buffer=chunksize).execute(stmt)
            while batch := result.fetchmany(chunksize):
                yield [_watermark_text(row[0]).strip() for row in batch if row[0] is not None]
    except ConnectorError:
        raise
    except Exception as err:  # noqa: BLE001 - one clear, source-named error
        raise ConnectorError(f"source {cfg.name}: key scan failed: {describe_error(err, cfg.url)}") from err
    finally:
        engine.dispose()


def extract(cfg: SourceConfig, *, watermark: str | None = None, chunksize: int = 50_000,
            retry: RetryPolicy = DEFAULT_RETRY) -> Iterator[ExtractChunk]:
    """Stream a source's rows in chunks: rows newer than ``watermark`` for a watermark source, else all rows.

    Connection failures are retried with exponential backoff (``retry``); a source that stays down raises
    :class:`ConnectorError` naming the source (never its password), so only its own extract fails.

    Examples:
        >>> import sqlite3, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "src.db")
        >>> with sqlite3.connect(path) as db:
        ...     _ = db.execute("create table people (ref integer, name text)")
        ...     _ = db.executemany("insert into people values (?, ?)", [(1, "A"), (2, None)])
        >>> cfg = SourceConfig(name="ctax", url=f"sqlite:///{path}", table="people", key="ref",
        ...                    fields={"full_name": "name"})
        >>> [c.rows[["ref", "name"]].values.tolist() for c in extract(cfg)]
        [[['1', 'A'], ['2', None]]]
    """
    if cfg.is_file:
        yield from file_chunks(cfg, chunksize)
    else:
        yield from _sql_chunks(cfg, watermark, chunksize, retry)


def mapped_person_rows(sources: Sequence[SourceConfig]) -> pd.DataFrame:
    """Every row of the person sources, extracted as the hub extracts them and renamed by each source's field map
    (the source's own ``uprn`` left out), with ``source`` and ``source_key``; the last row of a repeated key wins.
    For analysts' and benchmarks' reads of a council outside the hub store (nothing is validated or stored)."""
    frames = []
    for src in sources:
        if src.kind != "person":
            continue
        raw = pd.concat([chunk.rows for chunk in extract(src)], ignore_index=True)
        raw = raw.drop_duplicates(subset=[src.key], keep="last")
        out = pd.DataFrame({canonical: raw[column] for canonical, column in src.fields.items() if canonical != "uprn"})
        out["source"] = src.name
        out["source_key"] = raw[src.key].astype(str).to_numpy()
        frames.append(out)
    return pd.concat(frames, ignore_index=True)
