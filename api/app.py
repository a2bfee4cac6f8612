"""The FastAPI application factory: golden-record API, stewards' web app, static files and privacy-safe logging."""

from __future__ import annotations

import gc
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, event
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import AUDIT_MODES, start_audit, stop_audit
from api.deps import ApiState
from api.routes_people import router as people_router
from api.routes_places import router as places_router
from api.web import install_handlers, router as web_router
from hub.store import open_hub
from schemas.config import HubConfig

STATIC_DIR = Path(__file__).resolve().parent / "static"
log = logging.getLogger("mdh.api")
# The stewards' pages load nothing from elsewhere, run no inline script and may not be framed.
PAGE_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),  # pages show personal data: keep them out of shared caches
]
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"})

DESCRIPTION = """Golden people and property records of the council's master data hub.

Authenticate with `Authorization: Bearer <token>` (tokens from `mdh token create`). Roles: **reader** reads,
**steward** also decides review tasks, **admin** also answers GDPR requests. Every read of personal data is
recorded in the hub's audit log (who, what, when).
"""


def _sqlite_read_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI hook signature
    """Reads by ID touch a few random pages of a large file: map it and keep more of it in SQLite's cache."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA mmap_size=2147483648")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


class RouteLogMiddleware:
    """Logs method, route template, status and time: never the path's values or the query string (personal data).

    Also adds the stewards' pages' security headers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [0]

        page = scope["path"].startswith("/app")

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                if page:
                    message = {**message, "headers": [*message.get("headers", []), *PAGE_HEADERS]}
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            path = scope["path"]
            # path_format: the template without convertors ("{source_key}", not "{source_key:path}").
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or (
                path if path in PUBLIC_PATHS else "/static/*" if path.startswith("/static/") else "(unmatched)")
            log.info("%s %s %d %.1fms", scope["method"], template, status[0], (time.perf_counter() - start) * 1000)


def create_app(config: HubConfig, *, engine: Engine | None = None, secret_key: str | None = None,
               secure_cookies: bool = False, audit: str = "auto", audit_spool: Path | None = None,
               freeze_gc: bool = False) -> FastAPI:
    """Build the app over the hub in ``config`` (migrated on open).

    Args:
        engine: an already-open hub engine (tests, benchmarks); opened from ``config.hub`` otherwise.
        secret_key: signs the stewards' session cookies; ``MDH_SECRET_KEY`` or a random per-process key.
        secure_cookies: send the session cookie over HTTPS only (set behind TLS).
        audit: how each read's audit row reaches the hub (``api.audit``). ``auto`` (default): ``spool`` for a
            SQLite hub (durable on response, never waits for the hub's write lock), ``sync`` otherwise (committed
            to the hub before the response); ``batched``: a background writer commits every 50 ms (a crash loses
            at most that window).
        audit_spool: the spool file of ``spool`` mode; default ``<hub file>.audit-spool`` beside a SQLite hub.
        freeze_gc: at startup, move every object alive then out of the cyclic GC's reach (``gc.freeze()``). For a
            server process: a full collection over the imported libraries' objects pauses every request for
            100-200 ms every few seconds (the control phase's p99 in benchmarks/reliability/results.md).
    """
    if audit not in AUDIT_MODES:
        raise ValueError(f"audit must be one of {', '.join(AUDIT_MODES)}, not {audit!r}")
    engine = engine or open_hub(config.hub)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas)
        engine.dispose()  # connections opened from now on get the read pragmas
    writer = start_audit(engine, audit, audit_spool)  # a spool first drains what an earlier process left

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if freeze_gc:
            gc.collect()
            gc.freeze()
        yield
        if writer is not None:
            stop_audit(writer)

    app = FastAPI(lifespan=lifespan, title="Council Master Data Hub API", version="1.0", description=DESCRIPTION,
                  openapi_tags=[{"name": "people", "description": "Golden persons"},
                                {"name": "property", "description": "Properties and residents by UPRN"},
                                {"name": "changes", "description": "Pull feed of change events"},
                                {"name": "gdpr", "description": "Subject access, erasure, restriction (admin)"}])
    app.state.hub = ApiState(engine=engine, config=config)
    key = secret_key or os.environ.get("MDH_SECRET_KEY") or secrets.token_urlsafe(32)
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="mdh_session", same_site="strict",
                       https_only=secure_cookies, max_age=8 * 3600)
    app.add_middleware(RouteLogMiddleware)
    app.include_router(people_router)
    app.include_router(places_router)
    app.include_router(web_router)
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def app_from_env() -> FastAPI:
    """Factory for multi-worker uvicorn (``mdh serve --workers N``): the config path comes from ``MDH_CONFIG``,
    the audit mode from ``MDH_AUDIT`` (default ``auto``) and a spool file from ``MDH_AUDIT_SPOOL`` (optional)."""
    from schemas.config import load_config

    spool = os.environ.get("MDH_AUDIT_SPOOL")
    return create_app(load_config(os.environ.get("MDH_CONFIG", "hub.yaml")), audit=os.environ.get("MDH_AUDIT", "auto"),
                      audit_spool=Path(spool) if spool else None, freeze_gc=True)
