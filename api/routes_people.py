"""API routes over golden persons: by ID, by source key, fuzzy search, residents at a UPRN, and GDPR requests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import gdpr
from api.deps import audit_read, get_session, no_unknown_query, require, state
from api.models import (
    GdprOutcome,
    GdprRequest,
    Lineage,
    Person,
    Problem,
    Resident,
    Residents,
    RestrictionRequest,
    SearchHit,
    SearchResult,
    SourceLink,
)
from api.search import candidates, score
from hub.access import Principal
from hub.golden import resolve_person_id
from hub.standardised_cache import cache_dir, forget_everything
from schemas import AttributeLineage, GoldenPerson, GoldenPersonVersion, Residence, SourceRecord, SourceSystem, Xref

MAX_ID = 2**63 - 1
MAX_UPRN = 999_999_999_999
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Malformed request (for example a body that is not JSON)"},
    401: {"model": Problem, "description": "Missing, unknown or revoked token"},
    403: {"model": Problem, "description": "Role too low, or processing of this person is restricted"},
}
NOT_FOUND = {404: {"model": Problem, "description": "Not found"}}
GONE = {410: {"model": Problem, "description": "The person was erased"}}

router = APIRouter(prefix="/api/v1", tags=["people"], responses=ERRORS, dependencies=[Depends(no_unknown_query)])
PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="A golden person ID (old, merged-away IDs are followed).")]


def _visible(person: GoldenPerson | None, requested: int, who: Principal) -> GoldenPerson:
    if person is None:
        raise HTTPException(404, f"golden person {requested} not found")
    if person.status == "erased":
        raise HTTPException(410, f"golden person {requested} was erased")
    if person.restricted and not who.can("admin"):
        raise HTTPException(403, f"processing of golden person {person.person_id} is restricted")
    return person


def _person_out(session: Session, person: GoldenPerson, requested: int, as_at: dt.datetime | None) -> Person:
    attrs: dict[str, Any] = {f: getattr(person, f) for f in (
        "title", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death", "nino", "email",
        "phone", "uprn", "address", "postcode")}
    version, updated = person.version, person.updated_at
    if as_at is not None:
        stamp = as_at if as_at.tzinfo else as_at.replace(tzinfo=dt.timezone.utc)
        row = session.scalars(select(GoldenPersonVersion).where(
            GoldenPersonVersion.person_id == person.person_id, GoldenPersonVersion.valid_from <= stamp)
            .order_by(GoldenPersonVersion.version.desc()).limit(1)).first()
        if row is None:
            raise HTTPException(404, f"golden person {requested} did not exist at that time")
        attrs = {k: row.attributes.get(k) for k in attrs}
        version, updated = row.version, row.valid_from
    links = session.execute(
        select(SourceRecord.id, SourceSystem.name, SourceRecord.source_key, Xref.link_band, Xref.link_score, Xref.uprn)
        .join(SourceRecord, SourceRecord.id == Xref.source_record_id).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(Xref.person_id == person.person_id).order_by(SourceSystem.name, SourceRecord.source_key)).all()
    lineage = [] if as_at else session.execute(
        select(AttributeLineage.attribute, AttributeLineage.source_record_id, AttributeLineage.rule, AttributeLineage.chosen_at)
        .where(AttributeLineage.person_id == person.person_id).order_by(AttributeLineage.attribute)).all()
    # Lineage points at the person's own records, already fetched with the links: no second join.
    keys = {rid: (src, key) for rid, src, key, *_ in links}
    missing = {rid for _, rid, _, _ in lineage if rid is not None and rid not in keys}
    if missing:  # a record that left the person since the value was chosen
        keys.update({rid: (src, key) for rid, src, key in session.execute(
            select(SourceRecord.id, SourceSystem.name, SourceRecord.source_key)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id).where(SourceRecord.id.in_(missing)))})
    return Person(person_id=person.person_id, requested_id=requested, redirected=requested != person.person_id,
                  status=person.status, version=version, updated_at=updated, as_at=as_at, **attrs,
                  sources=[SourceLink(source=s, source_key=k, link_band=b, link_score=sc, uprn=u) for _, s, k, b, sc, u in links],
                  lineage=[Lineage(attribute=a, source=keys.get(rid, (None, None))[0], source_key=keys.get(rid, (None, None))[1],
                                   rule=r, chosen_at=c) for a, rid, r, c in lineage])


@router.get("/persons/{person_id}", response_model=Person, responses={**NOT_FOUND, **GONE},
            summary="Golden person by ID (follows merge redirects)")
def get_person(person_id: PersonId, session: Session = Depends(get_session), who: Principal = Depends(require("reader")),
               as_at: Annotated[Optional[dt.datetime], Query(description="Read the version valid at this time.")] = None) -> Person:
    person = _visible(resolve_person_id(session, person_id), person_id, who)
    out = _person_out(session, person, person_id, as_at)
    audit_read(session, who, "person", person.person_id, {"via": "id", "requested": person_id})
    return out


# `:path`: council keys hold slashes ("T123/1", "12/3456"); without it they could never be read here.
@router.get("/xref/{source}/{source_key:path}", response_model=Person, responses={**NOT_FOUND, **GONE},
            summary="Golden person by source key (the cross-reference)")
def get_by_source_key(source: Annotated[str, Path(max_length=64)], source_key: Annotated[str, Path(max_length=128)],
                      session: Session = Depends(get_session), who: Principal = Depends(require("reader"))) -> Person:
    person_id = session.scalar(
        select(Xref.person_id).join(SourceRecord, SourceRecord.id == Xref.source_record_id)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(SourceSystem.name == source, SourceRecord.source_key == source_key))
    if person_id is None:
        raise HTTPException(404, "no golden person for that source key")
    person = _visible(resolve_person_id(session, person_id), person_id, who)
    out = _person_out(session, person, person.person_id, None)
    audit_read(session, who, "person", person.person_id, {"via": "xref", "source": source})
    return out


@router.get("/search/persons", response_model=SearchResult, responses={400: {"model": Problem, "description": "No search terms"}},
            summary="Fuzzy search by name, date of birth and postcode (ranked)")
def search_persons(session: Session = Depends(get_session), who: Principal = Depends(require("reader")),
                   name: Annotated[Optional[str], Query(max_length=200)] = None,
                   dob: Annotated[Optional[str], Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
                   postcode: Annotated[Optional[str], Query(max_length=10)] = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 10,
                   min_score: Annotated[float, Query(ge=0, le=100)] = 50.0) -> SearchResult:
    name = name.strip() if name and name.strip() else None
    postcode = postcode.strip() if postcode and postcode.strip() else None
    if not (name or dob or postcode):
        raise HTTPException(400, "give at least one of name, dob, postcode")
    found = candidates(session, name=name, dob=dob, postcode=postcode)
    ranked = score(found, name=name, dob=dob, postcode=postcode)
    ranked = ranked[ranked["score"] >= min_score].head(limit)
    hits = [SearchHit(person_id=int(r.person_id), score=round(float(r.score), 2), name_score=float(r.name_score),
                      dob_score=float(r.dob_score), postcode_score=float(r.postcode_score), first_name=r.first_name,
                      last_name=r.last_name, date_of_birth=r.date_of_birth, postcode=r.postcode,
                      uprn=None if r.uprn is None or r.uprn != r.uprn else int(r.uprn))
            for r in ranked.itertuples(index=False)]
    audit_read(session, who, "person_search", None, {"fields": [k for k, v in (("name", name), ("dob", dob),
                                                                               ("postcode", postcode)) if v],
                                                     "results": [h.person_id for h in hits]})
    return SearchResult(hits=hits, candidates=len(found))


@router.get("/properties/{uprn}/residents", response_model=Residents, tags=["property"],
            summary="Current residents at a UPRN")
def residents(uprn: Annotated[int, Path(ge=1, le=MAX_UPRN)], session: Session = Depends(get_session),
              who: Principal = Depends(require("reader"))) -> Residents:
    rows = session.execute(
        select(GoldenPerson.person_id, GoldenPerson.first_name, GoldenPerson.last_name, GoldenPerson.date_of_birth,
               Residence.from_date)
        .join(Residence, Residence.person_id == GoldenPerson.person_id)
        .where(Residence.uprn == uprn, Residence.to_date.is_(None), GoldenPerson.status == "active",
               GoldenPerson.restricted.is_(False)).order_by(GoldenPerson.person_id)).all()
    out = Residents(uprn=uprn, residents=[Resident(person_id=p, first_name=f, last_name=ln, date_of_birth=d, from_date=t)
                                          for p, f, ln, d, t in rows])
    audit_read(session, who, "residents", uprn, {"persons": [r.person_id for r in out.residents]})
    return out


@router.get("/persons/{person_id}/export", tags=["gdpr"], responses={**NOT_FOUND}, response_model=dict[str, Any],
            summary="Subject access export: everything the hub holds about a person, with its sources")
def export_person(person_id: PersonId, session: Session = Depends(get_session),
                  who: Principal = Depends(require("admin"))) -> dict[str, Any]:
    try:
        data = gdpr.subject_access(session, person_id)
    except gdpr.GdprError as err:
        raise HTTPException(404, str(err)) from None
    audit_read(session, who, "person", data["person_id"], {"via": "subject_access_export"})
    return data


@router.post("/persons/{person_id}/erasure", tags=["gdpr"], response_model=GdprOutcome, responses={**NOT_FOUND},
             summary="Erase a person from the golden records and tell every source that holds them")
def erase(person_id: PersonId, body: Annotated[GdprRequest, Body()], request: Request,
          session: Session = Depends(get_session), who: Principal = Depends(require("admin"))) -> GdprOutcome:
    try:
        outcome = gdpr.erase_person(session, person_id, actor=who.name, reason=body.reason)
    except gdpr.GdprError as err:
        raise HTTPException(404, str(err)) from None
    session.commit()
    forget_everything(cache_dir(state(request).config))  # the matcher's cached copy of the erased records
    return GdprOutcome(**outcome)


@router.post("/persons/{person_id}/restriction", tags=["gdpr"], response_model=GdprOutcome, responses={**NOT_FOUND, **GONE},
             summary="Restrict (or lift the restriction of) processing of a person's data")
def restrict(person_id: PersonId, body: Annotated[RestrictionRequest, Body()], session: Session = Depends(get_session),
             who: Principal = Depends(require("admin"))) -> GdprOutcome:
    person = resolve_person_id(session, person_id)
    if person is None:
        raise HTTPException(404, f"golden person {person_id} not found")
    if person.status == "erased":
        raise HTTPException(410, f"golden person {person_id} was erased")
    outcome = gdpr.restrict_person(session, person_id, actor=who.name, reason=body.reason, restricted=body.restricted)
    session.commit()
    return GdprOutcome(**outcome)
