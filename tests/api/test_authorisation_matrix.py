"""Every route of the app × every kind of caller, from one table: a route added without a rule fails here.

Callers: nobody (no token / no session), a bad token (unknown, revoked, or a forged session cookie), and the
three roles. API routes take bearer tokens (401 without a valid one, 403 below the route's role); the stewards'
app takes a signed session that only stewards and admins can open (anything else is sent to sign in).
Allowed calls to routes that change data send an invalid body or an unknown id, so the check passes
authorisation without changing the hub (422 / 404 / a page, never 401, 403 or the sign-in page).
"""

from __future__ import annotations

import re
from pathlib import Path

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api import create_app
from hub.access import create_token, revoke_token
from tests.api.steward_hub import StewardHub, build_hub

PUBLIC, READER, STEWARD, ADMIN = "public", "reader", "steward", "admin"
API, WEB = "api", "web"
CALLERS = ("nobody", "unknown_token", "revoked_token", "reader", "steward", "admin")

# (method, route template) -> (kind, least role). One line per route; keep in step with the app.
RULES: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/api/v1/persons/{person_id}"): (API, READER),
    ("GET", "/api/v1/xref/{source}/{source_key:path}"): (API, READER),
    ("GET", "/api/v1/search/persons"): (API, READER),
    ("GET", "/api/v1/properties/{uprn}/residents"): (API, READER),
    ("GET", "/api/v1/properties/{uprn}"): (API, READER),
    ("GET", "/api/v1/changes"): (API, READER),
    ("GET", "/api/v1/persons/{person_id}/export"): (API, ADMIN),
    ("POST", "/api/v1/persons/{person_id}/erasure"): (API, ADMIN),
    ("POST", "/api/v1/persons/{person_id}/restriction"): (API, ADMIN),
    ("GET", "/openapi.json"): (API, PUBLIC),
    ("GET", "/docs"): (API, PUBLIC),
    ("GET", "/docs/oauth2-redirect"): (API, PUBLIC),
    ("GET", "/redoc"): (API, PUBLIC),
    ("MOUNT", "/static"): (WEB, PUBLIC),
    ("GET", "/"): (WEB, PUBLIC),
    ("GET", "/app/login"): (WEB, PUBLIC),
    ("POST", "/app/login"): (WEB, PUBLIC),
    ("POST", "/app/logout"): (WEB, PUBLIC),
    ("GET", "/app/queue"): (WEB, STEWARD),
    ("POST", "/app/queue/bulk-accept"): (WEB, STEWARD),
    ("GET", "/app/tasks/{task_id}"): (WEB, STEWARD),
    ("POST", "/app/tasks/{task_id}/accept"): (WEB, STEWARD),
    ("POST", "/app/tasks/{task_id}/reject"): (WEB, STEWARD),
    ("GET", "/app/persons/{person_id}"): (WEB, STEWARD),
    ("POST", "/app/persons/{person_id}/split"): (WEB, STEWARD),
    ("POST", "/app/persons/{person_id}/override"): (WEB, STEWARD),
    ("GET", "/app/addresses"): (WEB, STEWARD),
    ("GET", "/app/addresses/{task_id}"): (WEB, STEWARD),
    ("POST", "/app/addresses/{task_id}"): (WEB, STEWARD),
}
SIGN_OUT = ("POST", "/app/logout")  # public; it ends the session, so it is called last and sends to sign-in
RANK = {PUBLIC: -1, READER: 0, STEWARD: 1, ADMIN: 2}
UNKNOWN_ID = 987_654_321


def app_routes(app: fastapi.FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves, included routers and mounts too."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(contexts(app.routes)) if contexts else list(app.routes)
    out = set()
    for route in routes:
        methods = getattr(route, "methods", None)
        if not methods:
            out.add(("MOUNT", route.path))
        out.update((m, route.path) for m in methods or () if m not in ("HEAD", "OPTIONS"))
    return out


def expected(kind: str, least: str, caller: str) -> str:
    """``allow``, ``401``, ``403`` or ``sign_in`` for one caller on one route."""
    if least == PUBLIC:
        return "allow"
    role_rank = RANK.get(caller)
    if kind == API:
        if role_rank is None:
            return "401"
        return "allow" if role_rank >= RANK[least] else "403"
    return "allow" if role_rank is not None and role_rank >= RANK[least] else "sign_in"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> StewardHub:
    hub = build_hub(tmp_path_factory.mktemp("authz"))
    with Session(hub.engine) as s, s.begin():
        _row, secret = create_token(s, "authz-revoked", "admin", created_by="tests")
        revoke_token(s, "authz-revoked")
    hub.tokens["revoked"] = secret
    return hub


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _client(hub: StewardHub, caller: str) -> tuple[TestClient, dict[str, str], str]:
    """A client for ``caller``: its bearer header for the API, and a web session (signed in when it can be)."""
    client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="authz"), follow_redirects=False)
    secret = {"unknown_token": "mdh_" + "x" * 43, "revoked_token": hub.tokens["revoked"]}.get(caller) \
        or hub.tokens.get(caller)
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    csrf = _csrf(client.get("/app/login").text)
    if caller == "unknown_token":
        client.cookies.set("session", "forged.session.cookie")
    elif secret:
        client.post("/app/login", data={"token": secret, "csrf_token": csrf})  # refused for reader and revoked
        page = client.get("/app/login")
        csrf = _csrf(page.text)
    return client, headers, csrf


def _url(path: str, hub: StewardHub, method: str) -> str:
    task = next(iter(hub.tasks.values()))
    values = {"person_id": hub.person("C1"), "source": "ctax", "source_key": "C1", "uprn": 100001,
              "task_id": hub.address_task if path.startswith("/app/addresses") else task}
    if method == "POST":  # changes nothing: no such task or person
        values.update(task_id=UNKNOWN_ID, person_id=UNKNOWN_ID)
    path = path.replace(":path}", "}")
    return path.replace("{", "{0[").replace("}", "]}").format(values) if "{" in path else path


def _outcome(response) -> str:  # noqa: ANN001 - an httpx response
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code in (302, 303, 307) and response.headers.get("location", "").endswith("/app/login"):
        return "sign_in"
    if response.status_code == 204 and response.headers.get("HX-Redirect") == "/app/login":
        return "sign_in"
    return "allow"


def test_every_route_has_a_rule(tmp_path: Path) -> None:
    hub = build_hub(tmp_path)
    served = app_routes(create_app(hub.config, engine=hub.engine, secret_key="authz"))
    assert served - set(RULES) == set(), "routes without an authorisation rule: add them to RULES"
    assert set(RULES) - served == set(), "rules for routes the app no longer serves"


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_exactly_what_the_table_says(hub: StewardHub, caller: str) -> None:
    client, headers, csrf = _client(hub, caller)
    got, want = {}, {}
    for (method, path), (kind, least) in sorted(RULES.items(), key=lambda rule: (rule[0] == SIGN_OUT, rule[0])):
        if method == "MOUNT":
            response = client.get(f"{path}/mdh.css", headers=headers)
            assert response.status_code in (200, 404)
        elif method == "GET":
            response = client.get(_url(path, hub, method), headers=headers)
        else:
            body = {"csrf_token": csrf} if kind == WEB else None
            if path == "/app/login":
                body["token"] = "mdh_not-a-token"
            response = client.post(_url(path, hub, method), headers=headers, data=body,
                                   **({"json": {"unexpected": True}} if kind == API else {}))
        got[(method, path)] = _outcome(response)
        if (method, path) == SIGN_OUT and got[SIGN_OUT] == "sign_in":
            got[SIGN_OUT] = "allow"
        want[(method, path)] = expected(kind, least, caller)
        if kind == API and response.status_code == 401:
            assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert got == want


def test_web_session_is_no_api_credential(hub: StewardHub) -> None:
    client, _headers, _csrf_token = _client(hub, "admin")
    assert client.get("/app/queue").status_code == 200  # signed in to the app
    assert client.get(f"/api/v1/persons/{hub.person('C1')}").status_code == 401  # but no bearer token
