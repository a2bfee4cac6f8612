"""Declarative base and shared column types of the hub store."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, mapped_column

# Constraint names are fixed so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    """Timezone-aware current time in UTC (the hub stores UTC everywhere)."""
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    """Base class of every hub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: DateTime(timezone=True)}


int_pk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
uprn_type = Annotated[int, mapped_column(BigInteger)]
short_text = Annotated[str, mapped_column(String(255))]
created_at = Annotated[dt.datetime, mapped_column(default=utcnow)]
