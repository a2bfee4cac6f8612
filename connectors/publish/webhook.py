"""Webhook: one JSON POST per event, HMAC-SHA256 signed, with an Idempotency-Key header, retries and a timeout."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from connectors.publish.base import DeliveryError, OutboundEvent
from schemas.config import PublishTarget

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MDH-Signature"
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC of the exact body bytes>``.

    Examples:
        >>> sign(b"k", b"{}")
        'sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff'
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    """What a receiver does: constant-time check of the signature header."""
    return hmac.compare_digest(sign(secret, body), header)


class WebhookTarget:
    """POSTs each event to the subscriber's URL; 2xx means applied (receivers dedupe on Idempotency-Key)."""

    kind = "webhook"

    def __init__(self, target: PublishTarget, subscriber: str, *, timeout_s: float = 10.0, attempts: int = 3,
                 backoff_s: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        if not target.url:
            raise DeliveryError(f"subscriber {subscriber}: webhook target needs a 'url'")
        self.url, self.subscriber, self.secret_env = target.url, subscriber, target.secret_env
        self.timeout_s, self.attempts, self.backoff_s, self.sleep = timeout_s, attempts, backoff_s, sleep
        parts = urlsplit(target.url)
        self.where = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}{parts.path}"  # no credentials or query

    def _secret(self) -> bytes | None:
        if not self.secret_env:
            return None
        value = os.environ.get(self.secret_env)
        if not value:
            raise DeliveryError(f"subscriber {self.subscriber}: webhook secret variable {self.secret_env} is not set")
        return value.encode()

    def _post(self, client: httpx.Client, event: OutboundEvent, secret: bytes | None) -> None:
        body = event.body()
        headers = {"Content-Type": "application/json", "Idempotency-Key": event.idempotency_key,
                   "X-MDH-Event-Type": event.event_type, "X-MDH-Subscriber": self.subscriber}
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as err:
                problem = f"{err.__class__.__name__}"
            else:
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRYABLE:
                    break
            if attempt < self.attempts:
                wait = self.backoff_s * 2 ** (attempt - 1)
                log.info("subscriber %s: webhook %s %s for event %s; retry in %.1f s",
                         self.subscriber, self.where, problem, event.idempotency_key, wait)
                self.sleep(wait)
        raise DeliveryError(f"subscriber {self.subscriber}: webhook {self.where} refused event "
                            f"{event.idempotency_key}: {problem}")

    def send(self, events: Sequence[OutboundEvent]) -> None:
        secret = self._secret()
        done: list[str] = []
        with httpx.Client(timeout=self.timeout_s) as client:
            for event in events:
                try:
                    self._post(client, event, secret)
                except DeliveryError as err:
                    raise DeliveryError(str(err), delivered=done) from None
                done.append(event.idempotency_key)
