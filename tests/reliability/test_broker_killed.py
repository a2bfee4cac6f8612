"""The RabbitMQ connection dies in the middle of a batch of outbox events (issue 11).

A TCP proxy between the hub and the real broker (127.0.0.1:5672) cuts the connection at an exact point in the
AMQP stream: either just before the broker's confirm of the 5th message reaches the hub (the broker has the
message, the hub does not know) or just before the 5th message reaches the broker. Killing the shared
rabbitmq-server itself would break every other test using it, and the hub cannot tell the two apart: both are a
TCP connection lost mid-delivery. Checked: a one-line error naming the subscriber, broker and queue and no
personal data; only broker-confirmed events marked delivered; the next run sends the rest; a consumer that
applies each message_id once sees every event exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import struct
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.delivery import deliver_pending
from hub.store import open_hub
from schemas import ChangeEvent, EventDelivery
from schemas.config import HubConfig, parse_config
from tests.conftest_servers import RABBIT_HOST, RABBIT_PORT, rabbit_url  # noqa: F401 - fixture

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
N_EVENTS, CUT_AT = 10, 5
PERSONAL = "Zebedee Quartermaine"  # in every payload: must never reach an error or a log line
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
BASIC_PUBLISH, BASIC_ACK = (60, 40), (60, 80)


class CuttingProxy:
    """Forwards TCP to the broker; on the first connection, cuts both sides at the ``cut_at``-th publish or ack.

    ``where="ack"``: the broker's confirm (Basic.Ack) of message ``cut_at`` is never forwarded: the broker holds
    the message but the publisher never learns it. ``where="publish"``: message ``cut_at`` (Basic.Publish) never
    reaches the broker. Later connections are forwarded untouched (the broker is back).
    """

    def __init__(self, where: str, cut_at: int) -> None:
        self.where, self.cut_at = where, cut_at
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.cut = threading.Event()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection((RABBIT_HOST, RABBIT_PORT))
            armed = self.connections == 1
            watch_up = armed and self.where == "publish"
            watch_down = armed and self.where == "ack"
            threading.Thread(target=self._pump, args=(client, upstream, watch_up, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, watch_down, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool, from_client: bool) -> None:
        """Copy src to dst (frame by frame when watching) until either side closes or the chosen frame arrives."""
        buf, seen, header_left = b"", 0, len(AMQP_HEADER) if from_client else 0
        try:
            while data := src.recv(65536):
                if not watch:
                    dst.sendall(data)
                    continue
                buf += data
                if header_left:  # the client opens with the protocol header, not a frame
                    take = min(header_left, len(buf))
                    dst.sendall(buf[:take])
                    buf, header_left = buf[take:], header_left - take
                while len(buf) >= 7 and len(buf) >= (size := struct.unpack(">I", buf[3:7])[0]) + 8:
                    frame, buf = buf[: size + 8], buf[size + 8 :]
                    if frame[0] == 1 and size >= 4 and struct.unpack(">HH", frame[7:11]) == (
                            BASIC_PUBLISH if from_client else BASIC_ACK):
                        seen += 1
                        if seen == self.cut_at:
                            self._cut(src, dst)
                            return
                    dst.sendall(frame)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _cut(self, *socks: socket.socket) -> None:
        self.cut.set()
        for sock in socks:  # shutdown also wakes the other direction's thread, blocked reading the same sockets
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST once closed
            sock.shutdown(socket.SHUT_RDWR)


def _config(tmp_path: Path, url: str, queue: str) -> HubConfig:
    return parse_config({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"}, "sources": [
        {"name": "waste", "url": f"sqlite:///{tmp_path / 'waste.db'}", "table": "people", "key": "ref",
         "fields": {"full_name": "name"}, "publish": [{"kind": "amqp", "url": url, "queue": queue}]}]},
        base_dir=tmp_path)


def _outbox(hub) -> list[str]:  # noqa: ANN001 - an Engine
    keys = []
    with Session(hub) as s, s.begin():
        for i in range(1, N_EVENTS + 1):
            event = ChangeEvent(idempotency_key=f"coa:{i}", event_type="change_of_address", person_id=i,
                                uprn=1000 + i, source="ctax", payload={"to_uprn": 1000 + i, "name": PERSONAL})
            s.add(event)
            s.flush()
            s.add(EventDelivery(event_id=event.id, subscriber="waste", status="pending", attempts=0))
            keys.append(event.idempotency_key)
    return keys


def _statuses(hub) -> list[tuple[str, str, int]]:  # noqa: ANN001
    with Session(hub) as s:
        return [tuple(r) for r in s.execute(
            select(ChangeEvent.idempotency_key, EventDelivery.status, EventDelivery.attempts)
            .join(ChangeEvent, ChangeEvent.id == EventDelivery.event_id).order_by(ChangeEvent.id))]


def _queue_depth(rabbit_url: str, queue: str) -> int:  # noqa: F811
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def _drain(rabbit_url: str, queue: str) -> list[tuple[str, int, int]]:  # noqa: F811
    """Every message on the queue as (message_id, delivery_mode, event_id header); the queue is deleted."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    channel = connection.channel()
    got = []
    try:
        while (msg := channel.basic_get(queue, auto_ack=True))[0] is not None:
            got.append((msg[1].message_id, msg[1].delivery_mode, msg[1].headers["event_id"]))
    finally:
        channel.queue_delete(queue)
        connection.close()
    return got


def _through(url: str, port: int) -> str:
    """The broker's URL (credentials from the fixture) pointed at the proxy on 127.0.0.1:``port``."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


@pytest.mark.parametrize("where", ["ack", "publish"])
def test_broker_connection_cut_mid_batch_loses_nothing_and_the_next_run_sends_the_rest(
        where: str, tmp_path: Path, rabbit_url: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    proxy = CuttingProxy(where, CUT_AT)
    queue = f"mdh.test.cut.{uuid.uuid4().hex[:8]}"
    hub = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        cfg = _config(tmp_path, _through(rabbit_url, proxy.port), queue)
        keys = _outbox(hub)
        with caplog.at_level(logging.INFO):
            first = deliver_pending(hub, cfg, now=T0, backoff_s=30)
        assert proxy.cut.is_set(), "the proxy never cut the connection"

        # A clear error naming subscriber, broker and queue; no personal data, no password.
        error = first.subscribers["waste"]
        assert error.startswith(f"failed: subscriber waste: AMQP broker 127.0.0.1:{proxy.port} queue {queue} "
                                f"failed after the broker confirmed {CUT_AT - 1} of {N_EVENTS} events"), error
        assert first.delivered == CUT_AT - 1 and first.failed == 1 and first.waiting == {"waste": N_EVENTS - CUT_AT + 1}
        with Session(hub) as s:
            stored_error = s.scalar(select(EventDelivery.last_error).where(EventDelivery.status == "failed"))
        for text in (error, stored_error, caplog.text):
            assert PERSONAL not in text and ":guest@" not in text
        assert f"queue {queue}" in caplog.text

        # Only what the broker confirmed is marked delivered; the event in flight failed, the rest wait.
        expected = ([(k, "delivered", 1) for k in keys[: CUT_AT - 1]] + [(keys[CUT_AT - 1], "failed", 1)]
                    + [(k, "pending", 0) for k in keys[CUT_AT:]])
        assert _statuses(hub) == expected
        # The broker holds the unconfirmed message when only its confirm was lost, and not when the publish was.
        assert _queue_depth(rabbit_url, queue) == (CUT_AT if where == "ack" else CUT_AT - 1)

        # During the backoff nothing is sent; once it is due, the next run sends the rest, in order.
        assert deliver_pending(hub, cfg, now=T0 + dt.timedelta(seconds=10), backoff_s=30).delivered == 0
        second = deliver_pending(hub, cfg, now=T0 + dt.timedelta(seconds=31), backoff_s=30)
        assert second.ok and second.delivered == N_EVENTS - CUT_AT + 1
        assert [status for _k, status, _a in _statuses(hub)] == ["delivered"] * N_EVENTS
        assert proxy.connections == 2  # the cut one and the catch-up run's (a run during the backoff opens none)
    finally:
        proxy.close()
        hub.dispose()

    # The consumer: every event at least once, persistent, keyed by message_id; applying each key once gives
    # every event exactly once, in order.
    got = _drain(rabbit_url, queue)
    ids = [message_id for message_id, _mode, _event in got]
    assert all(mode == 2 for _id, mode, _event in got)
    assert all(message_id == f"coa:{event_id}" for message_id, _mode, event_id in got)
    duplicates = [keys[CUT_AT - 1]] if where == "ack" else []
    number = lambda key: int(key.split(":")[1])  # noqa: E731
    assert sorted(ids, key=number) == sorted(keys + duplicates, key=number)
    applied = list(dict.fromkeys(ids))  # a consumer that applies each message_id once
    assert applied == keys
