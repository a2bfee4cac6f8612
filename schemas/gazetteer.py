"""The corporate address gazetteer in the hub: streets (USRN), properties (UPRN) and their addresses (LPIs)."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from schemas.base import Base, utcnow


class Street(Base):
    """A street record (BS7666 / AddressBase types 11 and 15)."""

    __tablename__ = "street"

    usrn: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    street_description: Mapped[Optional[str]] = mapped_column(String(255))
    locality: Mapped[Optional[str]] = mapped_column(String(255))
    town: Mapped[Optional[str]] = mapped_column(String(255))
    admin_area: Mapped[Optional[str]] = mapped_column(String(255))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Property(Base):
    """A BLPU: the real-world addressable object, keyed by UPRN."""

    __tablename__ = "property"
    __table_args__ = (Index("ix_property_parent_uprn", "parent_uprn"),)

    uprn: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    parent_uprn: Mapped[Optional[int]] = mapped_column(BigInteger)
    classification: Mapped[Optional[str]] = mapped_column(String(8))
    blpu_state: Mapped[Optional[int]]
    logical_status: Mapped[Optional[int]]
    easting: Mapped[Optional[float]] = mapped_column(Float)
    northing: Mapped[Optional[float]] = mapped_column(Float)
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)
    postcode: Mapped[Optional[str]] = mapped_column(String(8))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Lpi(Base):
    """An address of a property; a property may have approved, alternative, provisional and historical LPIs."""

    __tablename__ = "lpi"
    __table_args__ = (Index("ix_lpi_uprn", "uprn"), Index("ix_lpi_postcode", "postcode"))

    lpi_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    uprn: Mapped[int] = mapped_column(BigInteger, ForeignKey("property.uprn", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), default="lpi")  # lpi | paf
    logical_status: Mapped[Optional[int]]
    organisation: Mapped[Optional[str]] = mapped_column(String(255))
    sao_start_number: Mapped[Optional[int]]
    sao_start_suffix: Mapped[Optional[str]] = mapped_column(String(4))
    sao_end_number: Mapped[Optional[int]]
    sao_end_suffix: Mapped[Optional[str]] = mapped_column(String(4))
    sao_text: Mapped[Optional[str]] = mapped_column(String(255))
    pao_start_number: Mapped[Optional[int]]
    pao_start_suffix: Mapped[Optional[str]] = mapped_column(String(4))
    pao_end_number: Mapped[Optional[int]]
    pao_end_suffix: Mapped[Optional[str]] = mapped_column(String(4))
    pao_text: Mapped[Optional[str]] = mapped_column(String(255))
    usrn: Mapped[Optional[int]] = mapped_column(BigInteger)
    street_description: Mapped[Optional[str]] = mapped_column(String(255))
    locality: Mapped[Optional[str]] = mapped_column(String(255))
    town: Mapped[Optional[str]] = mapped_column(String(255))
    postcode: Mapped[Optional[str]] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(Text)
