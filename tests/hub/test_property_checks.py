"""Property cross-checks: pure checks on inline frames, and the findings' lifecycle in a small hub."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from property_fixtures import add_property, add_record, make_hub, matched
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.property import link_properties, property_view
from hub.property_checks import (
    COMMERCIAL_RESIDENT,
    DEMOLISHED,
    DUPLICATE,
    NON_RESIDENTIAL_TENANCY,
    demolished_accounts,
    duplicate_accounts,
    residents_at_commercial,
    run_property_checks,
    source_roles,
    tenancies_at_non_residential,
)
from schemas import DqMetric, GoldenPerson, Residence, ReviewTask, SourceRecord, Xref
from schemas.property import DqFinding

PROPS = pd.DataFrame({"uprn": [1, 2, 3, 4, 5], "classification": ["RD04", "RD03", "CR01", "CO01", None],
                      "blpu_state": [2, 4, 2, 2, 2], "logical_status": [1, 1, 1, 8, 1]})


def recs(rows: list[tuple[str, str, str, int, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "source_key", "role", "uprn", "live"]).assign(record_id=range(1, len(rows) + 1))


def test_demolished_by_blpu_state_or_historical_status_live_council_tax_only() -> None:
    r = recs([("ctax", "A", "council_tax", 2, True), ("vl", "V", "council_tax_valuation", 4, True),
              ("ctax", "B", "council_tax", 1, True), ("ctax", "C", "council_tax", 4, False),
              ("hs", "H", "housing_stock", 2, True)])
    found = {f.uprn: f for f in demolished_accounts(r, PROPS)}
    assert set(found) == {2, 4}
    assert [x["source_key"] for x in found[2].records] == ["A"]
    assert [x["source_key"] for x in found[4].records] == ["V"]  # the closed account C is not listed
    assert found[2].detail == {"blpu_state": 4, "logical_status": 1} and found[2].check == DEMOLISHED


def test_two_live_accounts_counted_per_source() -> None:
    r = recs([("ctax", "A", "council_tax", 1, True), ("ctax", "B", "council_tax", 1, True),
              ("ctax", "C", "council_tax", 2, True), ("ctax", "D", "council_tax", 2, False),
              ("ctax_old", "A", "council_tax", 2, True), ("vl", "V1", "council_tax_valuation", 3, True),
              ("vl", "V2", "council_tax_valuation", 3, True)])
    found = duplicate_accounts(r)
    assert [(f.uprn, [x["source_key"] for x in f.records]) for f in found] == [(1, ["A", "B"])]
    assert found[0].key == f"{DUPLICATE}:ctax:1"


def test_tenancy_at_non_residential_ignores_unknown_and_dual_use() -> None:
    props = pd.concat([PROPS, pd.DataFrame({"uprn": [6], "classification": ["X"], "blpu_state": [2], "logical_status": [1]})])
    r = recs([("ten", "T1", "housing_tenancy", 3, True), ("hs", "S1", "housing_stock", 4, True),
              ("ten", "T2", "housing_tenancy", 1, True), ("ten", "T3", "housing_tenancy", 5, True),
              ("ten", "T4", "housing_tenancy", 6, True), ("ctax", "C", "council_tax", 3, True)])
    found = {f.uprn: f for f in tenancies_at_non_residential(r, props)}
    assert set(found) == {3, 4} and found[3].detail == {"classification": "CR01"}
    assert found[4].check == NON_RESIDENTIAL_TENANCY


def test_resident_at_commercial_lists_the_persons_records() -> None:
    residences = pd.DataFrame({"person_id": [7, 8, 9], "uprn": [3, 3, 1]})
    person_records = pd.DataFrame({"record_id": [70, 71, 80], "source": ["er", "ctax", "er"], "source_key": ["E7", "C7", "E8"],
                                   "person_id": [7, 7, 8], "uprn": [3, 1, 3]})
    [f] = residents_at_commercial(residences, person_records, PROPS)
    assert f.uprn == 3 and f.check == COMMERCIAL_RESIDENT and f.detail["persons"] == [7, 8]
    assert [(x["source"], x["source_key"]) for x in f.records] == [("er", "E7"), ("er", "E8")]


def test_findings_open_refresh_close_and_reopen(tmp_path: Path) -> None:
    h = make_hub(tmp_path, [("ctax", "person", 3), ("valuation", "property", 3), ("tenancies", "person", 4)])
    e = h.engine
    add_property(e, 10, "1 GONE ROAD", blpu_state=4, logical_status=8)
    add_property(e, 20, "2 HIGH STREET")
    add_property(e, 30, "THE SHOP, 3 HIGH STREET", classification="CR01")
    a = add_record(e, "ctax", "A1", address="1 GONE RD", **matched(10))
    add_record(e, "ctax", "A2", address="2 HIGH ST", **matched(20))
    add_record(e, "ctax", "A3", address="2 HIGH ST", attributes={"end_date": "2021-03-31"}, **matched(20))
    add_record(e, "ctax", "A4", address="2 HIGH ST", **matched(20))
    add_record(e, "valuation", "V1", address="1 GONE RD", **matched(10))
    add_record(e, "valuation", "V2", address="9 ELSEWHERE", **matched(None, band="none"))
    t = add_record(e, "tenancies", "T1", address="3 HIGH ST", **matched(30))
    with Session(e) as s, s.begin():
        s.add(GoldenPerson(person_id=5, status="active"))
        s.flush()
        s.add(Xref(source_record_id=t, person_id=5, uprn=30, link_band="singleton"))
        s.add(Residence(person_id=5, uprn=30))
    roles = {"ctax": "council_tax", "valuation": "council_tax_valuation", "tenancies": "housing_tenancy"}
    today = dt.date(2024, 6, 1)
    with Session(e) as s, s.begin():
        counts = run_property_checks(s, roles, run_id=None, today=today)
    assert counts == {DEMOLISHED: 1, DUPLICATE: 1, COMMERCIAL_RESIDENT: 1, NON_RESIDENTIAL_TENANCY: 1}
    with Session(e) as s:
        by_key = {f.finding_key: f for f in s.scalars(select(DqFinding))}
        assert sorted(x["source_key"] for x in by_key[f"{DEMOLISHED}:10"].records) == ["A1", "V1"]
        assert sorted(x["source_key"] for x in by_key[f"{DUPLICATE}:ctax:20"].records) == ["A2", "A4"]
        assert by_key[f"{COMMERCIAL_RESIDENT}:30"].records == [{"source": "tenancies", "source_key": "T1", "record_id": t,
                                                                "person_id": 5}]
        assert s.scalar(select(DqMetric.value).where(DqMetric.metric == f"findings_{DUPLICATE}")) == 1.0
        first_seen = by_key[f"{DEMOLISHED}:10"].first_seen
    with Session(e) as s, s.begin():  # the account at the demolished house is closed at source
        s.execute(update(SourceRecord).where(SourceRecord.id == a).values(deleted=True))
    with Session(e) as s, s.begin():
        counts = run_property_checks(s, roles, run_id=None, today=today)
    assert counts[DEMOLISHED] == 1  # the valuation list entry is still there
    with Session(e) as s:
        f = s.scalar(select(DqFinding).where(DqFinding.finding_key == f"{DEMOLISHED}:10"))
        assert [x["source_key"] for x in f.records] == ["V1"] and f.first_seen == first_seen and f.status == "open"
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.source_key == "V1").values(deleted=True))
        assert run_property_checks(s, roles, run_id=None, today=today)[DEMOLISHED] == 0
    with Session(e) as s:
        f = s.scalar(select(DqFinding).where(DqFinding.finding_key == f"{DEMOLISHED}:10"))
        assert f.status == "closed" and f.closed_at is not None
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.source_key == "V1").values(deleted=False))
        run_property_checks(s, roles, run_id=None, today=today)
    with Session(e) as s:
        f = s.scalar(select(DqFinding).where(DqFinding.finding_key == f"{DEMOLISHED}:10"))
        assert f.status == "open" and f.closed_at is None
        assert s.query(DqFinding).count() == 4


def test_roles_come_from_configuration(tmp_path: Path) -> None:
    h = make_hub(tmp_path, [("ctax", "person", 3)])
    assert source_roles(h.config) == {}  # no role declared: no role-based check touches the source


@pytest.mark.postgres
def test_property_stage_and_checks_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """JSON details, bulk updates and findings work on the production database too."""
    h = make_hub(tmp_path, [("ctax", "person", 3), ("valuation", "property", 3)], url=postgres_url)
    e = h.engine
    add_property(e, 10, "1 GONE ROAD", blpu_state=4, logical_status=8)
    add_property(e, 20, "2 HIGH STREET")
    add_record(e, "ctax", "A1", address="1 GONE RD", **matched(10))
    add_record(e, "valuation", "V1", address="1 GONE RD", attributes={"band": "C"}, **matched(10))
    add_record(e, "valuation", "V2", address="NOWHERE", attributes={"band": None}, **matched(None, band="none", score=None))
    summary = link_properties(e, h.config, run_id=None)
    assert (summary.linked, summary.queue.opened) == (1, 1)
    with Session(e) as s, s.begin():
        counts = run_property_checks(s, {"ctax": "council_tax", "valuation": "council_tax_valuation"}, run_id=None)
    assert counts[DEMOLISHED] == 1
    with Session(e) as s:
        assert property_view(s, 10)["attributes"]["band"]["value"] == "C"
        task = s.scalar(select(ReviewTask).where(ReviewTask.kind == "address"))
        assert task.detail["postcode"] is None and task.detail["problem"] == "no_match"
    e.dispose()
