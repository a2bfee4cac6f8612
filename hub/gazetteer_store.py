"""Writing a loaded gazetteer into the hub store (idempotent, applying deletions) and reading it back."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from schemas import Lpi, Property, Street
from schemas.columns import LpiFrame, PropertyFrame, StreetFrame

if TYPE_CHECKING:
    from gazetteer.model import Gazetteer

BATCH = 20_000


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


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict]:
    present = [c for c in columns if c in frame]
    return [{k: _clean(v) for k, v in row.items()} for row in frame[present].to_dict(orient="records")]


def _upsert(session: Session, model: type, rows: list[dict], key: str) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    builder = {"sqlite": sqlite_insert, "postgresql": pg_insert}.get(dialect)
    if builder is None:  # other dialects: delete then insert, inside the same transaction
        keys = [r[key] for r in rows]
        session.execute(delete(model).where(getattr(model, key).in_(keys)))
        session.execute(model.__table__.insert(), rows)
        return
    for start in range(0, len(rows), BATCH):
        part = rows[start : start + BATCH]
        stmt = builder(model.__table__)
        cols = [c for c in part[0] if c != key]
        stmt = stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in cols})
        session.execute(stmt, part)


def store_gazetteer(engine: Engine, gaz: Gazetteer, *, progress: Callable[[str], None] | None = None) -> GazetteerLoadSummary:
    """Upsert streets, properties and LPIs (idempotent) and apply CHANGE_TYPE D deletions, in one transaction."""
    deleted = 0
    with Session(engine) as session, session.begin():
        if progress:
            progress("streets")
        _upsert(session, Street, _records(gaz.streets, StreetFrame.COLUMNS), "usrn")
        if progress:
            progress("properties")
        _upsert(session, Property, _records(gaz.properties, PropertyFrame.COLUMNS), "uprn")
        if progress:
            progress("addresses")
        known = set(gaz.properties[PropertyFrame.uprn].astype("int64")) if len(gaz.properties) else set()
        if len(gaz.lpis):
            existing_uprns = known | {u for (u,) in session.execute(select(Property.uprn))}
            lpis = gaz.lpis[gaz.lpis[LpiFrame.uprn].astype("int64").isin(existing_uprns)]
            _upsert(session, Lpi, _records(lpis, LpiFrame.COLUMNS), "lpi_key")
        dels = getattr(gaz, "deletions", None)
        if dels is not None and len(dels):
            for table_name, model, key in (("lpi", Lpi, "lpi_key"), ("property", Property, "uprn"), ("street", Street, "usrn")):
                keys = [_clean(k) for k in dels.loc[dels["table"] == table_name, "key"]]
                if model is not Lpi:
                    keys = [int(k) for k in keys]
                for start in range(0, len(keys), 500):
                    part = keys[start : start + 500]
                    if model is Property:
                        session.execute(delete(Lpi).where(Lpi.uprn.in_(part)))
                    deleted += session.execute(delete(model).where(getattr(model, key).in_(part))).rowcount or 0
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
