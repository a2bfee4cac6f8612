"""The golden-record API over a small real SQLite hub: reads, search, property, change feed, GDPR, auth and audit."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import create_app, gdpr
from hub import stewardship as st
from hub.access import revoke_token
from hub.standardised_cache import cache_dir, standardise_with_cache
from schemas import AuditLog, ChangeEvent, EventDelivery, GoldenPerson, SourceRecord
from tests.api.steward_hub import StewardHub, build_hub


@pytest.fixture
def hub(tmp_path: Path) -> StewardHub:
    return build_hub(tmp_path)


@pytest.fixture
def client(hub: StewardHub) -> TestClient:
    return TestClient(create_app(hub.config, engine=hub.engine, secret_key="test"))


def auth(hub: StewardHub, role: str = "reader") -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.tokens[role]}"}


def test_tokens_are_required_and_roles_enforced(hub: StewardHub, client: TestClient) -> None:
    pid = hub.person("C1")
    assert client.get(f"/api/v1/persons/{pid}").status_code == 401
    assert client.get(f"/api/v1/persons/{pid}", headers={"Authorization": "Bearer mdh_nope"}).status_code == 401
    assert client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "reader")).status_code == 403
    assert client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "admin")).status_code == 200


def test_revoked_token_stops_working(hub: StewardHub, tmp_path: Path) -> None:
    import api.deps

    api.deps.AUTH_CACHE_SECONDS, old = 0.0, api.deps.AUTH_CACHE_SECONDS
    try:
        client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="t"))
        pid = hub.person("C1")
        assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 200
        with Session(hub.engine) as s, s.begin():
            revoke_token(s, "test-reader")
        assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 401
    finally:
        api.deps.AUTH_CACHE_SECONDS = old


def test_person_by_id_follows_merge_redirects_and_is_audited(hub: StewardHub, client: TestClient) -> None:
    old_c1, old_h1 = hub.person("C1"), hub.person("H1")
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["C1"], hub.records["H1"], steward="alice")
    absorbed, survivor = max(old_c1, old_h1), min(old_c1, old_h1)
    body = client.get(f"/api/v1/persons/{absorbed}", headers=auth(hub)).json()
    assert body["person_id"] == survivor and body["requested_id"] == absorbed and body["redirected"] is True
    assert {(x["source"], x["source_key"]) for x in body["sources"]} == {("ctax", "C1"), ("housing", "H1")}
    assert any(x["attribute"] == "first_name" and x["source"] == "ctax" for x in body["lineage"])
    with Session(hub.engine) as s:
        reads = s.scalars(select(AuditLog).where(AuditLog.action == "read", AuditLog.object_type == "person")).all()
    assert [(r.actor, r.object_id) for r in reads] == [("test-reader", str(survivor))]
    assert client.get("/api/v1/persons/999999", headers=auth(hub)).status_code == 404


def test_as_at_reads_an_earlier_version(hub: StewardHub, client: TestClient) -> None:
    pid = hub.person("E1")
    with Session(hub.engine) as s, s.begin():
        st.override_attribute(s, hub.config, pid, "last_name", "DOE-SMITH", steward="d", reason="marriage")
    now = client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).json()
    then = client.get(f"/api/v1/persons/{pid}", params={"as_at": "2026-02-01T00:00:00Z"}, headers=auth(hub)).json()
    assert (now["last_name"], now["version"]) == ("DOE-SMITH", 2)
    assert (then["last_name"], then["version"]) == ("DOE", 1)


def test_person_by_source_key(hub: StewardHub, client: TestClient) -> None:
    body = client.get("/api/v1/xref/electoral/E2", headers=auth(hub)).json()
    assert body["person_id"] == hub.person("E2") == hub.person("C2")
    assert client.get("/api/v1/xref/electoral/NOPE", headers=auth(hub)).status_code == 404


def test_search_ranks_the_right_person_first(hub: StewardHub, client: TestClient) -> None:
    r = client.get("/api/v1/search/persons", params={"name": "jane doe", "dob": "1980-05-06", "postcode": "ab12ce"},
                   headers=auth(hub))
    hits = r.json()["hits"]
    assert hits[0]["person_id"] == hub.person("E1") and hits[0]["score"] == 100.0
    # The transposed date of birth still finds the other Jane, lower down.
    assert hits[1]["person_id"] == hub.person("H2") and hits[1]["dob_score"] == 80.0
    assert client.get("/api/v1/search/persons", headers=auth(hub)).status_code == 400
    with Session(hub.engine) as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.object_type == "person_search")).one()
    assert entry.detail["fields"] == ["name", "dob", "postcode"] and "jane" not in str(entry.detail).lower()


def test_residents_and_property_with_coordinates(hub: StewardHub, client: TestClient) -> None:
    res = client.get("/api/v1/properties/100001/residents", headers=auth(hub)).json()
    assert {r["person_id"] for r in res["residents"]} == {hub.person("C1"), hub.person("H1"), hub.person("C2")}
    prop = client.get("/api/v1/properties/100001", headers=auth(hub)).json()
    assert [a["logical_status"] for a in prop["addresses"]] == [1, 8]
    coords = prop["coordinates"]
    assert coords["easting"] == 530047.0 and coords["wgs84_method"] == "OSTN15"
    assert abs(coords["latitude"] - 51.5078) < 0.001 and abs(coords["longitude"] + 0.1275) < 0.001
    assert prop["attributes"]["band"]["value"] == "C" and prop["attributes"]["band"]["source"] == "valuation"
    assert prop["records"] == [{"source": "valuation", "source_key": "V1", "link": "matched", "score": 0.99,
                                "attributes": {"band": "C", "valuation_ref": "V1"}}]
    assert [f["check"] for f in prop["findings"]] == ["two_ctax_accounts"]
    assert client.get("/api/v1/properties/100003", headers=auth(hub)).json()["children"] == [100002]
    assert client.get("/api/v1/properties/42", headers=auth(hub)).status_code == 404


def test_change_feed_pages_with_a_durable_cursor(hub: StewardHub, client: TestClient) -> None:
    seen, cursor = [], 0
    while True:
        page = client.get("/api/v1/changes", params={"after": cursor, "limit": 2}, headers=auth(hub)).json()
        seen += [e["id"] for e in page["events"]]
        assert page["next_cursor"] >= cursor
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    with Session(hub.engine) as s:
        assert seen == list(s.scalars(select(ChangeEvent.id).order_by(ChangeEvent.id)))
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["E1"], hub.records["H2"], steward="x")
    later = client.get("/api/v1/changes", params={"after": cursor}, headers=auth(hub)).json()
    assert [e["event_type"] for e in later["events"]] == ["merge"]


def test_erasure_removes_the_person_and_tells_every_source(hub: StewardHub, client: TestClient) -> None:
    pid = hub.person("C2")
    cached = lambda: list(cache_dir(hub.config).glob("standardised-people-*"))  # noqa: E731
    standardise_with_cache(cache_dir(hub.config), pd.DataFrame({"unique_id": ["1"], "full_name": ["JOHN SMITH"]}))
    assert cached()  # as a linking run leaves its standardised records
    r = client.post(f"/api/v1/persons/{pid}/erasure", json={"reason": "Article 17 request"}, headers=auth(hub, "admin"))
    assert r.status_code == 200 and r.json()["records"] == 2 and r.json()["events"] == 1
    assert not cached()  # ... and forgot them with the person
    assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 410
    assert client.get("/api/v1/xref/ctax/C2", headers=auth(hub)).status_code == 404
    with Session(hub.engine) as s:
        person = s.get(GoldenPerson, pid)
        assert person.status == "erased" and person.first_name is None and person.date_of_birth is None
        recs = s.scalars(select(SourceRecord).where(SourceRecord.source_key.in_(["C2", "E2"]))).all()
        assert all(r.deleted and r.first_name is None and r.raw == {} for r in recs)
        assert {r.quarantine_reason for r in recs} == {gdpr.ERASED_MARKER}  # the tombstone ingest must honour
        event = s.scalars(select(ChangeEvent).where(ChangeEvent.event_type == "erasure")).one()
        assert {d.subscriber for d in s.scalars(select(EventDelivery).where(EventDelivery.event_id == event.id))} == {"ctax", "electoral"}
        assert "SMITH" not in str([e.payload for e in s.scalars(select(ChangeEvent).where(ChangeEvent.person_id == pid))])
    export = client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "admin")).json()
    assert export["source_records"] == [] and export["golden_person"]["first_name"] is None


def test_restriction_hides_from_readers_not_admins(hub: StewardHub, client: TestClient) -> None:
    pid = hub.person("E1")
    r = client.post(f"/api/v1/persons/{pid}/restriction", json={"reason": "accuracy contested"}, headers=auth(hub, "admin"))
    assert r.status_code == 200 and r.json()["restricted"] is True
    assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 403
    assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub, "admin")).status_code == 200
    hits = client.get("/api/v1/search/persons", params={"name": "jane doe"}, headers=auth(hub)).json()["hits"]
    assert pid not in [h["person_id"] for h in hits]
    with Session(hub.engine) as s:
        assert s.scalars(select(ChangeEvent.event_type).where(ChangeEvent.person_id == pid)).all()[-1] == "restriction"


def test_subject_access_export_has_sources_and_history(hub: StewardHub, client: TestClient) -> None:
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["C1"], hub.records["H1"], steward="alice")
    pid = hub.person("C1")
    data = client.get(f"/api/v1/persons/{pid}/export", headers=auth(hub, "admin")).json()
    assert {r["source_key"] for r in data["source_records"]} == {"C1", "H1"}
    assert data["merged_ids"] and data["versions"] and data["residence"] and data["steward_decisions"]


def test_no_personal_data_in_server_logs(hub: StewardHub, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/search/persons", params={"name": "Jane Doe", "postcode": "AB1 2CE"}, headers=auth(hub))
    client.get("/api/v1/xref/ctax/C1", headers=auth(hub))
    # Everything the server side logged (the test client's own request log is not the server's).
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "GET /api/v1/search/persons 200" in text and "GET /api/v1/xref/{source}/{source_key} 200" in text
    for secret in ("Jane", "JANE", "AB1", "C1", hub.tokens["reader"]):
        assert secret not in text


def test_openapi_documents_the_api_not_the_web_app(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/persons/{person_id}" in spec["paths"] and "/api/v1/changes" in spec["paths"]
    assert not [p for p in spec["paths"] if p.startswith("/app")]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_batched_audit_writes_every_read_by_shutdown(hub: StewardHub) -> None:
    app = create_app(hub.config, engine=hub.engine, secret_key="t", audit="batched")
    pid = hub.person("C1")
    with TestClient(app) as client:  # the context runs the lifespan: shutdown flushes the writer
        for _ in range(5):
            assert client.get(f"/api/v1/persons/{pid}", headers=auth(hub)).status_code == 200
    with Session(hub.engine) as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "read", AuditLog.object_type == "person")).all()
    assert len(rows) == 5 and {r.actor for r in rows} == {"test-reader"}


@pytest.mark.postgres
def test_reads_actions_and_erasure_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from tests.api.steward_hub import build_hub_at

    hub = build_hub_at(tmp_path, postgres_url)
    client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="pg"))
    with Session(hub.engine) as s, s.begin():
        st.accept_task(s, hub.config, hub.tasks[("C1", "H1")], steward="alice")
    with Session(hub.engine) as s, s.begin():
        st.reject_pair(s, hub.config, hub.records["C2"], hub.records["E2"], steward="alice")
    assert hub.person("C1") == hub.person("H1") and hub.person("C2") != hub.person("E2")
    body = client.get("/api/v1/xref/housing/H1", headers=auth(hub)).json()
    assert body["person_id"] == hub.person("C1")
    assert client.get("/api/v1/search/persons", params={"name": "robert smith"}, headers=auth(hub)).json()["hits"]
    page = client.get("/api/v1/changes", params={"after": 0, "limit": 1000}, headers=auth(hub)).json()
    assert {"merge", "split", "new_person"} <= {e["event_type"] for e in page["events"]}
    r = client.post(f"/api/v1/persons/{hub.person('E1')}/erasure", json={"reason": "request"}, headers=auth(hub, "admin"))
    assert r.status_code == 200 and r.json()["events"] == 1
    hub.engine.dispose()


def test_unknown_query_parameters_are_refused(hub: StewardHub, client: TestClient) -> None:
    r = client.get("/api/v1/changes", params={"afer": 5}, headers=auth(hub))  # a misspelt cursor must not read from 0
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "afer"]
    only = client.get("/api/v1/changes", params={"event_type": "new_person"}, headers=auth(hub)).json()
    assert only["events"] and {e["event_type"] for e in only["events"]} == {"new_person"}
