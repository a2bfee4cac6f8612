"""The transactional outbox of change events and their delivery state per subscriber."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, created_at


class ChangeEvent(Base):
    """A change to a golden record that subscribed systems must hear about ("tell us once")."""

    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_person_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))  # new_person | change_of_address | change_of_name | death | merge | split | erasure
    person_id: Mapped[Optional[int]] = mapped_column(BigInteger)
    uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    source: Mapped[Optional[str]] = mapped_column(String(64))  # the source that told us
    payload: Mapped[dict[str, Any]]  # what changed (before/after) and the evidence
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))
    created_at: Mapped[created_at]


class EventDelivery(Base):
    """Delivery of one event to one subscriber: at-least-once, idempotent at the receiver."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber", name="uq_event_delivery_event_subscriber"),
        Index("ix_event_delivery_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("change_event.id"))
    subscriber: Mapped[str] = mapped_column(String(64))  # a source system name
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    next_attempt_at: Mapped[Optional[dt.datetime]]
    delivered_at: Mapped[Optional[dt.datetime]]
