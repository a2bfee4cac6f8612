"""SQL write-back: golden person ID, UPRN and current golden address per source key, upserted into the source's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger, Column, Connection, DateTime, MetaData, String, Table, Text, delete, func, inspect, select,
)
from sqlalchemy.exc import SQLAlchemyError

from connectors.publish.base import DeliveryError, OutboundEvent, WritebackRow
from connectors.publish.sql import describe, split_name, target_engine, target_url, upsert
from schemas.base import utcnow
from schemas.config import PublishTarget, SourceConfig

DEFAULT_TABLE = "mdh_golden_xref"
BATCH = 1000
KEY_CHUNK = 500  # keys per IN (...) when reading or deleting given keys
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


@dataclass(frozen=True)
class WritebackSync:
    """What one :meth:`SqlWritebackTarget.sync` changed, and the rows in the table afterwards."""

    written: int
    removed: int
    rows: int


def _values(row: WritebackRow) -> tuple[object, ...]:
    return (row.person_id, row.uprn, row.address, row.postcode)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


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

    def row_count(self) -> int | None:
        """Rows in the write-back table, or ``None`` when it does not exist (never written, or dropped)."""
        url = target_url(self.target, self.source)
        engine = target_engine(self.target, self.source, self.timeout_s)
        try:
            with engine.connect() as conn:
                if not inspect(conn).has_table(self.table.name, schema=self.table.schema):
                    return None
                return int(conn.scalar(select(func.count()).select_from(self.table)) or 0)
        except SQLAlchemyError as err:
            raise DeliveryError(f"subscriber {self.source.name}: write-back to table {self.table.name} failed: "
                                f"{describe(err, url)}") from err
        finally:
            engine.dispose()

    def _current(self, conn: Connection, scope: Sequence[str] | None) -> dict[str, tuple[object, ...]]:
        cols = (self.table.c.source_key, self.table.c.golden_person_id, self.table.c.uprn, self.table.c.address,
                self.table.c.postcode)
        if scope is None:
            return {key: tuple(rest) for key, *rest in conn.execute(select(*cols))}
        found: dict[str, tuple[object, ...]] = {}
        for part in _chunks(sorted(set(scope)), KEY_CHUNK):
            found.update((key, tuple(rest)) for key, *rest in conn.execute(
                select(*cols).where(self.table.c.source_key.in_(part))))
        return found

    def sync(self, rows: Sequence[WritebackRow], *, scope: Sequence[str] | None = None) -> WritebackSync:
        """Make the table agree with ``rows`` and say what that took; rows already right are not rewritten.

        ``scope`` ``None`` compares the whole table: a key present there but not in ``rows`` is deleted. Otherwise
        only the keys in ``scope`` are compared (``rows`` must be among them): those in ``rows`` are upserted where
        they differ, the others deleted where present. ``hub_updated_at`` therefore says when the hub last changed
        a row. Idempotent: a sync repeated after a crash changes nothing more.
        """
        url = target_url(self.target, self.source)
        engine = target_engine(self.target, self.source, self.timeout_s)
        now = utcnow()
        try:
            self.table.create(engine, checkfirst=True)
            with engine.connect() as conn:
                current = self._current(conn, scope)
            wanted = {r.source_key: r for r in rows}
            changed = [r for key, r in wanted.items() if current.get(key) != _values(r)]
            compared = current.keys() if scope is None else current.keys() & set(scope)
            doomed = sorted(key for key in compared if key not in wanted)
            for start in range(0, max(len(changed), len(doomed)), BATCH):
                with engine.begin() as conn:
                    upsert(conn, self.table, [
                        {"source_key": r.source_key, "golden_person_id": r.person_id, "uprn": r.uprn,
                         "address": r.address, "postcode": r.postcode, "hub_updated_at": now}
                        for r in changed[start : start + BATCH]], key=["source_key"])
                    for part in _chunks(doomed[start : start + BATCH], KEY_CHUNK):
                        conn.execute(delete(self.table).where(self.table.c.source_key.in_(part)))
            with engine.connect() as conn:
                total = int(conn.scalar(select(func.count()).select_from(self.table)) or 0)
        except SQLAlchemyError as err:
            raise DeliveryError(f"subscriber {self.source.name}: write-back to table {self.table.name} failed: "
                                f"{describe(err, url)}") from err
        finally:
            engine.dispose()
        return WritebackSync(written=len(changed), removed=len(doomed), rows=total)

    def send(self, events: Sequence[OutboundEvent]) -> None:
        """Refresh the write-back rows of every person the events touch (idempotent; rows already right are kept)."""
        if self.rows_for is None or not events:
            return
        rows = self.rows_for(persons_in(events))
        if rows:
            self.sync(rows, scope=[r.source_key for r in rows])
