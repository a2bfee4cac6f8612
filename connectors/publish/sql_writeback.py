"""SQL write-back: golden person ID, UPRN and current golden address per source key, upserted into the source's database."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, delete
from sqlalchemy.exc import SQLAlchemyError

from connectors.publish.base import DeliveryError, OutboundEvent, WritebackRow
from connectors.publish.sql import describe, split_name, target_engine, target_url, upsert
from schemas.base import utcnow
from schemas.config import PublishTarget, SourceConfig

DEFAULT_TABLE = "mdh_golden_xref"
BATCH = 1000
# Payload keys (besides the event's own person_id) that may name other persons an event touches (merge/split).
PERSON_KEYS = ("person_ids", "survivor_id", "merged_id", "merged_ids", "from_person_id", "to_person_id", "new_person_id")


def writeback_table(name: str = DEFAULT_TABLE) -> Table:
    """The write-back table as the hub creates it in a source's database (if absent)."""
    schema, table = split_name(name)
    return Table(
        table, MetaData(),
        Column("source_key", String(128), primary_key=True),
        Column("golden_person_id", BigInteger, nullable=False),
        Column("uprn", BigInteger),
        Column("address", Text),
        Column("postcode", String(8)),
        Column("hub_updated_at", DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def persons_in(events: Sequence[OutboundEvent]) -> list[int]:
    """Every person ID an event names: its own and any in the payload (merge survivors, split parts)."""
    ids: set[int] = set()
    for event in events:
        if event.person_id is not None:
            ids.add(int(event.person_id))
        for key in PERSON_KEYS:
            value = event.payload.get(key) if isinstance(event.payload, dict) else None
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
                    ids.add(int(item))
    return sorted(ids)


class SqlWritebackTarget:
    """Keeps a table in the source's own database in step with the hub's cross-reference."""

    kind = "sql_writeback"

    def __init__(self, target: PublishTarget, source: SourceConfig, *,
                 rows_for: Callable[[Sequence[int]], list[WritebackRow]] | None = None, timeout_s: int = 30) -> None:
        self.target, self.source, self.rows_for, self.timeout_s = target, source, rows_for, timeout_s
        self.table = writeback_table(target.table or DEFAULT_TABLE)

    def upsert(self, rows: Sequence[WritebackRow], *, gone: Sequence[str] = ()) -> int:
        """Upsert ``rows`` by source key and delete the keys in ``gone``; returns rows written."""
        url = target_url(self.target, self.source)
        engine = target_engine(self.target, self.source, self.timeout_s)
        now = utcnow()
        try:
            self.table.create(engine, checkfirst=True)
            for start in range(0, max(len(rows), len(gone)), BATCH):
                with engine.begin() as conn:
                    upsert(conn, self.table, [
                        {"source_key": r.source_key, "golden_person_id": r.person_id, "uprn": r.uprn,
                         "address": r.address, "postcode": r.postcode, "hub_updated_at": now}
                        for r in rows[start : start + BATCH]], key=["source_key"])
                    doomed = list(gone[start : start + BATCH])
                    if doomed:
                        conn.execute(delete(self.table).where(self.table.c.source_key.in_(doomed)))
        except SQLAlchemyError as err:
            raise DeliveryError(f"subscriber {self.source.name}: write-back to table {self.table.name} failed: "
                                f"{describe(err, url)}") from err
        finally:
            engine.dispose()
        return len(rows)

    def send(self, events: Sequence[OutboundEvent]) -> None:
        """Refresh the write-back rows of every person the events touch (idempotent by construction)."""
        if self.rows_for is None or not events:
            return
        self.upsert(self.rows_for(persons_in(events)))
