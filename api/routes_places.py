"""API routes over property (UPRN with its addresses and coordinates) and the change feed."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import audit_read, get_session, no_unknown_query, require
from api.models import (
    Address,
    ChangeOut,
    ChangePage,
    Coordinates,
    Finding,
    Problem,
    PropertyAttribute,
    PropertyOut,
    PropertyRecord,
)
from api.routes_people import ERRORS, MAX_ID, MAX_UPRN
from hub.access import Principal
from schemas import ChangeEvent, Lpi, Property, SourceRecord, SourceSystem
from schemas.property import DqFinding, GoldenPropertyAttribute, PropertyXref

router = APIRouter(prefix="/api/v1", responses=ERRORS, dependencies=[Depends(no_unknown_query)])


def wgs84(easting: float | None, northing: float | None) -> tuple[float | None, float | None]:
    """(latitude, longitude) from British National Grid with OSTN15 (convertbng), None when not possible."""
    if easting is None or northing is None:
        return None, None
    from convertbng.cutil import convert_lonlat

    lons, lats = convert_lonlat(np.array([float(easting)]), np.array([float(northing)]))
    if not np.isfinite(lats[0]) or not np.isfinite(lons[0]):
        return None, None
    return round(float(lats[0]), 7), round(float(lons[0]), 7)


@router.get("/properties/{uprn}", response_model=PropertyOut, tags=["property"],
            responses={404: {"model": Problem, "description": "Unknown UPRN"}},
            summary="Property by UPRN: addresses (LPIs), coordinates (BNG and WGS84), golden attributes, linked records, findings")
def get_property(uprn: Annotated[int, Path(ge=1, le=MAX_UPRN)], session: Session = Depends(get_session),
                 _who: Principal = Depends(require("reader"))) -> PropertyOut:
    prop = session.get(Property, uprn)
    if prop is None:
        raise HTTPException(404, f"UPRN {uprn} is not in the gazetteer")
    if prop.latitude is not None and prop.longitude is not None:
        lat, lon, method = prop.latitude, prop.longitude, "stored"
    else:
        lat, lon = wgs84(prop.easting, prop.northing)
        method = "OSTN15" if lat is not None else None
    lpis = session.scalars(select(Lpi).where(Lpi.uprn == uprn).order_by(Lpi.logical_status, Lpi.lpi_key)).all()
    children = session.scalars(select(Property.uprn).where(Property.parent_uprn == uprn).order_by(Property.uprn)).all()
    records = session.execute(
        select(SourceSystem.name, SourceRecord.source_key, PropertyXref.link, PropertyXref.score, SourceRecord.attributes)
        .join(SourceRecord, SourceRecord.id == PropertyXref.source_record_id)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(PropertyXref.uprn == uprn, SourceRecord.deleted.is_(False))
        .order_by(SourceSystem.name, SourceRecord.source_key)).all()
    attrs = session.execute(
        select(GoldenPropertyAttribute, SourceSystem.name, SourceRecord.source_key)
        .outerjoin(SourceRecord, SourceRecord.id == GoldenPropertyAttribute.source_record_id)
        .outerjoin(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(GoldenPropertyAttribute.uprn == uprn).order_by(GoldenPropertyAttribute.attribute)).all()
    findings = session.scalars(select(DqFinding).where(DqFinding.uprn == uprn, DqFinding.status == "open")
                               .order_by(DqFinding.id)).all()
    return PropertyOut(
        uprn=prop.uprn, parent_uprn=prop.parent_uprn, classification=prop.classification, blpu_state=prop.blpu_state,
        logical_status=prop.logical_status, postcode=prop.postcode, children=list(children),
        coordinates=Coordinates(easting=prop.easting, northing=prop.northing, latitude=lat, longitude=lon, wgs84_method=method),
        addresses=[Address(lpi_key=x.lpi_key, logical_status=x.logical_status, address=x.address, sao_text=x.sao_text,
                           pao_start_number=x.pao_start_number, pao_text=x.pao_text, street_description=x.street_description,
                           town=x.town, postcode=x.postcode, usrn=x.usrn) for x in lpis],
        attributes={a.attribute: PropertyAttribute(value=a.value, source=src, source_key=key, rule=a.rule, chosen_at=a.chosen_at)
                    for a, src, key in attrs},
        records=[PropertyRecord(source=s, source_key=k, link=ln, score=sc, attributes=a or {}) for s, k, ln, sc, a in records],
        findings=[Finding(check=f.check_name, records=f.records or [], first_seen=f.first_seen) for f in findings])


@router.get("/changes", response_model=ChangePage, tags=["changes"],
            summary="Change feed: events after a cursor, oldest first (the cursor is the last event id seen)")
def changes(after: Annotated[int, Query(ge=0, le=MAX_ID, description="Return events with id greater than this.")] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            event_type: Annotated[str | None, Query(max_length=32, description="Only this kind of event.")] = None,
            session: Session = Depends(get_session), who: Principal = Depends(require("reader"))) -> ChangePage:
    stmt = select(ChangeEvent).where(ChangeEvent.id > after)
    if event_type:
        stmt = stmt.where(ChangeEvent.event_type == event_type)
    rows = session.scalars(stmt.order_by(ChangeEvent.id).limit(limit + 1)).all()
    page, has_more = rows[:limit], len(rows) > limit
    events = [ChangeOut(id=e.id, event_type=e.event_type, person_id=e.person_id, uprn=e.uprn, source=e.source,
                        payload=e.payload or {}, created_at=e.created_at) for e in page]
    cursor = events[-1].id if events else after
    audit_read(session, who, "change_feed", None, {"after": after, "next_cursor": cursor, "events": len(events)})
    return ChangePage(events=events, next_cursor=cursor, has_more=has_more)
