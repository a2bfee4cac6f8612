"""The transactional outbox: change events and one pending delivery per subscriber, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from schemas import ChangeEvent, EventDelivery

EVENT_TYPES = ("new_person", "change_of_address", "change_of_name", "death", "merge", "split", "erasure",
               "uprn_retired", "address_resolved", "restriction")


@dataclass
class PendingEvent:
    """An event to write: what changed, who told us, the evidence and who must hear of it."""

    idempotency_key: str
    event_type: str
    person_id: int | None
    payload: dict[str, Any]
    subscribers: Iterable[str]
    source: str | None = None
    uprn: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def write_events(session: Session, events: list[PendingEvent], *, run_id: int | None) -> int:
    """Insert events not already in the outbox (by idempotency key) with their deliveries; returns how many were new."""
    if not events:
        return 0
    keys = [e.idempotency_key for e in events]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(session.scalars(select(ChangeEvent.idempotency_key)
                                        .where(ChangeEvent.idempotency_key.in_(keys[start : start + 500]))))
    fresh = [e for e in events if e.idempotency_key not in existing]
    fresh = list({e.idempotency_key: e for e in fresh}.values())
    if not fresh:
        return 0
    rows = [{"idempotency_key": e.idempotency_key, "event_type": e.event_type, "person_id": e.person_id,
             "uprn": e.uprn, "source": e.source, "payload": e.payload, "run_id": run_id} for e in fresh]
    ids = session.scalars(insert(ChangeEvent).returning(ChangeEvent.id, sort_by_parameter_order=True), rows).all()
    deliveries = [{"event_id": event_id, "subscriber": sub, "status": "pending", "attempts": 0}
                  for event_id, e in zip(ids, fresh) for sub in sorted(set(e.subscribers))]
    if deliveries:
        session.execute(insert(EventDelivery), deliveries)
    return len(fresh)
