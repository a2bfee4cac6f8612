"""SQL events: change events as rows of an outbound table in the source's database, unique on idempotency key."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text
from sqlalchemy.exc import SQLAlchemyError

from connectors.publish.base import DeliveryError, OutboundEvent
from connectors.publish.sql import describe, insert_once, split_name, target_engine, target_url
from schemas.base import utcnow
from schemas.config import PublishTarget, SourceConfig

DEFAULT_TABLE = "mdh_change_events"


def events_table(name: str = DEFAULT_TABLE) -> Table:
    """The outbound events table as the hub creates it in a source's database (if absent)."""
    schema, table = split_name(name)
    return Table(
        table, MetaData(),
        Column("idempotency_key", String(128), primary_key=True),
        Column("event_id", BigInteger, nullable=False),
        Column("event_type", String(32), nullable=False),
        Column("person_id", BigInteger),
        Column("uprn", BigInteger),
        Column("source", String(64)),
        Column("payload", Text, nullable=False),  # JSON text: portable across SQLite, PostgreSQL, MariaDB
        Column("created_at", DateTime(timezone=True)),
        Column("delivered_at", DateTime(timezone=True), nullable=False),
        schema=schema,
    )


class SqlEventsTarget:
    """Inserts events into the source's outbound table in one transaction; a replay inserts nothing twice."""

    kind = "sql_events"

    def __init__(self, target: PublishTarget, source: SourceConfig, *, timeout_s: int = 30) -> None:
        self.target, self.source, self.timeout_s = target, source, timeout_s
        self.table = events_table(target.table or DEFAULT_TABLE)

    def send(self, events: Sequence[OutboundEvent]) -> None:
        if not events:
            return
        url = target_url(self.target, self.source)
        engine = target_engine(self.target, self.source, self.timeout_s)
        now = utcnow()
        rows = [{"idempotency_key": e.idempotency_key, "event_id": e.event_id, "event_type": e.event_type,
                 "person_id": e.person_id, "uprn": e.uprn, "source": e.source,
                 "payload": json.dumps(e.payload, sort_keys=True, default=str), "created_at": e.created_at,
                 "delivered_at": now} for e in events]
        try:
            self.table.create(engine, checkfirst=True)
            with engine.begin() as conn:
                insert_once(conn, self.table, rows, key="idempotency_key")
        except SQLAlchemyError as err:
            raise DeliveryError(f"subscriber {self.source.name}: insert into table {self.table.name} failed "
                                f"(events {events[0].idempotency_key}..{events[-1].idempotency_key}): "
                                f"{describe(err, url)}") from err
        finally:
            engine.dispose()
