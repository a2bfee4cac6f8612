"""The data stewards' web app: server-rendered pages, CSRF-protected forms, every view and action audited."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import webviews as views
from api.deps import audit_read, state
from hub import stewardship as st
from hub.access import Principal, authenticate, principal_by_id
from hub.golden import resolve_person_id
from hub.property_queue import CustodianError, open_address_tasks, resolve_address_task
from schemas import AttributeLineage, AttributeOverride, MatchPair, ReviewTask, SourceRecord, SourceSystem, Xref

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No steward is signed in (handled by redirecting to the sign-in page)."""


class CsrfFailed(PermissionError):
    """A posted form without the session's CSRF token (handled by a 403)."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def _form(request: Request) -> Any:
    """The posted form, after checking its CSRF token (form field or X-CSRF-Token header)."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    expected = request.session.get("csrf") or ""
    if not expected or not secrets.compare_digest(str(sent), expected):
        raise CsrfFailed("CSRF check failed")
    return form


def _steward(request: Request, session: Session) -> Principal:
    token_id = request.session.get("token_id")
    who = principal_by_id(session, int(token_id)) if token_id else None
    if who is None or not who.can("steward"):
        request.session.pop("token_id", None)
        raise LoginRequired()
    return who


def _render(request: Request, name: str, who: Principal | None, **context: Any) -> HTMLResponse:
    flash = request.session.pop("flash", None)
    return templates.TemplateResponse(request, name, {"who": who, "csrf": csrf_token(request), "flash": flash, **context})


def _back(request: Request, url: str, message: str | None = None, kind: str = "success") -> RedirectResponse:
    if message:
        request.session["flash"] = {"kind": kind, "text": message}
    return RedirectResponse(url, status_code=303)


def _session(request: Request) -> Session:
    return Session(state(request).engine, expire_on_commit=False)


@contextmanager
def _tx(session: Session) -> Iterator[None]:
    """Commit the action (the read transaction begun by the sign-in check included), or roll it all back."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/app/queue", status_code=303)


@router.get("/app/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", None, error=None)


@router.post("/app/login")
async def login(request: Request) -> Response:
    try:
        form = await _form(request)
    except CsrfFailed:
        return _render(request, "login.html", None, error="Your session expired. Try again.")
    with _session(request) as session:
        who = authenticate(session, str(form.get("token") or "").strip())
        if who is None or not who.can("steward"):
            return _render(request, "login.html", None, error="Enter a valid steward token")
        request.session["token_id"] = who.token_id
        request.session["csrf"] = secrets.token_urlsafe(24)  # a fresh token after sign-in
        audit_read(session, who, "steward_session", who.token_id, {"event": "sign-in"})
    return _back(request, "/app/queue")


@router.post("/app/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/app/login", status_code=303)


@router.get("/app/queue", response_class=HTMLResponse)
def queue_page(request: Request) -> HTMLResponse:
    q = request.query_params
    filt = views.QueueFilter(sort=q.get("sort") if q.get("sort") in ("score", "age", "source", "id") else "score",
                             order="asc" if q.get("order") == "asc" else "desc", source=q.get("source") or None,
                             min_score=_float(q.get("min_score")), max_score=_float(q.get("max_score")),
                             min_age_days=_int(q.get("min_age")), max_age_days=_int(q.get("max_age")),
                             page=max(_int(q.get("page")) or 1, 1))
    with _session(request) as session:
        who = _steward(request, session)
        rows, total = views.queue(session, filt)
        audit_read(session, who, "review_queue", None, {"tasks": [r["id"] for r in rows]})
        template = "queue_table.html" if request.headers.get("hx-request") else "queue.html"
        return _render(request, template, who, rows=rows, total=total, f=filt, sources=views.sources(session),
                       page_size=views.PAGE)


@router.post("/app/queue/bulk-accept")
async def bulk_accept(request: Request) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        form = await _form(request)
        ids = [i for i in (_int(v) for v in form.getlist("task_id")) if i is not None]
        if not ids:
            return _back(request, "/app/queue", "Select at least one task to accept", "error")
        try:
            with _tx(session):
                results = st.bulk_accept(session, state(request).config, ids, steward=who.name,
                                         reason=str(form.get("reason") or "") or "bulk accept")
        except st.StewardshipError as err:
            return _back(request, "/app/queue", f"Nothing was accepted: {err}", "error")
    return _back(request, "/app/queue", f"Accepted {len(results)} task(s)")


@router.get("/app/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        task = session.get(ReviewTask, task_id)
        if task is None or task.pair_id is None:
            return _render(request, "not_found.html", who, what=f"Review task {task_id}")
        pair = session.get(MatchPair, task.pair_id)
        left, right = views.record_view(session, pair.record_id_l), views.record_view(session, pair.record_id_r)
        persons = {p for p in (left.get("person_id"), right.get("person_id")) if p is not None}
        homes = []
        for side in (left, right):
            home = views.household(session, side.get("uprn"), exclude=persons)
            if home and all(h["uprn"] != home["uprn"] for h in homes):
                homes.append(home)
        nxt = views.next_task(session, skip=task_id)
        audit_read(session, who, "review_task", task_id, {"records": [pair.record_id_l, pair.record_id_r],
                                                          "persons": sorted(persons)})
        return _render(request, "task.html", who, task=task, pair=pair, left=left, right=right,
                       rows=views.differences(left, right), chart=views.waterfall(pair), homes=homes, next_id=nxt)


async def _decide(request: Request, task_id: int, action: str) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        form = await _form(request)
        reason = str(form.get("reason") or "").strip() or None
        act = st.accept_task if action == "accept" else st.reject_task
        try:
            with _tx(session):
                result = act(session, state(request).config, task_id, steward=who.name, reason=reason)
        except st.StewardshipError as err:
            return _back(request, f"/app/tasks/{task_id}", str(err), "error")
        nxt = views.next_task(session)
    verb = "Accepted" if action == "accept" else "Rejected"
    text = f"{verb} task {task_id}: golden person(s) {', '.join(map(str, result.person_ids))}"
    return _back(request, f"/app/tasks/{nxt}" if nxt else "/app/queue", text)


@router.post("/app/tasks/{task_id}/accept")
async def accept(request: Request, task_id: int) -> Response:
    return await _decide(request, task_id, "accept")


@router.post("/app/tasks/{task_id}/reject")
async def reject(request: Request, task_id: int) -> Response:
    return await _decide(request, task_id, "reject")


@router.get("/app/persons/{person_id}", response_class=HTMLResponse)
def person_page(request: Request, person_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        person = resolve_person_id(session, person_id)
        if person is None or person.status == "erased":
            return _render(request, "not_found.html", who, what=f"Golden person {person_id}")
        if person.person_id != person_id:
            return RedirectResponse(f"/app/persons/{person.person_id}", status_code=303)
        recs = session.execute(select(SourceRecord, SourceSystem.name).join(Xref, Xref.source_record_id == SourceRecord.id)
                               .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                               .where(Xref.person_id == person.person_id).order_by(SourceRecord.id)).all()
        lineage = {a.attribute: a for a in session.scalars(select(AttributeLineage).where(AttributeLineage.person_id == person.person_id))}
        overrides = {o.attribute: o for o in session.scalars(select(AttributeOverride).where(AttributeOverride.person_id == person.person_id))}
        home = views.household(session, person.uprn, exclude={person.person_id})
        audit_read(session, who, "person", person.person_id, {"via": "steward_app"})
        return _render(request, "person.html", who, person=person, records=recs, lineage=lineage, overrides=overrides,
                       home=home, attributes=st.OVERRIDABLE)


@router.post("/app/persons/{person_id}/split")
async def split(request: Request, person_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        form = await _form(request)
        groups: dict[str, list[int]] = {}
        for key, value in form.multi_items():
            if key.startswith("group_") and _int(key[6:]) is not None:
                groups.setdefault(str(value), []).append(int(key[6:]))
        try:
            with _tx(session):
                result = st.split_person(session, state(request).config, person_id, list(groups.values()),
                                         steward=who.name, reason=str(form.get("reason") or "").strip() or None)
        except st.StewardshipError as err:
            return _back(request, f"/app/persons/{person_id}", str(err), "error")
    return _back(request, f"/app/persons/{result.person_ids[0]}",
                 f"Split into golden persons {', '.join(map(str, result.person_ids))}")


@router.post("/app/persons/{person_id}/override")
async def override(request: Request, person_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        form = await _form(request)
        value = str(form.get("value") or "")
        try:
            with _tx(session):
                st.override_attribute(session, state(request).config, person_id, str(form.get("attribute") or ""),
                                      value if value.strip() else None, steward=who.name, reason=str(form.get("reason") or ""))
        except st.StewardshipError as err:
            return _back(request, f"/app/persons/{person_id}", str(err), "error")
    return _back(request, f"/app/persons/{person_id}", f"Updated {form.get('attribute')} of golden person {person_id}")


@router.get("/app/addresses", response_class=HTMLResponse)
def addresses_page(request: Request) -> HTMLResponse:
    """The address custodian's queue: property records that matched no UPRN or only a parent building."""
    with _session(request) as session:
        who = _steward(request, session)
        tasks = open_address_tasks(session, limit=200)
        audit_read(session, who, "address_queue", None, {"tasks": [t["task_id"] for t in tasks]})
        return _render(request, "addresses.html", who, tasks=tasks)


@router.get("/app/addresses/{task_id}", response_class=HTMLResponse)
def address_task_page(request: Request, task_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        task = session.get(ReviewTask, task_id)
        if task is None or task.kind != "address":
            return _render(request, "not_found.html", who, what=f"Address task {task_id}")
        audit_read(session, who, "review_task", task_id, {"kind": "address"})
        return _render(request, "address_task.html", who, task=task, detail=task.detail or {})


@router.post("/app/addresses/{task_id}")
async def resolve_address(request: Request, task_id: int) -> Response:
    with _session(request) as session:
        who = _steward(request, session)
        form = await _form(request)
        choice = str(form.get("choice") or "")
        reason = str(form.get("reason") or "").strip() or None
        try:
            with _tx(session):
                if choice == "new":
                    resolve_address_task(session, task_id, steward=who.name, new_property=True, reason=reason)
                else:
                    resolve_address_task(session, task_id, steward=who.name, uprn=_int(form.get("uprn") or choice),
                                         reason=reason)
        except CustodianError as err:
            return _back(request, f"/app/addresses/{task_id}", str(err), "error")
    return _back(request, "/app/addresses", f"Resolved address task {task_id}")


def install_handlers(app: Any) -> None:
    """Send signed-out visitors to the sign-in page; refuse forms that fail the CSRF check."""

    @app.exception_handler(CsrfFailed)
    async def _csrf(_request: Request, _exc: CsrfFailed) -> Response:
        return Response("CSRF check failed", status_code=403)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/app/login"})
        return RedirectResponse("/app/login", status_code=303)
