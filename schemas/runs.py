"""Pipeline runs, data-quality metric history and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, created_at


class Run(Base):
    """One pipeline run: what kind, when, how it ended and its summary figures."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # full | incremental
    dagster_run_id: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    started_at: Mapped[created_at]
    finished_at: Mapped[Optional[dt.datetime]]
    config_hash: Mapped[Optional[str]] = mapped_column(String(64))
    model: Mapped[Optional[dict[str, Any]]]  # matching settings and fitted parameters used
    summary: Mapped[Optional[dict[str, Any]]]
    error: Mapped[Optional[str]] = mapped_column(Text)


class DqMetric(Base):
    """One data-quality measurement of one source (or the golden records) in one run."""

    __tablename__ = "dq_metric"
    __table_args__ = (Index("ix_dq_metric_run_source", "run_id", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))
    source: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))  # completeness | validity | uprn_match_rate | ...
    field: Mapped[Optional[str]] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[created_at]


class AuditLog(Base):
    """Who did or read what, when: steward actions, API reads of personal data, admin changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[Optional[str]] = mapped_column(String(128))
    detail: Mapped[Optional[dict[str, Any]]]
    at: Mapped[created_at]


class HubState(Base):
    """Small named facts the hub keeps between runs (e.g. the fingerprint of the last gazetteer loaded)."""

    __tablename__ = "hub_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[created_at]
