"""Outbox delivery: send pending change events to each subscriber's publish targets, with backoff and replay
(the write-back tables of golden IDs are kept in :mod:`hub.writeback`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from connectors.publish import DeliveryError, OutboundEvent, Target, WritebackRow, make_target
from hub.writeback import writeback_rows
from schemas import ChangeEvent, EventDelivery
from schemas.base import utcnow
from schemas.config import HubConfig, SourceConfig

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_ERROR = 1000
ID_CHUNK = 500

TargetFactory = Callable[[SourceConfig], list[Target]]


@dataclass
class DeliverySummary:
    """What one delivery pass did, per subscriber."""

    delivered: int = 0
    failed: int = 0
    subscribers: dict[str, str] = field(default_factory=dict)  # name -> ok | failed: ... | backing off | no targets
    waiting: dict[str, int] = field(default_factory=dict)  # deliveries left for subscribers that could not take them

    @property
    def ok(self) -> bool:
        return all(state == "ok" for state in self.subscribers.values())


def backoff(attempts: int, *, base_s: float = 30.0, cap_s: float = 3600.0) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failures: base, 2×base, 4×base … capped.

    Examples:
        >>> [backoff(n, base_s=30, cap_s=100).total_seconds() for n in (1, 2, 3, 4)]
        [30.0, 60.0, 100.0, 100.0]
    """
    return dt.timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), cap_s))


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return utcnow()
    return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)


def _due(now: dt.datetime, max_attempts: int):  # noqa: ANN202 - a SQL condition
    return and_(EventDelivery.status.in_((PENDING, FAILED)), EventDelivery.attempts < max_attempts,
                or_(EventDelivery.next_attempt_at.is_(None), EventDelivery.next_attempt_at <= now))


def _backing_off(session: Session, subscriber: str, now: dt.datetime, max_attempts: int) -> bool:
    """A failed delivery still waiting for its retry holds back the later ones, so receivers see events in order."""
    return session.scalar(select(func.count()).select_from(EventDelivery).where(
        EventDelivery.subscriber == subscriber, EventDelivery.status == FAILED,
        EventDelivery.attempts < max_attempts, EventDelivery.next_attempt_at > now)) > 0


def _outbound(event: ChangeEvent, subscriber: str) -> OutboundEvent:
    return OutboundEvent(idempotency_key=event.idempotency_key, event_id=event.id, event_type=event.event_type,
                         subscriber=subscriber, person_id=event.person_id, uprn=event.uprn, source=event.source,
                         payload=dict(event.payload or {}), created_at=event.created_at)


def default_targets(engine: Engine) -> TargetFactory:
    """Targets built from a source's ``publish`` list; write-back targets read the hub's cross-reference."""
    def build(source: SourceConfig) -> list[Target]:
        def rows_for(person_ids: Sequence[int]) -> list[WritebackRow]:
            return writeback_rows(engine, source.name, person_ids=person_ids)[0]
        return [make_target(t, source, rows_for=rows_for) for t in source.publish]
    return build


def _send_batch(targets: list[Target], events: list[OutboundEvent]) -> tuple[set[str], str | None]:
    """Send to every target; an event is delivered only once all targets took it. Returns (delivered keys, error)."""
    taken = {e.idempotency_key for e in events}
    for target in targets:
        try:
            target.send([e for e in events if e.idempotency_key in taken])
        except DeliveryError as err:
            return taken & set(err.delivered), str(err)
        except Exception as err:  # noqa: BLE001 - a broken target must not stop the other subscribers
            return set(), f"{getattr(target, 'kind', 'target')}: unexpected {err.__class__.__name__}"
    return taken, None


def _deliver_subscriber(engine: Engine, subscriber: str, targets: list[Target], now: dt.datetime, *,
                        max_attempts: int, batch_size: int, backoff_s: float, max_backoff_s: float,
                        summary: DeliverySummary) -> None:
    while True:
        with Session(engine) as session:
            if _backing_off(session, subscriber, now, max_attempts):
                summary.subscribers.setdefault(subscriber, "backing off")
                return
            rows = session.execute(
                select(EventDelivery.id, EventDelivery.attempts, ChangeEvent)
                .join(ChangeEvent, ChangeEvent.id == EventDelivery.event_id)
                .where(EventDelivery.subscriber == subscriber, _due(now, max_attempts))
                .order_by(ChangeEvent.id).limit(batch_size)).all()
            batch = [(did, attempts, _outbound(event, subscriber)) for did, attempts, event in rows]
        if not batch:
            summary.subscribers.setdefault(subscriber, "ok")
            return
        delivered, error = _send_batch(targets, [e for _d, _a, e in batch])
        if error is not None and all(e.idempotency_key in delivered for _d, _a, e in batch):
            error = None  # every event was taken before the target failed (e.g. while closing): success
        with Session(engine) as session, session.begin():
            done = [did for did, _a, e in batch if e.idempotency_key in delivered]
            for start in range(0, len(done), ID_CHUNK):
                session.execute(update(EventDelivery).where(EventDelivery.id.in_(done[start : start + ID_CHUNK]))
                                .values(status=DELIVERED, attempts=EventDelivery.attempts + 1, last_error=None,
                                        next_attempt_at=None, delivered_at=now))
            summary.delivered += len(done)
            if error is None:
                continue
            # The first event not taken fails; later ones wait behind it (order is kept per subscriber).
            did, attempts, event = next((d, a, e) for d, a, e in batch if e.idempotency_key not in delivered)
            tries = attempts + 1
            retry_at = now + backoff(tries, base_s=backoff_s, cap_s=max_backoff_s) if tries < max_attempts else None
            session.execute(update(EventDelivery).where(EventDelivery.id == did).values(
                status=FAILED, attempts=tries, last_error=error[:MAX_ERROR], next_attempt_at=retry_at))
        summary.failed += 1
        summary.subscribers[subscriber] = f"failed: {error[:200]}"
        log.warning("delivery to subscriber %s failed (attempt %d, event %s): %s",
                    subscriber, tries, event.idempotency_key, error)
        if retry_at is not None:
            return  # back off; a dead (max attempts) delivery lets the rest through on the next loop


def deliver_pending(engine: Engine, config: HubConfig, *, max_attempts: int = 8, now: dt.datetime | None = None,
                    batch_size: int = 500, backoff_s: float = 30.0, max_backoff_s: float = 3600.0,
                    targets: TargetFactory | None = None) -> DeliverySummary:
    """Deliver every due event delivery (pending, or failed and due for retry), subscriber by subscriber.

    At-least-once: a delivery is marked delivered only after its targets took it, so a crash between send
    and mark resends it; receivers apply each idempotency key once. One subscriber that is down backs off
    (exponentially, up to ``max_attempts``) and its events wait; the others are unaffected. Deliveries
    that reach ``max_attempts`` stay failed until :func:`replay`.
    """
    now = _utc(now)
    build = targets or default_targets(engine)
    summary = DeliverySummary()
    with Session(engine) as session:
        subscribers = sorted(session.scalars(
            select(EventDelivery.subscriber).where(_due(now, max_attempts)).distinct()))
    configured = {s.name: s for s in config.sources}
    for subscriber in subscribers:
        source = configured.get(subscriber)
        if source is None or not source.publish:
            summary.subscribers[subscriber] = "no targets"
        else:
            try:
                subscriber_targets = build(source)
            except DeliveryError as err:
                summary.subscribers[subscriber] = f"failed: {err}"
            else:
                _deliver_subscriber(engine, subscriber, subscriber_targets, now, max_attempts=max_attempts,
                                    batch_size=batch_size, backoff_s=backoff_s, max_backoff_s=max_backoff_s,
                                    summary=summary)
                if summary.subscribers.get(subscriber) == "ok":
                    continue
        with Session(engine) as session:
            summary.waiting[subscriber] = session.scalar(select(func.count()).select_from(EventDelivery).where(
                EventDelivery.subscriber == subscriber, EventDelivery.status.in_((PENDING, FAILED))))
    return summary


def replay(engine: Engine, subscriber: str, *, since_event_id: int) -> int:
    """Re-queue ``subscriber``'s deliveries of events from ``since_event_id`` on; returns how many."""
    with Session(engine) as session, session.begin():
        result = session.execute(update(EventDelivery).where(
            EventDelivery.subscriber == subscriber, EventDelivery.event_id >= since_event_id).values(
            status=PENDING, attempts=0, last_error=None, next_attempt_at=None, delivered_at=None))
        return result.rowcount


def delivery_status(engine: Engine) -> dict[str, dict[str, int]]:
    """Deliveries per subscriber and status, e.g. ``{"housing": {"delivered": 40, "failed": 2}}``."""
    out: dict[str, dict[str, int]] = {}
    with Session(engine) as session:
        for sub, status, n in session.execute(select(EventDelivery.subscriber, EventDelivery.status, func.count())
                                              .group_by(EventDelivery.subscriber, EventDelivery.status)):
            out.setdefault(sub, {})[status] = n
    return out


