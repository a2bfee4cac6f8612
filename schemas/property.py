"""The property master: property cross-references, golden property attributes, DQ findings and the gazetteer seen."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, utcnow


class PropertyXref(Base):
    """Cross-reference: the UPRN a property source record is linked to, and how the link was made."""

    __tablename__ = "property_xref"
    __table_args__ = (Index("ix_property_xref_uprn", "uprn"),)

    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True)
    uprn: Mapped[int] = mapped_column(BigInteger)
    link: Mapped[str] = mapped_column(String(16))  # held | matched | steward
    score: Mapped[Optional[float]] = mapped_column(Float)
    linked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GoldenPropertyAttribute(Base):
    """One attribute of a golden property (per UPRN), chosen by survivorship, with its lineage."""

    __tablename__ = "golden_property_attribute"
    __table_args__ = (UniqueConstraint("uprn", "attribute", name="uq_golden_property_attribute_uprn_attr"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uprn: Mapped[int] = mapped_column(BigInteger)
    attribute: Mapped[str] = mapped_column(String(64))
    value: Mapped[Optional[str]] = mapped_column(Text)
    source_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))
    rule: Mapped[str] = mapped_column(String(16))  # trust | recent | complete | frequent
    chosen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DqFinding(Base):
    """A data-quality finding (e.g. a council tax account at a demolished property), listing the records involved.

    A finding is keyed by check and subject so reruns update it; it closes when the problem is gone.
    """

    __tablename__ = "dq_finding"
    __table_args__ = (
        UniqueConstraint("finding_key", name="uq_dq_finding_finding_key"),
        Index("ix_dq_finding_check_status", "check_name", "status"),
        Index("ix_dq_finding_uprn", "uprn"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    finding_key: Mapped[str] = mapped_column(String(160))  # <check>:<subject>
    check_name: Mapped[str] = mapped_column(String(48))
    uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    records: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    detail: Mapped[Optional[dict[str, Any]]]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[dt.datetime]]
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))


class GazetteerSeen(Base):
    """The state of each UPRN as the hub last saw it, so a gazetteer reload's retirements can be found."""

    __tablename__ = "gazetteer_seen"

    uprn: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    logical_status: Mapped[Optional[int]]
    blpu_state: Mapped[Optional[int]]
    parent_uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    address: Mapped[Optional[str]] = mapped_column(Text)  # approved address, to find a successor at the same address
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
