"""AMQP (RabbitMQ): persistent messages on a durable queue with publisher confirms; message_id is the idempotency key."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from connectors.publish.base import DeliveryError, OutboundEvent
from connectors.pull import redact
from schemas.config import PublishTarget

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


class AmqpTarget:
    """Publishes each event and waits for the broker's confirm, so a returned ``send`` means the broker has it."""

    kind = "amqp"

    def __init__(self, target: PublishTarget, subscriber: str, *, timeout_s: float = 10.0) -> None:
        self.url = target.url or DEFAULT_URL
        self.queue = target.queue or f"mdh.{subscriber}"
        self.subscriber, self.timeout_s = subscriber, timeout_s

    @property
    def broker(self) -> str:
        """``host:port`` of the broker: named in errors, never with credentials."""
        try:
            parts = urlsplit(self.url)
            return f"{parts.hostname or '?'}:{parts.port or 5672}"
        except ValueError:
            return "?"

    def _fail(self, what: str, err: BaseException, done: list[str]) -> DeliveryError:
        detail = redact(f"{err.__class__.__name__}: {str(err)[:200]}", self.url)
        return DeliveryError(f"subscriber {self.subscriber}: AMQP broker {self.broker} queue {self.queue} {what}: "
                             f"{detail}", delivered=done)

    def send(self, events: Sequence[OutboundEvent]) -> None:
        try:
            import pika  # optional dependency: only AMQP subscribers need it
        except ImportError as err:
            raise DeliveryError(f"subscriber {self.subscriber}: amqp target needs the 'pika' package") from err
        if not events:
            return
        params = pika.URLParameters(self.url)
        params.socket_timeout = params.blocked_connection_timeout = self.timeout_s
        params.connection_attempts = 1
        done: list[str] = []
        try:
            connection = pika.BlockingConnection(params)
        except Exception as err:  # noqa: BLE001 - pika raises many kinds; any means the broker is unreachable
            raise self._fail("unreachable", err, done) from err
        try:
            channel = connection.channel()
            channel.queue_declare(queue=self.queue, durable=True)
            channel.confirm_delivery()
            for event in events:
                channel.basic_publish(
                    exchange="", routing_key=self.queue, body=event.body(), mandatory=True,
                    properties=pika.BasicProperties(
                        delivery_mode=pika.DeliveryMode.Persistent, message_id=event.idempotency_key,
                        content_type="application/json", type=event.event_type,
                        headers={"subscriber": self.subscriber, "event_id": event.event_id}))
                done.append(event.idempotency_key)
        except Exception as err:  # noqa: BLE001 - nack, unroutable, channel or connection closed
            what = f"failed after the broker confirmed {len(done)} of {len(events)} events"
            raise self._fail(what, err, done) from err
        finally:
            if connection.is_open:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - closing a broken connection must not mask the real error
                    pass
