"""Scored candidate pairs, review tasks for stewards and the stewards' durable decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, created_at


class MatchPair(Base):
    """A scored pair of source records, with the per-comparison explanation."""

    __tablename__ = "match_pair"
    __table_args__ = (
        UniqueConstraint("record_id_l", "record_id_r", name="uq_match_pair_records"),
        Index("ix_match_pair_record_id_r", "record_id_r"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id_l: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    record_id_r: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    match_weight: Mapped[float] = mapped_column(Float)
    match_probability: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(8))
    rule: Mapped[Optional[str]] = mapped_column(String(64))
    explanation: Mapped[Optional[dict[str, Any]]]
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))  # the run that last changed its verdict
    scored_at: Mapped[created_at]


class ReviewTask(Base):
    """Something a steward must decide: a person pair in the grey zone, or an unmatched address."""

    __tablename__ = "review_task"
    __table_args__ = (Index("ix_review_task_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # person_pair | address
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved | superseded
    pair_id: Mapped[Optional[int]] = mapped_column(ForeignKey("match_pair.id"))
    source_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))
    score: Mapped[Optional[float]] = mapped_column(Float)
    detail: Mapped[Optional[dict[str, Any]]]
    created_at: Mapped[created_at]
    resolved_at: Mapped[Optional[dt.datetime]]
    decision_id: Mapped[Optional[int]] = mapped_column(ForeignKey("steward_decision.id"))


class StewardDecision(Base):
    """A steward's decision; binds every later run (accept = must-link, reject = cannot-link)."""

    __tablename__ = "steward_decision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))  # accept | reject | split | override | address
    record_id_l: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))
    record_id_r: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))
    person_id: Mapped[Optional[int]] = mapped_column(ForeignKey("golden_person.person_id"))
    uprn: Mapped[Optional[int]]
    attribute: Mapped[Optional[str]] = mapped_column(String(32))
    steward: Mapped[str] = mapped_column(String(128))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    before: Mapped[Optional[dict[str, Any]]]
    after: Mapped[Optional[dict[str, Any]]]
    decided_at: Mapped[created_at]
    active: Mapped[bool] = mapped_column(default=True)  # a later decision may supersede this one
