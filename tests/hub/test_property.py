"""Golden properties: xref to UPRNs, attribute survivorship with lineage, linkage figures and the property view."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from property_fixtures import add_property, add_record, make_hub, matched
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.property import (
    PropertyNotFound,
    attribute_frame,
    choose_property_attributes,
    link_properties,
    linkage_figures,
    plan_links,
    property_view,
)
from schemas import DqMetric, ReviewTask, SourceRecord
from schemas.base import utcnow
from schemas.property import GoldenPropertyAttribute, PropertyXref


@pytest.fixture
def hub(tmp_path: Path):
    h = make_hub(tmp_path, [("valuation_list", "property", 3), ("housing_stock", "property", 4),
                            ("business_rates", "property", 2), ("council_tax", "person", 3)])
    add_property(h.engine, 100, "12 HIGH STREET, LEEDS", other_lpis=((8, "12 OLD HIGH STREET, LEEDS"),))
    add_property(h.engine, 200, "ROSE COURT, 3 MILL LANE, LEEDS", classification="PP")
    add_property(h.engine, 201, "FLAT 1, ROSE COURT, 3 MILL LANE, LEEDS", classification="RD06", parent=200)
    add_property(h.engine, 300, "UNIT 9, TRADING ESTATE, LEEDS", classification="CI01")
    return h


def _attrs(engine) -> dict[tuple[int, str], tuple[str, int, str]]:
    with Session(engine) as s:
        return {(a.uprn, a.attribute): (a.value, a.source_record_id, a.rule) for a in s.scalars(select(GoldenPropertyAttribute))}


def test_plan_links_prefers_steward_then_held_then_matched() -> None:
    recs = pd.DataFrame({"id": [1, 2, 3, 4], "held_uprn": [10, None, None, 40], "matched_uprn": [10, 20, 30, None],
                         "address_band": ["auto", "auto", "review", "none"], "address_score": [1.0, 0.995, 0.9, 0.0]})
    links = plan_links(recs, {2: 21})
    assert links[["source_record_id", "uprn", "link"]].values.tolist() == [[1, 10, "held"], [2, 21, "steward"]]


def test_survivorship_by_trust_and_recency_per_uprn() -> None:
    now = pd.Timestamp("2024-06-01", tz="UTC")
    recs = pd.DataFrame({"id": [1, 2, 3], "trust": [3, 4, 3], "last_changed": [now, now - pd.Timedelta(days=9), now],
                         "attributes": [{"band": "C", "tenure": None}, {"band": "D", "tenure": "SECURE"}, {"band": "B"}]})
    links = pd.DataFrame({"source_record_id": [1, 2, 3], "uprn": [100, 100, 200]})
    frame, names = attribute_frame(recs, links)
    assert names == ("band", "tenure")
    trust = choose_property_attributes(frame, names, {}).set_index(["uprn", "attribute"])
    assert trust.loc[(100, "band"), "value"] == "D" and trust.loc[(100, "band"), "source_record_id"] == 2
    assert trust.loc[(100, "tenure"), "value"] == "SECURE" and trust.loc[(200, "band"), "value"] == "B"
    assert (200, "tenure") not in trust.index  # nothing to choose from: no attribute, not an empty one
    recent = choose_property_attributes(frame, names, {"band": "recent"}).set_index(["uprn", "attribute"])
    assert recent.loc[(100, "band"), "value"] == "C" and recent.loc[(100, "band"), "rule"] == "recent"


def test_link_properties_xref_attributes_queue_and_metrics(hub) -> None:
    e = hub.engine
    a = add_record(e, "valuation_list", "VL1", address="12 HIGH ST", attributes={"council_tax_band": "C"}, **matched(100))
    b = add_record(e, "housing_stock", "HS1", address="12 HIGH ST", uprn=100, attributes={"tenure": "SECURE", "council_tax_band": "D"},
                   **matched(100, score=1.0, reason="UPRN held by the source and present in the gazetteer"))
    c = add_record(e, "business_rates", "NDR1", address="SOMEWHERE ELSE", attributes={"rateable_value": 9100},
                   **matched(None, band="none", score=0.0, reason="no candidate"))
    d = add_record(e, "housing_stock", "HS2", address="FLAT 9 ROSE COURT 3 MILL LANE", attributes={"tenure": "SECURE"},
                   **matched(200, band="review", score=0.9, reason="postcode+street+number agree; building only, flat not found"))
    summary = link_properties(e, hub.config, run_id=None)
    assert (summary.records, summary.linked, summary.golden_properties, summary.queue.opened) == (4, 2, 1, 2)
    with Session(e) as s:
        xref = {x.source_record_id: (x.uprn, x.link) for x in s.scalars(select(PropertyXref))}
        assert xref == {a: (100, "matched"), b: (100, "held")}
        tasks = {t.source_record_id: t.detail for t in s.scalars(select(ReviewTask).where(ReviewTask.kind == "address"))}
        assert set(tasks) == {c, d}
        assert tasks[c]["problem"] == "no_match" and tasks[c]["candidates"] == []
        assert tasks[d]["problem"] == "parent_only"
        assert tasks[d]["candidates"][0]["uprn"] == 200 and tasks[d]["candidates"][0]["address"].startswith("ROSE COURT")
        metrics = {(m.source, m.metric): m.value for m in s.scalars(select(DqMetric))}
    attrs = _attrs(e)
    assert attrs[(100, "council_tax_band")] == ("D", b, "trust")  # housing stock is trusted more
    assert attrs[(100, "tenure")] == ("SECURE", b, "trust")
    assert not any(u == 200 for u, _ in attrs)  # a queued record contributes nothing
    assert metrics[("housing_stock", "uprn_linked_rate")] == 0.5 and metrics[("business_rates", "unmatched_rate")] == 1.0
    assert summary.linkage["valuation_list"]["approved_address_rate"] == 1.0


def test_rerun_is_idempotent_and_lineage_keeps_its_time(hub) -> None:
    e = hub.engine
    add_record(e, "valuation_list", "VL1", address="12 HIGH ST", attributes={"council_tax_band": "C"}, **matched(100))
    add_record(e, "business_rates", "NDR1", address="NOWHERE", attributes={}, **matched(None, band="none", score=0.0))
    link_properties(e, hub.config, run_id=None)
    with Session(e) as s:
        first = s.scalar(select(GoldenPropertyAttribute.chosen_at))
    again = link_properties(e, hub.config, run_id=None)
    assert (again.xref_changed, again.attributes_changed, again.queue.opened, again.queue.open) == (0, 0, 0, 1)
    with Session(e) as s:
        assert s.scalar(select(GoldenPropertyAttribute.chosen_at)) == first
        assert s.query(ReviewTask).count() == 1


def test_changed_attribute_and_vanished_record_update_golden(hub) -> None:
    e = hub.engine
    a = add_record(e, "valuation_list", "VL1", address="12 HIGH ST", attributes={"council_tax_band": "C"}, **matched(100))
    link_properties(e, hub.config, run_id=None)
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == a).values(attributes={"council_tax_band": "E"},
                                                                         last_changed=utcnow()))
    assert link_properties(e, hub.config, run_id=None).attributes_changed == 1
    assert _attrs(e)[(100, "council_tax_band")][0] == "E"
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == a).values(deleted=True))
    summary = link_properties(e, hub.config, run_id=None)
    assert summary.xref_changed == 1 and _attrs(e) == {}


def test_queue_task_superseded_when_record_links(hub) -> None:
    e = hub.engine
    c = add_record(e, "business_rates", "NDR1", address="UNIT 9 TRADING EST", attributes={},
                   **matched(300, band="review", score=0.9, reason="street agree; no postcode"))
    assert link_properties(e, hub.config, run_id=None).queue.opened == 1
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == c).values(address_band="auto", address_score=0.995))
    summary = link_properties(e, hub.config, run_id=None)
    assert summary.queue.superseded == 1 and summary.queue.open == 0
    with Session(e) as s:
        assert s.scalar(select(ReviewTask.status)) == "superseded"


def test_linkage_figures_tell_historical_from_approved(hub) -> None:
    e = hub.engine
    add_property(e, 400, "1 GONE ROAD, LEEDS", logical_status=8, blpu_state=4)
    add_record(e, "council_tax", "A", address="12 OLD HIGH ST", **matched(100, reason="postcode agree; via historical address"))
    add_record(e, "council_tax", "B", address="12 HIGH ST", **matched(100))
    add_record(e, "council_tax", "C", address="1 GONE RD", **matched(400))
    add_record(e, "council_tax", "D", address="ALT NAME", **matched(100, reason="number agree; via alternative address"))
    add_record(e, "council_tax", "E", address="??", **matched(None, band="none", score=0.0))
    with Session(e) as s:
        fig = linkage_figures(s)["council_tax"]
    assert fig["records"] == 5 and fig["uprn_linked_rate"] == 0.8 and fig["historical_address_rate"] == 0.4
    assert fig["approved_address_rate"] == 0.2 and fig["alternative_address_rate"] == 0.2 and fig["unmatched_rate"] == 0.2


def test_property_view(hub) -> None:
    e = hub.engine
    add_record(e, "valuation_list", "VL1", address="12 HIGH ST", attributes={"council_tax_band": "C"}, **matched(100))
    link_properties(e, hub.config, run_id=None)
    with Session(e) as s:
        view = property_view(s, 100)
        parent = property_view(s, 200)
        with pytest.raises(PropertyNotFound, match="999"):
            property_view(s, 999)
    assert [a["status"] for a in view["addresses"]] == ["approved", "historical"]
    assert view["attributes"]["council_tax_band"]["value"] == "C"
    assert view["attributes"]["council_tax_band"]["source"] == "valuation_list"
    assert view["records"] == [{"source": "valuation_list", "source_key": "VL1", "link": "matched", "score": 0.995}]
    assert view["coordinates"]["easting"] == 430000.0 and view["classification"] == "RD04"
    assert parent["children"] == [201] and parent["attributes"] == {}


def test_unit_held_at_its_parent_building_goes_to_the_custodian(hub) -> None:
    e = hub.engine
    held = "UPRN held by the source and present in the gazetteer"
    flat = add_record(e, "housing_stock", "HS9", address="FLAT 9, ROSE COURT, 3 MILL LANE", uprn=200, attributes={"tenure": "SECURE"},
                      **matched(200, score=1.0, reason=held))
    block = add_record(e, "business_rates", "NDR9", address="ROSE COURT, 3 MILL LANE", uprn=200, attributes={},
                       **matched(200, score=1.0, reason=held))
    summary = link_properties(e, hub.config, run_id=None)
    assert summary.linked == 1 and summary.queue.opened == 1
    with Session(e) as s:
        assert s.get(PropertyXref, block).uprn == 200 and s.get(PropertyXref, flat) is None
        task = s.scalar(select(ReviewTask).where(ReviewTask.source_record_id == flat))
    assert task.detail["problem"] == "parent_only" and task.detail["candidates"][0]["uprn"] == 200
    assert _attrs(e) == {}  # the flat's tenure is not put on the whole building


def test_task_about_an_old_address_is_replaced_when_the_address_changes(hub) -> None:
    e = hub.engine
    rid = add_record(e, "business_rates", "NDR1", address="UNIT 9 TRADING EST", attributes={},
                     **matched(None, band="none", score=0.0, address_hash="h1"))
    link_properties(e, hub.config, run_id=None)
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == rid).values(address="UNIT 10 TRADING EST", address_hash="h2"))
    summary = link_properties(e, hub.config, run_id=None)
    assert (summary.queue.superseded, summary.queue.opened, summary.queue.open) == (1, 1, 1)
    with Session(e) as s:
        task = s.scalar(select(ReviewTask).where(ReviewTask.status == "open"))
    assert task.detail["address"] == "UNIT 10 TRADING EST" and task.detail["address_hash"] == "h2"
