"""Write source rows: SQLite files with executemany in big transactions, a server URL, or CSV drop files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from synthetic.models import SynthError
from synthetic.sources import SourceSpec

_CHUNK = 50_000


def _py(df: pd.DataFrame, spec: SourceSpec) -> list[tuple]:
    """Rows as tuples of Python str/int/None (integers where the source holds numbers)."""
    cols = []
    for c in df.columns:
        v = df[c]
        if c in spec.int_columns:
            num = pd.to_numeric(v, errors="coerce")
            cols.append(np.where(num.notna(), num.fillna(0).astype(np.int64).astype(object), None))
        else:
            cols.append(np.where(v.isna(), None, v.astype(str)).astype(object) if v.dtype != object else
                        np.where(pd.isna(v), None, v).astype(object))
    return list(zip(*cols)) if cols else []


def _sqlite_path(out_dir: Path, spec: SourceSpec) -> Path:
    return out_dir / "sources" / f"{spec.name}.sqlite"


def source_url(out_dir: Path, spec: SourceSpec, url: str | None) -> str:
    """The SQLAlchemy URL (or drop folder) a source is read from, relative to ``out_dir`` for files."""
    if spec.table is None:
        return f"drops/{spec.name}"
    return url if url else f"sqlite:///sources/{spec.name}.sqlite"


def _ddl_type(col: str, spec: SourceSpec) -> str:
    return "BIGINT" if col in spec.int_columns else "TEXT"


def write_table(out_dir: Path, spec: SourceSpec, df: pd.DataFrame, url: str | None) -> None:
    """Create (replacing) the source's table and load ``df`` into it."""
    assert spec.table is not None
    if url is None:
        path = _sqlite_path(out_dir, spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        try:
            cols = ", ".join(f'"{c}" {_ddl_type(c, spec)}' + (" PRIMARY KEY" if c == spec.key else "") for c in df.columns)
            con.execute(f'CREATE TABLE "{spec.table}" ({cols})')
            _sqlite_insert(con, spec, df)
            con.execute(f'CREATE INDEX "ix_{spec.table}_{spec.updated_at}" ON "{spec.table}" ("{spec.updated_at}")')
            con.commit()
        finally:
            con.close()
        return
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = _sa_table(meta, spec, list(df.columns))
    try:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            table.create(conn)
            _sa_insert(conn, table, spec, df)
    except sa.exc.SQLAlchemyError as err:
        raise SynthError(f"source {spec.name}: cannot write table {spec.table}: {type(err).__name__}") from err
    finally:
        engine.dispose()


def _sa_table(meta: sa.MetaData, spec: SourceSpec, columns: list[str]) -> sa.Table:
    cols = [sa.Column(c, sa.BigInteger if c in spec.int_columns else (sa.String(64) if c in (spec.key, spec.updated_at) else sa.Text),
                      primary_key=(c == spec.key)) for c in columns]
    return sa.Table(spec.table, meta, *cols, sa.Index(f"ix_{spec.table}_{spec.updated_at}", spec.updated_at))


def _sqlite_insert(con: sqlite3.Connection, spec: SourceSpec, df: pd.DataFrame) -> None:
    marks = ", ".join("?" * len(df.columns))
    names = ", ".join(f'"{c}"' for c in df.columns)
    for i in range(0, len(df), _CHUNK * 4):
        con.executemany(f'INSERT OR REPLACE INTO "{spec.table}" ({names}) VALUES ({marks})', _py(df.iloc[i : i + _CHUNK * 4], spec))


def _sa_insert(conn: sa.Connection, table: sa.Table, spec: SourceSpec, df: pd.DataFrame) -> None:
    cols = list(df.columns)
    for i in range(0, len(df), _CHUNK):
        rows = [dict(zip(cols, r)) for r in _py(df.iloc[i : i + _CHUNK], spec)]
        if rows:
            conn.execute(table.insert(), rows)


def upsert(out_dir: Path, spec: SourceSpec, df: pd.DataFrame, deletes: list[str], url: str | None) -> None:
    """Replace rows by key (idempotent) and delete keys, in one transaction."""
    assert spec.table is not None
    keys = df[spec.key].astype(str).tolist() + list(deletes)
    if url is None:
        con = sqlite3.connect(_sqlite_path(out_dir, spec))
        try:
            con.executemany(f'DELETE FROM "{spec.table}" WHERE "{spec.key}" = ?', [(k,) for k in keys])
            _sqlite_insert(con, spec, df)
            con.commit()
        finally:
            con.close()
        return
    engine = sa.create_engine(url)
    table = _sa_table(sa.MetaData(), spec, list(df.columns) if len(df.columns) else [spec.key, spec.updated_at])
    try:
        with engine.begin() as conn:
            for i in range(0, len(keys), 5000):
                conn.execute(sa.delete(table).where(table.c[spec.key].in_(keys[i : i + 5000])))
            _sa_insert(conn, table, spec, df)
    finally:
        engine.dispose()


def write_drop(folder: Path, name: str, df: pd.DataFrame) -> Path:
    """One CSV drop file (UTF-8, header row), replaced if it exists."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    df.to_csv(path, index=False)
    return path
