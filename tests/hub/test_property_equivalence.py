"""The property stages' SQL shortcuts give what the straightforward pandas versions gave.

``linkage_figures`` counts in SQL and ``find_problems`` lets SQL narrow each check to the records that could show
its problem. The reference implementations below are the earlier versions (every live record loaded and
grouped in pandas; every role-bearing record loaded for the checks); a varied hub must give identical results.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

import pandas as pd
import pytest
from property_fixtures import add_property, add_record, make_hub, matched
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.property import LINKAGE_METRICS, link_properties, linkage_figures, load_attribute_inputs
from hub.property_checks import (
    demolished_accounts,
    duplicate_accounts,
    find_problems,
    is_live,
    residents_at_commercial,
    tenancies_at_non_residential,
)
from schemas import GoldenPerson, Property, Residence, ReviewTask, SourceRecord, SourceSystem, Xref
from schemas.columns import Band

SOURCES = [("ctax", "person", 3), ("ctax2", "person", 2), ("valuation", "property", 3), ("tenancies", "person", 4),
           ("stock", "property", 4), ("electors", "person", 2), ("rates", "property", 2)]
ROLES = {"ctax": "council_tax", "ctax2": "council_tax", "valuation": "council_tax_valuation",
         "tenancies": "housing_tenancy", "stock": "housing_stock", "electors": "electoral_register"}
CLASSES = ["RD04", "rd03", "CR01", "cr02", "CO01", "X", "x1", "PP", "", None, "Ü1", "ZW", "LP01", "c"]
REASONS = ["postcode+street+number agree", "via HISTORICAL address", "number agree; via alternative address",
           "Alternative and historical", None, "", "chosen by a steward", "historic"]
END_DATES = [None, "2020-01-01", "2030-01-01", "05/03/2024", "03/05/2024", "2024-04-01", "not a date", "", 20200101,
             "2024-04-01T00:00:00", "31/12/2099"]
STATUSES = [None, "Closed", " ended ", "live", "ACTIVE", "cancelled", "", 0]
TODAY = dt.date(2024, 4, 1)


def old_linkage_figures(session: Session) -> dict[str, dict[str, float]]:
    """The pandas version ``linkage_figures`` replaced."""
    stmt = (select(SourceSystem.name, SourceRecord.matched_uprn, SourceRecord.address_band, SourceRecord.address_reason,
                   Property.logical_status)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .outerjoin(Property, Property.uprn == SourceRecord.matched_uprn)
            .where(SourceRecord.deleted.is_(False)))
    f = pd.DataFrame(session.execute(stmt).all(), columns=["source", "uprn", "band", "reason", "status"])
    if f.empty:
        return {}
    reason = f["reason"].fillna("").str.lower()
    linked = f["uprn"].notna() & (f["band"] == Band.AUTO)
    historical = linked & (reason.str.contains("historical") | (f["status"] == 8))
    alternative = linked & ~historical & reason.str.contains("alternative")
    f = f.assign(uprn_linked_rate=linked, historical_address_rate=historical, alternative_address_rate=alternative,
                 approved_address_rate=linked & ~historical & ~alternative, unmatched_rate=~linked)
    grouped = f.groupby("source")
    out = grouped[list(LINKAGE_METRICS)].mean().round(4)
    out["records"] = grouped.size()
    return {src: {k: float(v) for k, v in row.items()} for src, row in out.to_dict(orient="index").items()}


def old_find_problems(session: Session, roles: dict[str, str], *, today: dt.date) -> list:
    """The checks over every role-bearing record and every current residence, as before SQL narrowed them."""
    cols = [SourceRecord.id.label("record_id"), SourceSystem.name.label("source"), SourceRecord.source_key,
            SourceRecord.matched_uprn.label("uprn"), SourceRecord.deleted, SourceRecord.attributes]
    recs = pd.DataFrame(session.execute(
        select(*cols).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(SourceSystem.name.in_(sorted(roles)), SourceRecord.matched_uprn.is_not(None),
               SourceRecord.address_band == Band.AUTO)).all(), columns=[c.key for c in cols])
    recs["role"] = recs["source"].map(roles)
    recs["live"] = is_live(recs["deleted"], recs["attributes"], today)
    recs["uprn"] = recs["uprn"].astype("int64")
    recs = recs.drop(columns=["attributes", "deleted"])
    residences = pd.DataFrame(session.execute(
        select(Residence.person_id, Residence.uprn).join(GoldenPerson, GoldenPerson.person_id == Residence.person_id)
        .where(Residence.to_date.is_(None), GoldenPerson.status == "active")).all(), columns=["person_id", "uprn"])
    person_records = pd.DataFrame(session.execute(
        select(SourceRecord.id, SourceSystem.name, SourceRecord.source_key, Xref.person_id, Xref.uprn)
        .join(Xref, Xref.source_record_id == SourceRecord.id).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .join(Residence, (Residence.person_id == Xref.person_id) & (Residence.uprn == Xref.uprn))
        .where(Residence.to_date.is_(None))).all(), columns=["record_id", "source", "source_key", "person_id", "uprn"])
    props = pd.DataFrame(session.execute(select(Property.uprn, Property.classification, Property.blpu_state,
                                                Property.logical_status)).all(),
                         columns=["uprn", "classification", "blpu_state", "logical_status"])
    return [*demolished_accounts(recs, props), *duplicate_accounts(recs), *tenancies_at_non_residential(recs, props),
            *residents_at_commercial(residences, person_records, props)]


def varied_hub(tmp_path: Path, seed: int, url: str = "sqlite:///hub.db"):
    """A hub with every kind of case the checks and figures tell apart, at random."""
    rng = random.Random(seed)
    h = make_hub(tmp_path, SOURCES, url=url)
    e = h.engine
    uprns = list(range(1, 31))
    for u in uprns:
        add_property(e, u, f"{u} TEST STREET", classification=rng.choice(CLASSES), blpu_state=rng.choice([2, 2, 2, 4]),
                     logical_status=rng.choice([1, 1, 1, 8, 6]))
    ids = []
    for i in range(260):
        source = rng.choice(SOURCES)[0]
        uprn = rng.choice(uprns + [None, 999])  # 999: a UPRN the gazetteer does not hold
        band = rng.choice([Band.AUTO, Band.AUTO, Band.AUTO, Band.REVIEW, Band.NONE, None])
        attributes = rng.choice([None, {}, {"end_date": rng.choice(END_DATES), "status": rng.choice(STATUSES),
                                            "band": rng.choice(["A", "B", None, " "])}])
        ids.append(add_record(e, source, f"K{i}", address=f"{i} TEST ST",
                              attributes=attributes, deleted=rng.random() < 0.1,
                              **matched(uprn, band=band, reason=rng.choice(REASONS))))
    with Session(e) as s, s.begin():
        for p in range(1, 41):
            s.add(GoldenPerson(person_id=p, status=rng.choice(["active", "active", "merged"])))
        s.flush()
        for rid in rng.sample(ids, 120):
            s.add(Xref(source_record_id=rid, person_id=rng.randint(1, 40), uprn=rng.choice(uprns), link_band="singleton"))
        for p in range(1, 41):
            for _ in range(rng.randint(0, 2)):
                s.add(Residence(person_id=p, uprn=rng.choice(uprns), to_date=rng.choice([None, None, dt.date(2020, 1, 1)])))
    return h


def _plain(findings: list) -> list[tuple]:
    return [(f.check, f.key, f.uprn, f.records, f.detail) for f in findings]


@pytest.mark.parametrize("seed", range(6))
def test_sql_linkage_figures_equal_the_pandas_ones(tmp_path: Path, seed: int) -> None:
    h = varied_hub(tmp_path, seed)
    with Session(h.engine) as s:
        new, old = linkage_figures(s), old_linkage_figures(s)
    assert new == old and list(new) == list(old)
    assert any(v["historical_address_rate"] for v in new.values()) and any(v["alternative_address_rate"] for v in new.values())
    assert any(v["unmatched_rate"] for v in new.values())


@pytest.mark.parametrize("seed", range(6))
def test_narrowed_checks_find_what_the_full_checks_find(tmp_path: Path, seed: int) -> None:
    h = varied_hub(tmp_path, seed)
    with Session(h.engine) as s:
        new, old = find_problems(s, ROLES, today=TODAY), old_find_problems(s, ROLES, today=TODAY)
    assert _plain(new) == _plain(old)
    assert {f.check for f in new} >= {"account_at_demolished_property", "two_live_council_tax_accounts",
                                      "resident_at_commercial_property"}


def test_narrowed_checks_and_figures_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    h = varied_hub(tmp_path, 1, url=postgres_url)
    with Session(h.engine) as s:
        assert _plain(find_problems(s, ROLES, today=TODAY)) == _plain(old_find_problems(s, ROLES, today=TODAY))
        assert linkage_figures(s) == old_linkage_figures(s)
        frame = load_attribute_inputs(s)
        by_orm = {r.id: r.attributes for r in s.scalars(select(SourceRecord).where(SourceRecord.kind == "property",
                                                                                     SourceRecord.deleted.is_(False)))}
        assert dict(zip(frame["id"], frame["attributes"])) == by_orm
    h.engine.dispose()


def test_queue_reads_and_supersedes_open_tasks_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """Open tasks are read as columns (the asked-about address hash from the JSON detail) and superseded in bulk."""
    h = make_hub(tmp_path, [("rates", "property", 2)], url=postgres_url)
    e = h.engine
    add_property(e, 300, "UNIT 9, TRADING ESTATE, LEEDS", classification="CI01")
    kept = add_record(e, "rates", "R1", address="UNIT 9 TRADING EST", **matched(300, band="review", score=0.9))
    linked = add_record(e, "rates", "R2", address="UNIT 9 ESTATE", **matched(300, band="review", score=0.9))
    moved = add_record(e, "rates", "R3", address="UNIT 9 EST", **matched(None, band="none", score=None))
    assert link_properties(e, h.config, run_id=None).queue.opened == 3
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == linked).values(address_band="auto", address_score=0.995))
        s.execute(update(SourceRecord).where(SourceRecord.id == moved).values(address_hash="another address"))
    summary = link_properties(e, h.config, run_id=None)
    assert (summary.queue.superseded, summary.queue.opened, summary.queue.open) == (2, 1, 2)
    with Session(e) as s:
        status = {(t.source_record_id, t.status) for t in s.scalars(select(ReviewTask))}
    assert status == {(kept, "open"), (linked, "superseded"), (moved, "superseded"), (moved, "open")}
    e.dispose()


def test_property_records_attributes_decoded_as_the_orm_does(tmp_path: Path) -> None:
    h = varied_hub(tmp_path, 2)
    with Session(h.engine) as s:
        frame = load_attribute_inputs(s)
        by_orm = {r.id: r.attributes for r in s.scalars(select(SourceRecord).where(SourceRecord.kind == "property",
                                                                                     SourceRecord.deleted.is_(False)))}
    assert len(frame) == len(by_orm) and dict(zip(frame["id"], frame["attributes"])) == by_orm


def test_sql_prefilters_cover_every_case_insensitive_first_letter() -> None:
    """The SQL narrowing keeps classifications starting c/C (commercial) and drops only r/R/x/X (residential, dual
    use): no other character upper-cases to something starting with C, R or X, so the checks' tests agree."""
    odd = [chr(i) for i in range(sys.maxunicode + 1)
           if not 0xD800 <= i <= 0xDFFF and chr(i).upper()[:1] in ("C", "R", "X") and chr(i) not in "cCrRxX"]
    assert odd == []


def test_sql_reason_match_agrees_with_python_lower() -> None:
    """Reasons are matched by lower() and LIKE in SQL (ASCII case folding in SQLite): the only non-ASCII character
    that lower-cases to a letter of 'historical' or 'alternative' is dotted capital I, whose lower case is "i"
    followed by a combining dot, which no keyword contains; so Python's and SQL's folding find the same words."""
    letters = set("historical") | set("alternative")
    odd = [chr(i) for i in range(128, sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF and set(chr(i).lower()) & letters]
    assert odd == ["\u0130"] and "\u0130".lower() == "i\u0307"
