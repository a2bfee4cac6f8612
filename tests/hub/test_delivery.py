"""Tests for hub/delivery.py: the outbox delivered to real receivers, with receivers and the hub killed mid-delivery."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from connectors.publish import OutboundEvent, Target
from connectors.publish.sql_events import events_table
from connectors.publish.sql_writeback import writeback_table
from hub.delivery import default_targets, deliver_pending, delivery_status, replay
from hub.writeback import publish_xref
from hub.store import open_hub
from schemas import ChangeEvent, EventDelivery, GoldenPerson, SourceRecord, SourceSystem, Xref
from schemas.config import HubConfig, SourceConfig, parse_config
from tests.conftest_servers import (  # noqa: F401 - fixtures
    Receiver, free_port, maria_url, pg_fresh_url, pg_url, rabbit_url, receiver,
)

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def hub(tmp_path: Path):  # noqa: ANN201 - an Engine
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_hub(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201 - an Engine
    """The hub store on SQLite (default) and on PostgreSQL (production)."""
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_fresh_url")
    engine = open_hub(url)
    yield engine
    engine.dispose()


def _config(tmp_path: Path, publish: dict[str, list[dict]]) -> HubConfig:
    sources = [{"name": name, "url": f"sqlite:///{tmp_path / name}.db", "table": "people", "key": "ref",
                "fields": {"full_name": "name"}, "publish": targets} for name, targets in publish.items()]
    return parse_config({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"}, "sources": sources},
                        base_dir=tmp_path)


def _outbox(hub, n: int, subscribers: Sequence[str], start: int = 1) -> list[str]:  # noqa: ANN001
    keys = []
    with Session(hub) as s, s.begin():
        for i in range(start, start + n):
            event = ChangeEvent(idempotency_key=f"coa:{i}", event_type="change_of_address", person_id=i,
                                uprn=1000 + i, source="ctax", payload={"to_uprn": 1000 + i})
            s.add(event)
            s.flush()
            s.add_all(EventDelivery(event_id=event.id, subscriber=sub, status="pending", attempts=0)
                      for sub in subscribers)
            keys.append(event.idempotency_key)
    return keys


def _deliveries(hub, subscriber: str) -> list[EventDelivery]:  # noqa: ANN001
    with Session(hub) as s:
        return list(s.scalars(select(EventDelivery).where(EventDelivery.subscriber == subscriber)
                              .order_by(EventDelivery.event_id)))


def _files_keys(folder: Path) -> list[str]:
    return [e["idempotency_key"] for f in sorted(folder.glob("*.json")) for e in json.loads(f.read_text())["events"]]


def test_down_subscriber_blocks_nobody_and_catches_up_in_order(tmp_path: Path, any_hub, receiver: Receiver) -> None:  # noqa: ANN001
    hub = any_hub
    dead = f"http://127.0.0.1:{free_port()}/hook"
    cfg = _config(tmp_path, {"housing": [{"kind": "webhook", "url": receiver.url}],
                             "ctax": [{"kind": "files", "folder": "out/ctax"}],
                             "parking": [{"kind": "webhook", "url": dead}],
                             "waste": []})
    keys = _outbox(hub, 5, ["housing", "ctax", "parking", "waste"])
    summary = deliver_pending(hub, cfg, now=T0)
    assert summary.subscribers["housing"] == summary.subscribers["ctax"] == "ok"
    assert summary.subscribers["parking"].startswith("failed: subscriber parking: webhook")
    assert summary.subscribers["waste"] == "no targets" and summary.waiting == {"parking": 5, "waste": 5}
    assert sorted(receiver.applied) == keys and _files_keys(tmp_path / "out/ctax") == keys
    parking = _deliveries(hub, "parking")
    assert [d.status for d in parking] == ["failed"] + ["pending"] * 4  # the rest wait behind the head
    assert parking[0].attempts == 1 and "ConnectError" in parking[0].last_error
    assert parking[0].next_attempt_at is not None

    # Not due yet: nothing is tried, and nothing overtakes the failed head.
    again = deliver_pending(hub, cfg, now=T0 + dt.timedelta(seconds=5))
    assert again.subscribers["parking"] == "backing off" and _deliveries(hub, "parking")[0].attempts == 1

    # Down again at the retry: the backoff doubles.
    deliver_pending(hub, cfg, now=T0 + dt.timedelta(seconds=31))
    head = _deliveries(hub, "parking")[0]
    assert head.attempts == 2
    assert head.next_attempt_at.replace(tzinfo=dt.timezone.utc) == T0 + dt.timedelta(seconds=31 + 60)

    # The receiver comes back: everything is delivered, in order, once.
    cfg = _config(tmp_path, {"parking": [{"kind": "webhook", "url": receiver.url}]})
    receiver.received.clear()
    summary = deliver_pending(hub, cfg, now=T0 + dt.timedelta(minutes=5))
    assert summary.subscribers["parking"] == "ok" and summary.delivered == 5
    assert [r["headers"]["Idempotency-Key"] for r in receiver.received] == keys
    assert delivery_status(hub)["parking"] == {"delivered": 5}


def test_receiver_killed_mid_delivery_applies_each_event_once(tmp_path: Path, any_hub, receiver: Receiver) -> None:  # noqa: ANN001
    hub = any_hub
    cfg = _config(tmp_path, {"housing": [{"kind": "webhook", "url": receiver.url}]})
    keys = _outbox(hub, 6, ["housing"])
    receiver.drop_after_apply = 1  # applies coa:1, dies before answering and stays down
    first = deliver_pending(hub, cfg, now=T0)
    assert first.delivered == 0 and first.failed == 1
    assert list(receiver.applied) == ["coa:1"]
    assert [d.status for d in _deliveries(hub, "housing")] == ["failed"] + ["pending"] * 5
    receiver.down = False  # restarted
    later = deliver_pending(hub, cfg, now=T0 + dt.timedelta(hours=1))
    assert later.delivered == 6
    assert list(receiver.applied) == keys  # each applied once, in order
    assert receiver.count("coa:1") > 1 and all(receiver.count(k) == 1 for k in keys[1:])  # resent, deduplicated


class _CrashAfterSend:
    """Wraps a real target; the hub process 'dies' right after the receiver took the batch, before marking it."""

    def __init__(self, inner: Target) -> None:
        self.inner, self.kind = inner, inner.kind

    def send(self, events: Sequence[OutboundEvent]) -> None:
        self.inner.send(events)
        raise SystemExit("hub killed")


def test_hub_killed_between_send_and_mark_resends_and_receivers_apply_once(tmp_path: Path, hub) -> None:  # noqa: ANN001
    cfg = _config(tmp_path, {"housing": [{"kind": "sql_events"}, {"kind": "files", "folder": "out", "format": "json"}]})
    keys = _outbox(hub, 4, ["housing"])
    real = default_targets(hub)

    def crashing(source: SourceConfig) -> list[Target]:
        return [_CrashAfterSend(t) for t in real(source)]

    with pytest.raises(SystemExit):
        deliver_pending(hub, cfg, now=T0, batch_size=2, targets=crashing)
    assert [d.status for d in _deliveries(hub, "housing")] == ["pending"] * 4  # nothing marked: it will be resent
    assert deliver_pending(hub, cfg, now=T0, batch_size=2).delivered == 4
    engine = create_engine(cfg.source("housing").url)
    with engine.connect() as conn:
        received = conn.scalars(select(events_table().c.idempotency_key).order_by(events_table().c.event_id)).all()
    engine.dispose()
    assert received == keys  # the resent batch inserted nothing twice
    assert sorted(set(_files_keys(tmp_path / "out"))) == keys  # the same batch rewrote the same file name
    assert len(list((tmp_path / "out").glob("*.json"))) == 2 and not list((tmp_path / "out").glob(".*"))


def test_max_attempts_parks_a_poison_event_and_lets_the_rest_through(tmp_path: Path, hub, receiver: Receiver) -> None:  # noqa: ANN001
    cfg = _config(tmp_path, {"housing": [{"kind": "webhook", "url": receiver.url}]})
    keys = _outbox(hub, 3, ["housing"])
    receiver.refuse = {"coa:2": 422}
    for hour in range(3):
        deliver_pending(hub, cfg, now=T0 + dt.timedelta(hours=hour), max_attempts=2, backoff_s=1)
    rows = _deliveries(hub, "housing")
    assert [(d.status, d.attempts) for d in rows] == [("delivered", 1), ("failed", 2), ("delivered", 1)]
    assert "HTTP 422" in rows[1].last_error and rows[1].next_attempt_at is None
    # A steward fixes the receiver and replays from event 2: it goes through; event 3 is resent, deduplicated.
    receiver.refuse = {}
    assert replay(hub, "housing", since_event_id=rows[1].event_id) == 2
    assert deliver_pending(hub, cfg, now=T0 + dt.timedelta(hours=4)).delivered == 2
    assert sorted(receiver.applied) == keys and receiver.count("coa:3") == 2


def test_every_real_receiver_kind_with_replay(tmp_path: Path, hub, receiver: Receiver, pg_url: str,  # noqa: ANN001
                                              maria_url: str, rabbit_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import pika

    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    queue = f"mdh.test.{dt.datetime.now().strftime('%H%M%S%f')}"
    cfg = _config(tmp_path, {
        "housing": [{"kind": "webhook", "url": receiver.url, "secret_env": "HOOK_SECRET"}],
        "benefits": [{"kind": "sql_events", "url": pg_url, "table": "mdh_events_all"}],
        "electoral": [{"kind": "sql_events", "url": maria_url, "table": "mdh_events_all"}],
        "waste": [{"kind": "amqp", "url": rabbit_url, "queue": queue}],
        "ctax": [{"kind": "files", "folder": "out", "format": "csv"}],
    })
    subs = ["housing", "benefits", "electoral", "waste", "ctax"]
    keys = _outbox(hub, 3, subs)
    assert deliver_pending(hub, cfg, now=T0).delivered == 15
    for sub in subs:
        assert replay(hub, sub, since_event_id=1) == 3
    assert deliver_pending(hub, cfg, now=T0).delivered == 15  # at-least-once: replays are resent...
    for url in (pg_url, maria_url):  # ...and applied once where the receiver is the hub's own table
        engine = create_engine(url)
        tbl = events_table("mdh_events_all")
        with engine.connect() as conn:
            assert conn.scalars(select(tbl.c.idempotency_key).order_by(tbl.c.event_id)).all() == keys
        engine.dispose()
    assert sorted(receiver.applied) == keys and all(receiver.count(k) == 2 for k in keys)
    connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    channel = connection.channel()
    try:
        ids = []
        while (msg := channel.basic_get(queue, auto_ack=True))[0] is not None:
            ids.append(msg[1].message_id)
    finally:
        channel.queue_delete(queue)
        connection.close()
    assert ids == keys + keys and len(set(ids)) == 3  # a consumer dedupes on message_id


def _golden_fixture(hub) -> None:  # noqa: ANN001
    """Three housing records: one plain, one whose person merged into another, one deleted; one restricted person."""
    with Session(hub) as s, s.begin():
        housing = SourceSystem(name="housing")
        s.add(housing)
        s.flush()
        people = [GoldenPerson(person_id=1, uprn=100, address="1 High St", postcode="LS1 1AA"),
                  GoldenPerson(person_id=2, uprn=200, address="2 Low St", postcode="LS2 2BB"),
                  GoldenPerson(person_id=3, status="merged", uprn=300),
                  GoldenPerson(person_id=4, uprn=400, address="Secret", restricted=True)]
        s.add_all(people)
        s.flush()
        s.get(GoldenPerson, 3).redirect_to = 2
        records = [SourceRecord(source_id=housing.id, source_key=k, raw={}, content_hash="h", deleted=d)
                   for k, d in (("H1", False), ("H2", False), ("H3", True), ("H4", False))]
        s.add_all(records)
        s.flush()
        s.add_all(Xref(source_record_id=r.id, person_id=p, link_band="auto") for r, p in zip(records, (1, 3, 1, 4)))


@pytest.mark.parametrize("server", ["sqlite", "postgres", "mariadb"])
def test_publish_xref_writes_back_per_source_key(tmp_path: Path, hub, server: str,  # noqa: ANN001
                                                 request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'housing.db'}" if server == "sqlite"
           else request.getfixturevalue("pg_url" if server == "postgres" else "maria_url"))
    table = f"golden_xref_{server}"
    cfg = _config(tmp_path, {"housing": [{"kind": "sql_writeback", "url": url, "table": table}]})
    _golden_fixture(hub)
    engine = create_engine(url)
    tbl = writeback_table(table)
    with engine.begin() as conn:  # a stale row for H3 from an earlier publish must go
        tbl.drop(conn, checkfirst=True)
        tbl.create(conn)
        conn.execute(tbl.insert().values(source_key="H3", golden_person_id=1, hub_updated_at=T0))
    summary = publish_xref(hub, cfg)
    assert summary.counts == {"housing": 3} and summary.removed == {"housing": 1} and not summary.failed
    assert summary.mode == {"housing": "full"}  # never written by this hub: every row is compared
    summary = publish_xref(hub, cfg)  # idempotent: a second publish changes nothing
    assert summary.counts == {"housing": 0} and summary.removed == {"housing": 0} and not summary.failed
    assert summary.mode == {"housing": "incremental"}
    with engine.connect() as conn:
        rows = conn.execute(select(tbl.c.source_key, tbl.c.golden_person_id, tbl.c.uprn, tbl.c.address)
                            .order_by(tbl.c.source_key)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("H1", 1, 100, "1 High St"), ("H2", 2, 200, "2 Low St"), ("H4", 4, None, None)]


def test_publish_xref_down_database_fails_alone(tmp_path: Path, hub) -> None:  # noqa: ANN001
    cfg = _config(tmp_path, {
        "housing": [{"kind": "sql_writeback", "url": f"postgresql+psycopg://u:pw123x@127.0.0.1:{free_port()}/h"}],
        "ctax": [{"kind": "sql_writeback"}]})
    _golden_fixture(hub)
    summary = publish_xref(hub, cfg)
    assert summary.counts == {"ctax": 0} and "subscriber housing" in summary.failed["housing"]
    assert "pw123x" not in summary.failed["housing"]


def test_change_event_refreshes_writeback_for_the_person(tmp_path: Path, hub) -> None:  # noqa: ANN001
    cfg = _config(tmp_path, {"housing": [{"kind": "sql_writeback", "table": "golden_xref"}]})
    _golden_fixture(hub)
    with Session(hub) as s, s.begin():
        s.get(GoldenPerson, 2).uprn = 201  # person 2 moved: the event names them
    _outbox(hub, 1, ["housing"], start=2)
    assert deliver_pending(hub, cfg, now=T0).delivered == 1
    engine = create_engine(cfg.source("housing").url)
    tbl = writeback_table("golden_xref")
    with engine.connect() as conn:
        rows = conn.execute(select(tbl.c.source_key, tbl.c.golden_person_id, tbl.c.uprn)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("H2", 2, 201)]  # only the person the event touched
