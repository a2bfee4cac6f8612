"""Fixtures for tests that need the real servers on this machine (PostgreSQL, MariaDB, RabbitMQ) or a local HTTP receiver.

Each server fixture skips with a clear reason when the server is not reachable. Databases are created
fresh per test session and dropped afterwards.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, text

PG_HOST, PG_PORT = "127.0.0.1", 5432
MARIA_HOST, MARIA_PORT = "127.0.0.1", 3306
RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nothing listens on right now (for 'receiver down' tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class _Server:
    """How to make and drop a throw-away database on one of this machine's servers."""

    label: str
    host: str
    port: int
    admin_url: str
    url: str  # with {name}
    create: str  # with {name}
    drop: str  # with {name}


_PG = _Server("PostgreSQL", PG_HOST, PG_PORT, f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres",
              f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{{name}}",
              'CREATE DATABASE "{name}"', 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
_MARIA = _Server("MariaDB", MARIA_HOST, MARIA_PORT, f"mysql+pymysql://root@{MARIA_HOST}:{MARIA_PORT}/mysql",
                 f"mysql+pymysql://root@{MARIA_HOST}:{MARIA_PORT}/{{name}}?charset=utf8mb4",
                 "CREATE DATABASE `{name}` CHARACTER SET utf8mb4", "DROP DATABASE IF EXISTS `{name}`")


def _fresh_database(server: _Server) -> Iterator[str]:
    """Yield the URL of a new, empty database on ``server`` (skipping when it is unusable), dropped afterwards."""
    if not port_open(server.host, server.port):
        pytest.skip(f"{server.label} not reachable on {server.host}:{server.port}")
    name = f"mdh_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(server.create.format(name=name)))
    except Exception as err:  # noqa: BLE001 - any failure here means the server is unusable for tests
        admin.dispose()
        pytest.skip(f"{server.label} on {server.host}:{server.port} refused to create a test database: "
                    f"{err.__class__.__name__}")
    yield server.url.format(name=name)
    with admin.connect() as conn:
        conn.execute(text(server.drop.format(name=name)))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database on 127.0.0.1:5432 (trust auth), shared by the session, dropped after it."""
    yield from _fresh_database(_PG)


@pytest.fixture
def pg_fresh_url() -> Iterator[str]:
    """URL of a PostgreSQL database of the test's own (e.g. a hub store), dropped after the test."""
    yield from _fresh_database(_PG)


@pytest.fixture(scope="session")
def maria_url() -> Iterator[str]:
    """URL of a fresh MariaDB database on 127.0.0.1:3306 (root, no password), dropped after the session."""
    yield from _fresh_database(_MARIA)


@pytest.fixture
def maria_fresh_url() -> Iterator[str]:
    """URL of a MariaDB database of the test's own, dropped after the test."""
    yield from _fresh_database(_MARIA)


@pytest.fixture(scope="session")
def rabbit_url() -> str:
    """AMQP URL of the RabbitMQ broker on 127.0.0.1:5672 (guest/guest)."""
    pika = pytest.importorskip("pika", reason="the 'pika' package is not installed")
    if not port_open(RABBIT_HOST, RABBIT_PORT):
        pytest.skip(f"RabbitMQ not reachable on {RABBIT_HOST}:{RABBIT_PORT}")
    url = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/%2F"
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"RabbitMQ on {RABBIT_HOST}:{RABBIT_PORT} refused guest/guest: {err.__class__.__name__}")
    return url


@dataclass
class Receiver:
    """A local HTTP receiver that applies each Idempotency-Key once and can fail on demand.

    ``down`` cuts every request off unapplied, like a stopped service. ``fail_with`` answers the next N requests with a status, ``refuse`` always answers one key with a
    status; ``drop_after_apply`` applies the next
    N events and then closes the connection without answering (a receiver killed mid-delivery).
    """

    url: str = ""
    received: list[dict] = field(default_factory=list)  # every request: headers and body
    applied: dict[str, dict] = field(default_factory=dict)  # idempotency key -> event, first time only
    fail_with: list[int] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)  # idempotency key -> status, every time
    drop_after_apply: int = 0
    down: bool = False  # set once a drop happened: every request is cut off unapplied until set back
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def count(self, key: str) -> int:
        """How many times ``key`` was received (applied at most once)."""
        return sum(1 for r in self.received if r["headers"].get("Idempotency-Key") == key)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # keep test output quiet
            pass

        def _cut(self) -> None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.received.append({"headers": dict(self.headers), "body": body})
                if receiver.down:
                    self._cut()
                    return
                key = self.headers.get("Idempotency-Key", "")
                if receiver.fail_with or key in receiver.refuse:
                    status = receiver.fail_with.pop(0) if receiver.fail_with else receiver.refuse[key]
                    self.send_response(status)
                    self.end_headers()
                    return
                receiver.applied.setdefault(key, json.loads(body))
                if receiver.drop_after_apply:
                    receiver.drop_after_apply -= 1
                    receiver.down = True
                    self._cut()  # applied, but the sender never hears so, and the receiver is now down
                    return
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running local HTTP receiver on 127.0.0.1 (a random port), stopped after the test."""
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    rec.server = server
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
