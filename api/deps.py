"""Request dependencies: the hub session, bearer-token principals with roles, and the read audit trail."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.access import Principal, authenticate
from api.audit import record
from schemas.config import HubConfig

AUTH_CACHE_SECONDS = 5.0  # a revoked token stops working within this many seconds

bearer = HTTPBearer(auto_error=False, description="An API token from `mdh token create`.")


@dataclass
class ApiState:
    """What the app shares between requests."""

    engine: Engine
    config: HubConfig
    auth_cache: dict[str, tuple[float, Principal | None]] = field(default_factory=dict)


def state(request: Request) -> ApiState:
    return request.app.state.hub


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; handlers commit what they write (audit entries, actions).

    The cheap dependencies here are ``async`` on purpose: FastAPI runs each sync dependency in a worker
    thread, and those hops cost more than the work (a session opens no connection until first used).
    """
    with Session(state(request).engine, expire_on_commit=False) as session:
        yield session


def _lookup(st: ApiState, session: Session, secret: str) -> Principal | None:
    # Runs on the event loop: a cache miss is one indexed lookup (about a millisecond) per token every few seconds.
    now = time.monotonic()
    hit = st.auth_cache.get(secret)
    if hit is not None and now - hit[0] < AUTH_CACHE_SECONDS:
        return hit[1]
    found = authenticate(session, secret)
    if len(st.auth_cache) > 10_000:
        st.auth_cache.clear()
    st.auth_cache[secret] = (now, found)
    return found


async def principal(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer),
              session: Session = Depends(get_session)) -> Principal:
    """The caller behind the bearer token; 401 when missing, unknown or revoked."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    found = _lookup(state(request), session, creds.credentials)
    if found is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = found
    return found


def require(role: str):
    """A dependency that admits principals with at least ``role``."""

    async def check(who: Principal = Depends(principal)) -> Principal:
        if not who.can(role):
            raise HTTPException(403, f"this needs the {role} role")
        return who

    return check


def audit_read(session: Session, who: Principal | str, what: str, object_id: object, detail: dict[str, Any]) -> None:
    """Record a read of personal data (who, what, when); see ``api.audit`` for its modes (spool, sync, batched)."""
    record(session, who.name if isinstance(who, Principal) else who, what, object_id, detail)


async def no_unknown_query(request: Request) -> None:
    """Reject query parameters a route does not declare (a misspelt ``afer=`` must not silently read from 0)."""
    route = request.scope.get("route")
    if route is None or not request.query_params:
        return
    allowed = getattr(route, "_mdh_query_names", None)
    if allowed is None:
        allowed, stack = set(), [route.dependant]
        while stack:
            dep = stack.pop()
            allowed.update(p.alias for p in dep.query_params)
            stack.extend(dep.dependencies)
        route._mdh_query_names = allowed
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([{"loc": ("query", name), "msg": "unknown query parameter",
                                       "type": "extra_forbidden"} for name in unknown])
