"""API tokens: creation, revocation and authentication, with roles reader < steward < admin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.access import ApiToken
from schemas.base import utcnow

ROLES = ("reader", "steward", "admin")
TOKEN_PREFIX = "mdh_"


class AccessError(Exception):
    """A token request that cannot be honoured (unknown role, duplicate name, unknown token)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and role (never the secret)."""

    token_id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this principal's role is at least ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_secret(secret: str) -> str:
    """SHA-256 of a token secret. Secrets are 256-bit random, so a fast unsalted hash is enough."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str, *, created_by: str | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is never stored and cannot be shown again."""
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; expected one of {list(ROLES)}")
    if not name or len(name) > 128:
        raise AccessError("a token name must have 1 to 128 characters")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AccessError(f"a token named {name!r} already exists; revoke it or choose another name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role, token_hash=hash_secret(secret), prefix=secret[:10], created_by=created_by)
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, name: str) -> ApiToken:
    """Revoke the token called ``name`` (idempotent for an already revoked token)."""
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise AccessError(f"no token named {name!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first (secrets are not stored, so none is shown)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def authenticate(session: Session, secret: str) -> Principal | None:
    """The principal holding ``secret``, or None when it is unknown or revoked."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.revoked_at)
                          .where(ApiToken.token_hash == hash_secret(secret))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.name, row.role)


def principal_by_id(session: Session, token_id: int) -> Principal | None:
    """The principal of a token id (web sessions keep the id, not the secret), None when revoked."""
    token = session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return None
    return Principal(token.id, token.name, token.role)
