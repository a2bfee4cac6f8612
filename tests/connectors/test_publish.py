"""Tests for connectors/publish/*: each target against the real receiver it writes to."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from connectors.publish import DeliveryError, OutboundEvent, Target, WritebackRow, make_target
from connectors.publish.sql_events import events_table
from connectors.publish.sql_writeback import persons_in, writeback_table
from connectors.publish.webhook import SIGNATURE_HEADER, verify
from schemas.config import PublishTarget, SourceConfig
from tests.conftest_servers import Receiver, free_port, maria_url, pg_url, rabbit_url, receiver  # noqa: F401

SECRET = "s3cret-for-tests"


def _source(url: str, *targets: dict) -> SourceConfig:
    return SourceConfig(name="housing", url=url, table="tenants", key="ref", fields={"full_name": "name"},
                        publish=[PublishTarget(**t) for t in targets])


def _events(n: int, start: int = 1) -> list[OutboundEvent]:
    return [OutboundEvent(idempotency_key=f"coa:{i}:v1", event_id=i, event_type="change_of_address", subscriber="housing",
                          person_id=100 + i, uprn=1000 + i, source="ctax", payload={"to_uprn": 1000 + i},
                          created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) for i in range(start, start + n)]


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'housing.db'}"
    return request.getfixturevalue("pg_url" if request.param == "postgres" else "maria_url")


def test_sql_writeback_upserts_per_key(db_url: str) -> None:
    table = f"wb_{dt.datetime.now().strftime('%H%M%S%f')}"
    target = make_target(PublishTarget(kind="sql_writeback", table=table), _source(db_url))
    target.sync([WritebackRow("A1", 1, 10, "1 High St", "LS1 1AA"), WritebackRow("A2", 2, None, None, None)])
    target.sync([WritebackRow("A1", 3, 11, "2 Low St", "LS2 2BB")], scope=["A1", "A2"])  # A1 moved and merged; A2 gone
    engine = create_engine(db_url)
    tbl = writeback_table(table)
    with engine.connect() as conn:
        rows = conn.execute(select(tbl.c.source_key, tbl.c.golden_person_id, tbl.c.uprn, tbl.c.address)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("A1", 3, 11, "2 Low St")]


def test_sql_events_replay_inserts_nothing_twice(db_url: str) -> None:
    table = f"ev_{dt.datetime.now().strftime('%H%M%S%f')}"
    target = make_target(PublishTarget(kind="sql_events", table=table), _source(db_url))
    target.send(_events(3))
    target.send(_events(4))  # a replay of 1-3 plus one new event
    engine = create_engine(db_url)
    tbl = events_table(table)
    with engine.connect() as conn:
        keys = conn.scalars(select(tbl.c.idempotency_key).order_by(tbl.c.event_id)).all()
        payload = conn.scalar(select(tbl.c.payload).where(tbl.c.event_id == 2))
    engine.dispose()
    assert keys == [f"coa:{i}:v1" for i in range(1, 5)]
    assert json.loads(payload) == {"to_uprn": 1002}


def test_sql_target_on_unreachable_database_names_subscriber_not_password() -> None:
    source = _source(f"postgresql+psycopg://svc:hunter2pw@127.0.0.1:{free_port()}/housing")
    with pytest.raises(DeliveryError) as err:
        make_target(PublishTarget(kind="sql_events"), source).send(_events(1))
    assert "subscriber housing" in str(err.value) and "hunter2pw" not in str(err.value)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_files_written_atomically_named_by_key_range(tmp_path: Path, fmt: str) -> None:
    target = make_target(PublishTarget(kind="files", folder=tmp_path / "out", format=fmt), _source("sqlite://"))
    target.send(_events(3))
    target.send(_events(3))  # the same batch again: same name, replaced, not a second file
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"housing__coa_1_v1-{_digest('coa:1:v1')}__coa_3_v1-{_digest('coa:3:v1')}.{fmt}"]
    content = files[0].read_text()
    if fmt == "json":
        keys = [e["idempotency_key"] for e in json.loads(content)["events"]]
    else:
        rows = list(csv.DictReader(io.StringIO(content)))
        keys = [r["idempotency_key"] for r in rows]
        assert json.loads(rows[0]["payload"]) == {"to_uprn": 1001}
    assert keys == ["coa:1:v1", "coa:2:v1", "coa:3:v1"]


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha1(key.encode()).hexdigest()[:8]


def test_webhook_signs_sets_idempotency_key_and_retries(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUSING_HOOK_SECRET", SECRET)
    receiver.fail_with = [503, 502]  # two transient failures, then the receiver recovers
    target = make_target(PublishTarget(kind="webhook", url=receiver.url, secret_env="HOUSING_HOOK_SECRET"),
                         _source("sqlite://"))
    target.backoff_s = 0.01
    target.send(_events(2))
    assert sorted(receiver.applied) == ["coa:1:v1", "coa:2:v1"]
    assert receiver.count("coa:1:v1") == 3
    last = receiver.received[-1]
    assert verify(SECRET.encode(), last["body"], last["headers"][SIGNATURE_HEADER])
    assert not verify(b"wrong", last["body"], last["headers"][SIGNATURE_HEADER])


def test_webhook_client_error_not_retried_and_reports_what_was_delivered(receiver: Receiver) -> None:
    target = make_target(PublishTarget(kind="webhook", url=receiver.url), _source("sqlite://"))
    target.backoff_s = 0.01
    target.send(_events(1))
    receiver.refuse = {"coa:2:v1": 400}
    with pytest.raises(DeliveryError) as err:
        target.send(_events(3))  # 1 is re-sent (and deduplicated), 2 is refused
    assert err.value.delivered == ("coa:1:v1",)
    assert "HTTP 400" in str(err.value) and "coa:2:v1" in str(err.value)
    assert receiver.count("coa:2:v1") == 1 and receiver.count("coa:3:v1") == 0


def test_webhook_missing_secret_and_down_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    src = _source("sqlite://")
    with pytest.raises(DeliveryError, match="NOPE_SECRET is not set"):
        make_target(PublishTarget(kind="webhook", url="http://127.0.0.1:9/x", secret_env="NOPE_SECRET"), src).send(_events(1))
    down = make_target(PublishTarget(kind="webhook", url=f"http://user:pw@127.0.0.1:{free_port()}/x?token=t0k"), src)
    down.backoff_s = 0.01
    with pytest.raises(DeliveryError) as err:
        down.send(_events(1))
    assert "ConnectError" in str(err.value) and "t0k" not in str(err.value) and ":pw@" not in str(err.value)


def test_amqp_persistent_confirmed_message_id_is_idempotency_key(rabbit_url: str) -> None:
    import pika

    queue = f"mdh.test.{dt.datetime.now().strftime('%H%M%S%f')}"
    target = make_target(PublishTarget(kind="amqp", url=rabbit_url, queue=queue), _source("sqlite://"))
    assert isinstance(target, Target)
    target.send(_events(3))
    connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    channel = connection.channel()
    try:
        got = []
        for _ in range(3):
            method, props, body = channel.basic_get(queue, auto_ack=True)
            assert method is not None
            got.append((props.message_id, props.delivery_mode, json.loads(body)["event_id"]))
        assert got == [(f"coa:{i}:v1", 2, i) for i in (1, 2, 3)]
        assert channel.basic_get(queue, auto_ack=True)[0] is None
    finally:
        channel.queue_delete(queue)
        connection.close()


def test_amqp_broker_down_is_a_delivery_error() -> None:
    target = make_target(PublishTarget(kind="amqp", url=f"amqp://guest:pw9secret@127.0.0.1:{free_port()}/%2F"),
                         _source("sqlite://"))
    with pytest.raises(DeliveryError) as err:
        target.send(_events(1))
    assert "unreachable" in str(err.value) and "pw9secret" not in str(err.value)


def test_persons_in_reads_event_and_payload_ids() -> None:
    e = OutboundEvent("m:1", 1, "merge", "housing", person_id=5, payload={"merged_ids": [7, "8"], "survivor_id": 5})
    assert persons_in([e]) == [5, 7, 8]
