"""API tokens: hashed bearer secrets with a role (reader, steward, admin)."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, created_at


class ApiToken(Base):
    """One API token. Only the SHA-256 of the secret is stored; the secret is shown once at creation."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)  # who holds it: a person or a system
    role: Mapped[str] = mapped_column(String(16))  # reader | steward | admin
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to recognise a token without its secret
    created_by: Mapped[Optional[str]] = mapped_column(String(128))
    created_at: Mapped[created_at]
    revoked_at: Mapped[Optional[dt.datetime]]
