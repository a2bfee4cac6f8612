"""UPRNs retired or deleted in a gazetteer reload become change events to every source holding them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from property_fixtures import add_property, add_record, make_hub, matched
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.gazetteer_changes import find_retirements, find_successors, propagate_gazetteer_changes
from schemas import ChangeEvent, EventDelivery, GoldenPerson, HubState, Lpi, Property, Residence


@pytest.fixture
def hub(tmp_path: Path):
    h = make_hub(tmp_path, [("council_tax", "person", 3), ("valuation_list", "property", 3), ("waste", "person", 1)])
    e = h.engine
    add_property(e, 1, "1 MILL LANE, LEEDS")
    add_property(e, 2, "2 MILL LANE, LEEDS")
    add_property(e, 3, "3 MILL LANE, LEEDS")
    add_property(e, 4, "4 MILL LANE, LEEDS", logical_status=8, blpu_state=4)  # already gone before we looked
    add_record(e, "council_tax", "CT1", uprn=1, **matched(1, score=1.0))
    add_record(e, "valuation_list", "VL1", **matched(1))
    add_record(e, "waste", "W1", **matched(1, band="review"))  # not linked: waste does not hold UPRN 1
    add_record(e, "valuation_list", "VL2", **matched(2))
    with Session(e) as s, s.begin():
        s.add(GoldenPerson(person_id=9, status="active"))
        s.flush()
        s.add(Residence(person_id=9, uprn=1))
    return h


def propagate(engine, **kw):
    with Session(engine) as s, s.begin():
        return propagate_gazetteer_changes(s, run_id=None, **kw)


def reload_gazetteer(engine, sha: str) -> None:
    """What hub.reference records when it loads a new gazetteer file."""
    with Session(engine) as s, s.begin():
        state = s.get(HubState, "gazetteer_file")
        if state is None:
            s.add(HubState(key="gazetteer_file", value={"sha256": sha}))
        else:
            state.value = {"sha256": sha}


def test_retired_and_deleted_uprns_tell_their_holders_once(hub) -> None:
    e = hub.engine
    reload_gazetteer(e, "day0")
    first = propagate(e)
    assert first.seeded and first.events == 0
    # Reload: 1 is demolished and two flats are built on its site; 2 is deleted; 3 is unchanged.
    with Session(e) as s, s.begin():
        s.execute(update(Property).where(Property.uprn == 1).values(logical_status=8, blpu_state=4))
        s.execute(delete(Lpi).where(Lpi.uprn == 2))
        s.execute(delete(Property).where(Property.uprn == 2))
    add_property(e, 11, "FLAT 1, 1 MILL LANE, LEEDS", classification="RD06", parent=1)
    add_property(e, 12, "FLAT 2, 1 MILL LANE, LEEDS", classification="RD06", parent=1)
    reload_gazetteer(e, "day1")
    summary = propagate(e)
    assert (summary.retired, summary.deleted, summary.with_successor, summary.events) == (1, 1, 1, 2)
    with Session(e) as s:
        events = {ev.uprn: ev for ev in s.scalars(select(ChangeEvent).where(ChangeEvent.event_type == "uprn_retired"))}
        subs = {(d.event_id, d.subscriber) for d in s.scalars(select(EventDelivery))}
    one, two = events[1], events[2]
    assert one.payload["change"] == "retired" and one.payload["successors"] == [11, 12]
    assert one.payload["records"] == {"council_tax": ["CT1"], "valuation_list": ["VL1"]} and one.payload["persons"] == [9]
    assert one.payload["before"] == {"logical_status": 1, "blpu_state": 2} and one.payload["after"]["logical_status"] == 8
    assert {s for i, s in subs if i == one.id} == {"council_tax", "valuation_list"}
    assert two.payload["change"] == "deleted" and two.payload["after"] is None and two.payload["records"] == {"valuation_list": ["VL2"]}
    # The same file again, or a forced look with nothing new: no duplicate events.
    assert propagate(e).skipped
    again = propagate(e, force=True)
    assert (again.retired, again.deleted, again.events) == (0, 0, 0)


def test_successor_at_same_address_or_explicit() -> None:
    seen = pd.DataFrame({"uprn": [1, 2], "logical_status": [1, 1], "blpu_state": [2, 2], "parent_uprn": [None, None],
                         "address": ["1 Mill Lane,  Leeds", "2 MILL LANE, LEEDS"]})
    current = pd.DataFrame({"uprn": [1, 2, 21, 22], "logical_status": [8, 8, 1, 8], "blpu_state": [4, 4, 2, 2],
                            "parent_uprn": [None] * 4, "address": [None, None, "1 MILL LANE, LEEDS", "2 MILL LANE, LEEDS"]})
    retired = find_retirements(seen, current)
    assert retired["uprn"].tolist() == [1, 2]
    assert find_successors(retired, seen, current) == {1: [21], 2: []}  # 22 is not live
    assert find_successors(retired, seen, current, {2: [99]}) == {1: [21], 2: [99]}


def test_unheld_retirement_writes_no_event(hub) -> None:
    e = hub.engine
    propagate(e)
    with Session(e) as s, s.begin():
        s.execute(update(Property).where(Property.uprn == 3).values(logical_status=8))
    summary = propagate(e, force=True)
    assert summary.retired == 1 and summary.events == 0
