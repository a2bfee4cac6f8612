"""What every publish target shares: the outbound event, the write-back row, the ``Target`` protocol and its error."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from connectors import ConnectorError


class DeliveryError(ConnectorError):
    """A target could not take some events; ``delivered`` names the idempotency keys it did take before failing."""

    def __init__(self, message: str, *, delivered: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.delivered = tuple(delivered)


@dataclass(frozen=True)
class OutboundEvent:
    """A change event as sent to one subscriber; receivers apply each ``idempotency_key`` once."""

    idempotency_key: str
    event_id: int
    event_type: str
    subscriber: str
    person_id: int | None = None
    uprn: int | None = None
    source: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready mapping (the wire format of every target)."""
        return {
            "idempotency_key": self.idempotency_key,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "subscriber": self.subscriber,
            "person_id": self.person_id,
            "uprn": self.uprn,
            "source": self.source,
            "payload": self.payload,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }

    def body(self) -> bytes:
        """Canonical JSON bytes (sorted keys, compact): what a signature is computed over."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class WritebackRow:
    """What the hub writes back into a source's own database for one of its keys."""

    source_key: str
    person_id: int
    uprn: int | None
    address: str | None
    postcode: str | None


@runtime_checkable
class Target(Protocol):
    """A receiver of change events. ``send`` delivers all events or raises :class:`DeliveryError`."""

    kind: str

    def send(self, events: Sequence[OutboundEvent]) -> None:
        """Deliver ``events`` in order; on failure raise DeliveryError carrying the keys already delivered."""
        ...
