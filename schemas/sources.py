"""Source systems, their extracted records, quarantined rows and extract watermarks."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schemas.base import Base, created_at, int_pk, utcnow


# quarantine_reason of a source record erased under GDPR: later extracts of the same key are not loaded again.
ERASED_MARKER = "erased: GDPR erasure"


class SourceSystem(Base):
    """A departmental system the hub reads from (and may publish back to)."""

    __tablename__ = "source_system"

    id: Mapped[int_pk]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | property
    trust: Mapped[int] = mapped_column(default=1)
    watermark: Mapped[Optional[str]] = mapped_column(String(64))  # last updated_at value extracted
    last_extract_at: Mapped[Optional[dt.datetime]]
    created_at: Mapped[created_at]

    records: Mapped[list[SourceRecord]] = relationship(back_populates="source_system")


class SourceRecord(Base):
    """One row of a source system, in canonical fields, with its raw payload and history markers."""

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("source_id", "source_key", name="uq_source_record_source_key"),
        Index("ix_source_record_matched_uprn", "matched_uprn"),
        Index("ix_source_record_postcode", "postcode"),
        Index("ix_source_record_live_seen", "source_id", "deleted", "last_seen"),  # a source's live and loaded rows
    )

    id: Mapped[int_pk]
    source_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    source_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="person")
    # Canonical person fields (strings as validated at the boundary; dates ISO yyyy-mm-dd).
    title: Mapped[Optional[str]] = mapped_column(String(32))
    first_name: Mapped[Optional[str]] = mapped_column(String(255))
    middle_names: Mapped[Optional[str]] = mapped_column(String(255))
    last_name: Mapped[Optional[str]] = mapped_column(String(255))
    full_name: Mapped[Optional[str]] = mapped_column(String(512))
    date_of_birth: Mapped[Optional[str]] = mapped_column(String(10))
    date_of_death: Mapped[Optional[str]] = mapped_column(String(10))
    nino: Mapped[Optional[str]] = mapped_column(String(9))
    email: Mapped[Optional[str]] = mapped_column(String(320))
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    uprn: Mapped[Optional[int]] = mapped_column(BigInteger)  # a UPRN the source itself holds
    address: Mapped[Optional[str]] = mapped_column(Text)  # single line, from free text or joined parts
    postcode: Mapped[Optional[str]] = mapped_column(String(8))
    attributes: Mapped[Optional[dict[str, Any]]]  # property sources: band, rateable value, tenure...
    raw: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    source_updated_at: Mapped[Optional[str]] = mapped_column(String(64))
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_changed: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a later extract of this key failed validation: the last good version stays in place.
    quarantine_reason: Mapped[Optional[str]] = mapped_column(Text)
    # Address resolution against the gazetteer.
    matched_uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    address_score: Mapped[Optional[float]] = mapped_column(Float)
    address_band: Mapped[Optional[str]] = mapped_column(String(8))
    address_reason: Mapped[Optional[str]] = mapped_column(Text)
    address_hash: Mapped[Optional[str]] = mapped_column(String(64))  # content the match was made on
    linked_hash: Mapped[Optional[str]] = mapped_column(String(64))  # content the person link was made on

    source_system: Mapped[SourceSystem] = relationship(back_populates="records")

    @property
    def unique_id(self) -> str:
        """Hub-wide record key used by matching: ``<source>:<source_key>``."""
        return f"{self.source_system.name}:{self.source_key}"


class QuarantinedRow(Base):
    """An extracted row that failed validation: nothing is lost, the reason names the field."""

    __tablename__ = "quarantined_row"

    id: Mapped[int_pk]
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    source_key: Mapped[Optional[str]] = mapped_column(String(128))
    row_number: Mapped[Optional[int]]
    field: Mapped[Optional[str]] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]]
    created_at: Mapped[created_at]


class ExtractBatch(Base):
    """Per-source reconciliation of one extract: extracted = loaded + quarantined."""

    __tablename__ = "extract_batch"

    id: Mapped[int_pk]
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    mode: Mapped[str] = mapped_column(String(16))  # watermark | full | files
    extracted: Mapped[int] = mapped_column(default=0)
    loaded: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    error: Mapped[Optional[str]] = mapped_column(Text)
    started_at: Mapped[created_at]
    finished_at: Mapped[Optional[dt.datetime]]
    files: Mapped[Optional[str]] = mapped_column(Text)  # CSV drops consumed, newline-separated
