"""Golden persons, their versions, cross-references, attribute lineage and residence history."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, BigId, created_at, utcnow


class GoldenPerson(Base):
    """The hub's best version of one person. IDs are never reused; a merged-away ID redirects."""

    __tablename__ = "golden_person"
    __table_args__ = (
        # The API's search by name, date of birth and postcode.
        Index("ix_golden_person_name", "last_name", "first_name"),
        Index("ix_golden_person_date_of_birth", "date_of_birth"),
        Index("ix_golden_person_postcode", "postcode"),
        {"sqlite_autoincrement": True},
    )

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | merged | retired | erased
    redirect_to: Mapped[Optional[int]] = mapped_column(ForeignKey("golden_person.person_id"))
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[Optional[str]] = mapped_column(String(32))
    first_name: Mapped[Optional[str]] = mapped_column(String(255))
    middle_names: Mapped[Optional[str]] = mapped_column(String(255))
    last_name: Mapped[Optional[str]] = mapped_column(String(255))
    date_of_birth: Mapped[Optional[str]] = mapped_column(String(10))
    date_of_death: Mapped[Optional[str]] = mapped_column(String(10))
    nino: Mapped[Optional[str]] = mapped_column(String(9))
    email: Mapped[Optional[str]] = mapped_column(String(320))
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    uprn: Mapped[Optional[int]] = mapped_column(BigInteger)  # current residence
    address: Mapped[Optional[str]] = mapped_column(Text)
    postcode: Mapped[Optional[str]] = mapped_column(String(8))
    restricted: Mapped[bool] = mapped_column(default=False)  # GDPR restriction of processing
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GoldenPersonVersion(Base):
    """Every version of a golden person, for "as at" reads and audit."""

    __tablename__ = "golden_person_version"
    __table_args__ = (UniqueConstraint("person_id", "version", name="uq_golden_person_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("golden_person.person_id"))
    version: Mapped[int]
    valid_from: Mapped[dt.datetime]
    valid_to: Mapped[Optional[dt.datetime]]
    attributes: Mapped[dict[str, Any]]
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id"))
    change: Mapped[Optional[str]] = mapped_column(String(64))  # created | updated | merged | split | override


class Xref(Base):
    """Cross-reference: which golden person (and UPRN) each source record belongs to."""

    __tablename__ = "xref"
    __table_args__ = (Index("ix_xref_person_id", "person_id"),)

    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("golden_person.person_id"))
    uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    link_band: Mapped[str] = mapped_column(String(16))  # auto | steward | singleton
    link_score: Mapped[Optional[float]]
    linked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AttributeLineage(Base):
    """Where each golden attribute's current value came from, chosen by which rule."""

    __tablename__ = "attribute_lineage"
    __table_args__ = (UniqueConstraint("person_id", "attribute", name="uq_attribute_lineage_person_attr"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("golden_person.person_id"))
    attribute: Mapped[str] = mapped_column(String(32))
    value: Mapped[Optional[str]] = mapped_column(Text)
    source_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))
    rule: Mapped[str] = mapped_column(String(16))  # trust | recent | complete | frequent | override
    chosen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Residence(Base):
    """A person living at a property over a period: the residence history."""

    __tablename__ = "residence"
    __table_args__ = (Index("ix_residence_person_id", "person_id"), Index("ix_residence_uprn", "uprn"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("golden_person.person_id"))
    uprn: Mapped[int] = mapped_column(BigInteger)
    from_date: Mapped[dt.datetime] = mapped_column(default=utcnow)
    to_date: Mapped[Optional[dt.datetime]]
    source_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("source_record.id"))


class AttributeOverride(Base):
    """A steward's override of a golden attribute: survives new data until removed."""

    __tablename__ = "attribute_override"
    __table_args__ = (UniqueConstraint("person_id", "attribute", name="uq_attribute_override_person_attr"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("golden_person.person_id"))
    attribute: Mapped[str] = mapped_column(String(32))
    value: Mapped[Optional[str]] = mapped_column(Text)
    steward: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
