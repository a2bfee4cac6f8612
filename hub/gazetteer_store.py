"""Writing a loaded gazetteer into the hub store (idempotent, applying deletions) and reading it back."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.orm import Session

from schemas import Lpi, Property, Street
from schemas.base import utcnow
from schemas.columns import LpiFrame, PropertyFrame, StreetFrame

if TYPE_CHECKING:
    from gazetteer.model import Gazetteer

BATCH = 20_000  # rows per statement on the generic (other dialects) path
SQLITE_BATCH = 200_000  # rows per executemany on SQLite
SQLITE_CACHE_KIB = 512 * 1024  # page cache for the load transaction: index pages stay in memory


@dataclass
class GazetteerLoadSummary:
    """What a load did: rows read, loaded per table, rejected and deleted, so counts reconcile."""

    fmt: str
    rows_read: int
    streets: int
    properties: int
    lpis: int
    rejected: int
    deleted: int


def _clean(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar → Python
        return value.item()
    return value


def _columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[list[str], list[np.ndarray]]:
    """Present columns as object arrays of plain Python values, missing → None (vectorised per column)."""
    names = [c for c in columns if c in frame]
    arrays = []
    for c in names:
        col = frame[c]
        values = col.astype(object).to_numpy(copy=True)
        values[col.isna().to_numpy()] = None
        arrays.append(values)
    return names, arrays


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict]:
    names, arrays = _columns(frame, columns)
    return [dict(zip(names, row)) for row in zip(*arrays)]


def _upsert_generic(conn: Connection, model: type, frame: pd.DataFrame, columns: tuple[str, ...], key: str) -> None:
    """Other dialects: delete the keys, then insert, inside the load's transaction."""
    rows = _records(frame, columns)
    for start in range(0, len(rows), BATCH):
        part = rows[start : start + BATCH]
        conn.execute(delete(model).where(getattr(model, key).in_([r[key] for r in part])))
        conn.execute(model.__table__.insert(), part)


def _upsert_sqlite(conn: Connection, table: str, frame: pd.DataFrame, columns: tuple[str, ...], key: str,
                   now: dt.datetime | None) -> None:
    """executemany of one prepared INSERT … ON CONFLICT DO UPDATE, in key order, on the raw connection."""
    names, arrays = _columns(frame, columns)
    order = np.argsort(frame[key].to_numpy(), kind="stable")  # B-tree pages filled in order
    if now is not None:  # stored as SQLAlchemy stores DateTime on SQLite
        names, arrays = names + ["loaded_at"], arrays + [
            np.full(len(frame), now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"), dtype=object)]
    update = ", ".join(f"{c}=excluded.{c}" for c in names if c not in (key, "loaded_at"))
    sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
           f"ON CONFLICT({key}) DO UPDATE SET {update}")
    cur = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(order), SQLITE_BATCH):
            idx = order[start : start + SQLITE_BATCH]
            cur.executemany(sql, zip(*[a[idx] for a in arrays]))
    finally:
        cur.close()


def _upsert_postgresql(conn: Connection, table: str, frame: pd.DataFrame, columns: tuple[str, ...], key: str,
                       now: dt.datetime | None) -> None:
    """COPY into a temporary table (psycopg 3), then one INSERT … SELECT … ON CONFLICT DO UPDATE.

    Rows whose values did not change are not rewritten (IS DISTINCT FROM), so a reload of the same
    supply costs a read, not 1.5M updated rows and their dead tuples.
    """
    names = [c for c in columns if c in frame]
    stage = f"_load_{table}"
    raw = conn.connection.driver_connection
    cols = ", ".join(names)
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, len(frame), 100_000):
                copy.write(frame[names].iloc[start : start + 100_000].to_csv(index=False, header=False))
        # The reader keeps one row per key; DISTINCT ON guards the upsert against a repeated key anyway.
        changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in names if c != key) or "false"
        update = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c != key)
        stamp_col, stamp, params = (", loaded_at", ", %s", (now,)) if now is not None else ("", "", ())
        cur.execute(f"INSERT INTO {table} ({cols}{stamp_col}) SELECT DISTINCT ON ({key}) {cols}{stamp} FROM {stage} "
                    f"ON CONFLICT ({key}) DO UPDATE SET {update} WHERE {changed}", params)
        cur.execute(f"DROP TABLE {stage}")


def _upsert(conn: Connection, model: type, frame: pd.DataFrame, columns: tuple[str, ...], key: str,
            now: dt.datetime) -> None:
    if not len(frame):
        return
    now = now if "loaded_at" in model.__table__.c else None
    dialect = conn.dialect.name
    if dialect == "sqlite":
        _upsert_sqlite(conn, model.__tablename__, frame, columns, key, now)
    elif dialect == "postgresql" and conn.dialect.driver == "psycopg":
        _upsert_postgresql(conn, model.__tablename__, frame, columns, key, now)
    else:
        _upsert_generic(conn, model, frame, columns, key)


def store_gazetteer(engine: Engine, gaz: Gazetteer, *, progress: Callable[[str], None] | None = None) -> GazetteerLoadSummary:
    """Upsert streets, properties and LPIs (idempotent) and apply CHANGE_TYPE D deletions, in one transaction.

    Bulk paths: SQLite gets a large page cache and one prepared upsert fed by ``executemany``;
    PostgreSQL (psycopg 3) gets ``COPY`` into a temporary table and one set-based upsert. Other
    dialects fall back to delete-then-insert batches through SQLAlchemy.
    """
    deleted = 0
    now = utcnow()
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        if progress:
            progress("streets")
        _upsert(conn, Street, gaz.streets, StreetFrame.COLUMNS, "usrn", now)
        if progress:
            progress("properties")
        _upsert(conn, Property, gaz.properties, PropertyFrame.COLUMNS, "uprn", now)
        if progress:
            progress("addresses")
        if len(gaz.lpis):
            uprns = gaz.lpis[LpiFrame.uprn].astype("int64")
            known = set(gaz.properties[PropertyFrame.uprn].astype("int64")) if len(gaz.properties) else set()
            missing = np.setdiff1d(uprns.unique(), np.fromiter(known, dtype=np.int64, count=len(known)))
            if len(missing):  # an update file's LPIs may belong to properties loaded earlier
                stored = {u for (u,) in conn.execute(select(Property.uprn))}
                known |= stored
            _upsert(conn, Lpi, gaz.lpis[uprns.isin(known).to_numpy()], LpiFrame.COLUMNS, "lpi_key", now)
        dels = getattr(gaz, "deletions", None)
        if dels is not None and len(dels):
            if progress:
                progress("deletions")
            for table_name, model, key in (("lpi", Lpi, "lpi_key"), ("property", Property, "uprn"), ("street", Street, "usrn")):
                keys = [_clean(k) for k in dels.loc[dels["table"] == table_name, "key"]]
                if model is not Lpi:
                    keys = [int(k) for k in keys]
                for start in range(0, len(keys), 500):
                    part = keys[start : start + 500]
                    if model is Property:
                        conn.execute(delete(Lpi).where(Lpi.uprn.in_(part)))
                    deleted += conn.execute(delete(model).where(getattr(model, key).in_(part))).rowcount or 0
    return GazetteerLoadSummary(
        fmt=gaz.fmt, rows_read=gaz.rows_read, streets=len(gaz.streets), properties=len(gaz.properties),
        lpis=len(gaz.lpis), rejected=len(gaz.rejects), deleted=deleted,
    )


def read_stored_gazetteer(engine: Engine) -> Gazetteer:
    """The hub's gazetteer as frames, for the address matcher."""
    from gazetteer.model import Gazetteer  # the frame container only; no matching happens here

    with engine.connect() as conn:
        streets = pd.read_sql(select(*[getattr(Street, c) for c in StreetFrame.COLUMNS]), conn)
        properties = pd.read_sql(select(*[getattr(Property, c) for c in PropertyFrame.COLUMNS]), conn)
        lpis = pd.read_sql(select(*[getattr(Lpi, c) for c in LpiFrame.COLUMNS]), conn)
    for frame, cols in ((properties, ("uprn", "parent_uprn")), (lpis, ("uprn", "usrn"))):
        for col in cols:
            frame[col] = frame[col].astype("Int64")
    return Gazetteer(streets=streets, properties=properties, lpis=lpis,
                     rejects=pd.DataFrame(columns=["line", "record_type", "key", "field", "reason"]),
                     deletions=pd.DataFrame(columns=["table", "key"]), fmt="hub", rows_read=len(lpis))


def gazetteer_size(engine: Engine) -> int:
    """Number of properties in the hub's gazetteer."""
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Property)) or 0
