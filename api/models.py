"""Response and request bodies of the golden-record API (the OpenAPI contract)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the hub stores UTC everywhere, so say so (RFC 3339 needs an offset).
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


class Problem(BaseModel):
    """An error: what went wrong, naming ids, never personal data."""

    detail: str


class SourceLink(BaseModel):
    """One source record cross-referenced to a golden person."""

    source: str
    source_key: str
    link_band: str
    link_score: Optional[float] = None
    uprn: Optional[int] = None


class Lineage(BaseModel):
    """Where a golden attribute's value came from."""

    attribute: str
    source: Optional[str] = None
    source_key: Optional[str] = None
    rule: str
    chosen_at: UtcDatetime


class Person(BaseModel):
    """A golden person: the hub's best version of one resident."""

    person_id: int
    requested_id: int = Field(description="The ID asked for; differs from person_id when it was merged away.")
    redirected: bool
    status: str
    version: int
    title: Optional[str] = None
    first_name: Optional[str] = None
    middle_names: Optional[str] = None
    last_name: Optional[str] = None
    date_of_birth: Optional[str] = None
    date_of_death: Optional[str] = None
    nino: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    uprn: Optional[int] = None
    address: Optional[str] = None
    postcode: Optional[str] = None
    updated_at: UtcDatetime
    as_at: Optional[UtcDatetime] = None
    sources: list[SourceLink] = []
    lineage: list[Lineage] = []


class SearchHit(BaseModel):
    """A ranked search result with the part scores (0–100) that made it."""

    person_id: int
    score: float
    name_score: float
    dob_score: float
    postcode_score: float
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    date_of_birth: Optional[str] = None
    postcode: Optional[str] = None
    uprn: Optional[int] = None


class SearchResult(BaseModel):
    hits: list[SearchHit]
    candidates: int = Field(description="How many golden persons were scored.")


class Resident(BaseModel):
    """A golden person living at a property, and since when."""

    person_id: int
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    date_of_birth: Optional[str] = None
    from_date: Optional[UtcDatetime] = None


class Residents(BaseModel):
    uprn: int
    residents: list[Resident]


class Address(BaseModel):
    """One LPI of a property (logical status 1 approved, 3 alternative, 6 provisional, 8 historical)."""

    lpi_key: str
    logical_status: Optional[int] = None
    address: str
    sao_text: Optional[str] = None
    pao_start_number: Optional[int] = None
    pao_text: Optional[str] = None
    street_description: Optional[str] = None
    town: Optional[str] = None
    postcode: Optional[str] = None
    usrn: Optional[int] = None


class Coordinates(BaseModel):
    easting: Optional[float] = None
    northing: Optional[float] = None
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    wgs84_method: Optional[str] = Field(None, description="stored | OSTN15")


class PropertyRecord(BaseModel):
    """A property-centric source record linked to the UPRN (held, matched or chosen by a steward)."""

    source: str
    source_key: str
    link: str
    score: Optional[float] = None
    attributes: dict[str, Any] = {}


class PropertyAttribute(BaseModel):
    """A golden property attribute (council tax band, rateable value, tenure...) with its lineage."""

    value: Optional[str] = None
    source: Optional[str] = None
    source_key: Optional[str] = None
    rule: str
    chosen_at: Optional[UtcDatetime] = None


class Finding(BaseModel):
    """An open data-quality finding about the property (for example two live council tax accounts)."""

    check: str
    records: list[dict[str, Any]] = []
    first_seen: Optional[UtcDatetime] = None


class PropertyOut(BaseModel):
    """A property (BLPU) with all its addresses, coordinates (BNG and WGS84) and linked property records."""

    uprn: int
    parent_uprn: Optional[int] = None
    classification: Optional[str] = None
    blpu_state: Optional[int] = None
    logical_status: Optional[int] = None
    postcode: Optional[str] = None
    coordinates: Coordinates
    addresses: list[Address]
    children: list[int] = []
    attributes: dict[str, PropertyAttribute] = {}
    records: list[PropertyRecord] = []
    findings: list[Finding] = []


class ChangeOut(BaseModel):
    """One change event from the outbox."""

    id: int
    event_type: str
    person_id: Optional[int] = None
    uprn: Optional[int] = None
    source: Optional[str] = None
    payload: dict[str, Any]
    created_at: UtcDatetime


class ChangePage(BaseModel):
    """A page of the change feed. Pass ``next_cursor`` as ``after`` to continue; it never moves backwards."""

    events: list[ChangeOut]
    next_cursor: int
    has_more: bool


class GdprRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class RestrictionRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    restricted: bool = True


class GdprOutcome(BaseModel):
    person_id: int
    status: str
    restricted: bool
    records: int = Field(description="Source records affected.")
    events: int = Field(description="Change events written for subscribers.")
