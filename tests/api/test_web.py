"""The stewards' web app over HTTP: sign-in, CSRF, queue filters, side-by-side view, actions binding in the hub."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import create_app
from api.webviews import waterfall
from hub.linking import steward_constraints
from schemas import AttributeOverride, AuditLog, MatchPair, ReviewTask
from tests.api.steward_hub import StewardHub, build_hub


@pytest.fixture
def hub(tmp_path: Path) -> StewardHub:
    return build_hub(tmp_path)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(hub: StewardHub, role: str = "steward") -> tuple[TestClient, str]:
    client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="test"), follow_redirects=True)
    page = client.get("/app/login")
    r = client.post("/app/login", data={"token": hub.tokens[role], "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    return client, csrf_of(r.text)


def test_signed_out_visitors_go_to_sign_in_and_readers_are_refused(hub: StewardHub) -> None:
    client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="test"))
    r = client.get("/app/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/app/login"
    page = client.get("/app/login")
    r = client.post("/app/login", data={"token": hub.tokens["reader"], "csrf_token": csrf_of(page.text)})
    assert "Enter a valid steward token" in r.text


def test_queue_sorts_and_filters(hub: StewardHub) -> None:
    client, _ = signed_in(hub)
    page = client.get("/app/queue").text
    ids = [int(x) for x in re.findall(r'data-task-id="(\d+)"', page)]
    assert ids == [hub.tasks[("C1", "H1")], hub.tasks[("E1", "H2")], hub.tasks[("C1", "C2")]]  # by score, highest first
    low_first = client.get("/app/queue", params={"sort": "score", "order": "asc"}).text
    assert [int(x) for x in re.findall(r'data-task-id="(\d+)"', low_first)] == ids[::-1]
    only_electoral = client.get("/app/queue", params={"source": "electoral"}).text
    assert [int(x) for x in re.findall(r'data-task-id="(\d+)"', only_electoral)] == [hub.tasks[("E1", "H2")]]
    narrow = client.get("/app/queue", params={"min_score": "0.85", "max_score": "0.9"}).text
    assert [int(x) for x in re.findall(r'data-task-id="(\d+)"', narrow)] == [hub.tasks[("E1", "H2")]]
    assert 'data-task-id' not in client.get("/app/queue", params={"max_age": "1"}).text  # all tasks are months old
    partial = client.get("/app/queue", headers={"HX-Request": "true"}).text
    assert partial.lstrip().startswith('<div id="queue-table">')


def test_task_page_shows_differences_waterfall_and_household(hub: StewardHub) -> None:
    client, _ = signed_in(hub)
    page = client.get(f"/app/tasks/{hub.tasks[('C1', 'H1')]}").text
    assert 'data-field="first_name" data-state="differs"' in page
    assert 'data-field="last_name" data-state="same"' in page
    assert '<svg class="mdh-waterfall"' in page and "date of birth" in page
    assert 'data-uprn="100001"' in page and 'data-uprn="100002"' not in page
    assert f'href="/app/persons/{hub.person("C2")}">JOHN SMITH</a>' in page  # the son lives there too
    with Session(hub.engine) as s:
        assert s.scalars(select(AuditLog.object_type).where(AuditLog.actor == "test-steward")).all()[-1] == "review_task"


def test_a_possible_move_says_so_on_its_task_page(hub: StewardHub) -> None:
    client, _ = signed_in(hub)
    task = hub.tasks[("C1", "H1")]
    assert 'id="move-evidence"' not in client.get(f"/app/tasks/{task}").text
    with Session(hub.engine) as s, s.begin():
        pair = s.get(MatchPair, s.get(ReviewTask, task).pair_id)
        pair.rule = "move_evidence"
    assert 'id="move-evidence"' in client.get(f"/app/tasks/{task}").text


def test_waterfall_bars_sum_to_the_match_weight(hub: StewardHub) -> None:
    with Session(hub.engine) as s:
        pair = s.scalars(select(MatchPair).limit(1)).one()
        chart = waterfall(pair)
    bars = chart["bars"]
    assert bars[0]["label"] == "prior" and bars[-1]["label"] == "total"
    assert sum(b["value"] for b in bars[:-1]) == pytest.approx(pair.match_weight)
    assert bars[-1]["end"] == pytest.approx(pair.match_weight)


def test_actions_need_a_valid_csrf_token(hub: StewardHub) -> None:
    client, _ = signed_in(hub)
    task = hub.tasks[("C1", "H1")]
    r = client.post(f"/app/tasks/{task}/accept", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert hub.person("C1") != hub.person("H1")


def test_accept_and_reject_round_trip_into_the_hub(hub: StewardHub) -> None:
    client, csrf = signed_in(hub)
    r = client.post(f"/app/tasks/{hub.tasks[('C1', 'H1')]}/accept", data={"csrf_token": csrf, "reason": "same person"})
    assert "Accepted task" in r.text
    assert hub.person("C1") == hub.person("H1")
    client.post(f"/app/tasks/{hub.tasks[('C1', 'C2')]}/reject", data={"csrf_token": csrf, "reason": "father and son"})
    with Session(hub.engine) as s:
        must, cannot = steward_constraints(s)
        statuses = dict(s.execute(select(ReviewTask.id, ReviewTask.status)).all())
        actors = set(s.scalars(select(AuditLog.actor).where(AuditLog.action.like("steward.%"))))
    assert tuple(sorted((str(hub.records["C1"]), str(hub.records["C2"])))) in cannot
    assert statuses[hub.tasks[("C1", "H1")]] == statuses[hub.tasks[("C1", "C2")]] == "resolved"
    assert actors == {"test-steward"}


def test_bulk_accept_split_and_override_from_the_app(hub: StewardHub) -> None:
    client, csrf = signed_in(hub)
    ids = [hub.tasks[("C1", "H1")], hub.tasks[("E1", "H2")]]
    r = client.post("/app/queue/bulk-accept", data={"csrf_token": csrf, "task_id": [str(i) for i in ids]})
    assert "Accepted 2 task(s)" in r.text
    pid = hub.person("E1")
    assert pid == hub.person("H2")
    r = client.post(f"/app/persons/{pid}/split", data={"csrf_token": csrf, f"group_{hub.records['E1']}": "A",
                                                       f"group_{hub.records['H2']}": "B", "reason": "two people"})
    assert "Split into golden persons" in r.text and hub.person("E1") != hub.person("H2")
    pid = hub.person("E1")
    r = client.post(f"/app/persons/{pid}/override", data={"csrf_token": csrf, "attribute": "last_name", "value": "DOE-SMITH",
                                                          "reason": "marriage certificate"})
    assert "Updated last_name" in r.text
    with Session(hub.engine) as s:
        assert s.scalars(select(AttributeOverride.value).where(AttributeOverride.person_id == pid)).one() == "DOE-SMITH"
    r = client.post(f"/app/persons/{pid}/override", data={"csrf_token": csrf, "attribute": "last_name", "value": "X",
                                                          "reason": ""})
    assert "needs a reason" in r.text


def test_address_custodian_queue_resolves_to_a_uprn(hub: StewardHub) -> None:
    from schemas import SourceRecord, StewardDecision
    from schemas.property import PropertyXref

    client, csrf = signed_in(hub)
    listing = client.get("/app/addresses").text
    assert f'data-address-task="{hub.address_task}"' in listing and "THE OLD FORGE" in listing
    page = client.get(f"/app/addresses/{hub.address_task}").text
    assert 'value="100001"' in page and 'value="new"' in page
    r = client.post(f"/app/addresses/{hub.address_task}", data={"csrf_token": csrf, "choice": "100002", "reason": "site visit"})
    assert f"Resolved address task {hub.address_task}" in r.text
    with Session(hub.engine) as s:
        rec = s.scalars(select(SourceRecord).where(SourceRecord.source_key == "V2")).one()
        assert s.get(PropertyXref, rec.id).uprn == 100002 and rec.matched_uprn == 100002
        decision = s.scalars(select(StewardDecision).where(StewardDecision.action == "address")).one()
        assert (decision.steward, decision.uprn) == ("test-steward", 100002)
    again = client.post(f"/app/addresses/{hub.address_task}", data={"csrf_token": csrf, "choice": "new"})
    assert "already resolved" in again.text


def test_pages_carry_security_headers_and_no_inline_script(hub: StewardHub) -> None:
    client, _ = signed_in(hub)
    r = client.get(f"/app/tasks/{hub.tasks[('C1', 'H1')]}")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and "onsubmit=" not in r.text
