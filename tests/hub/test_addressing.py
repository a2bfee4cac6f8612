"""Address resolution reads only the records that can have a new address; a full pass reads them all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from property_fixtures import add_property, add_record, make_hub
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.addressing import resolve_addresses
from hub.pass_marks import RECHECK
from hub.matchers import stored_gazetteer_matcher
from schemas import SourceRecord
from schemas.base import utcnow

LONG_AGO = utcnow() - dt.timedelta(days=30)


@pytest.fixture
def hub(tmp_path: Path):
    h = make_hub(tmp_path, [("business_rates", "property", 2)])
    add_property(h.engine, 100, "12 HIGH STREET, LEEDS", postcode="LS1 1AA", pao_start_number=12,
                 street_description="HIGH STREET", town="LEEDS")
    add_property(h.engine, 101, "14 HIGH STREET, LEEDS", postcode="LS1 1AA", pao_start_number=14,
                 street_description="HIGH STREET", town="LEEDS")
    return h


def resolve(hub, *, full: bool = False):
    return resolve_addresses(hub.engine, hub.config, stored_gazetteer_matcher(hub.engine, hub.config), full=full)


def state(engine, record_id: int) -> tuple[int | None, str | None]:
    with Session(engine) as s:
        return tuple(s.execute(select(SourceRecord.matched_uprn, SourceRecord.address_hash)
                                     .where(SourceRecord.id == record_id)).one())


def change_at_source(engine, record_id: int, when: dt.datetime, **fields) -> None:
    """What ingest does when a source row changes: new values, stamped with the time of the change."""
    with Session(engine) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == record_id).values(last_changed=when, **fields))


def test_incremental_pass_reads_new_and_changed_records_only(hub) -> None:
    e = hub.engine
    still = add_record(e, "business_rates", "NDR1", address="12 High St Leeds", postcode="LS1 1AA",
                       last_changed=LONG_AGO - 2 * RECHECK)
    moving = add_record(e, "business_rates", "NDR2", address="12 High St Leeds", postcode="LS1 1AA", last_changed=LONG_AGO)
    assert resolve(hub).considered == 2  # the first pass knows no earlier one: every live record
    assert state(e, still)[0] == 100 and state(e, moving)[0] == 100

    # a stale fingerprint on a record nobody changed: only a full pass would look at it again
    with Session(e) as s, s.begin():
        s.execute(update(SourceRecord).where(SourceRecord.id == still).values(address_hash="stale"))
    assert resolve(hub).considered == 0

    change_at_source(e, moving, utcnow(), address="14 High Street Leeds")
    late = add_record(e, "business_rates", "NDR3", address="14 High St Leeds", postcode="LS1 1AA", last_changed=LONG_AGO)
    summary = resolve(hub)
    assert summary.considered == 2  # the changed record and the one never resolved, however old its stamp
    assert state(e, moving)[0] == 101 and state(e, late)[0] == 101
    assert state(e, still)[1] == "stale"

    assert resolve(hub, full=True).considered == 3
    assert state(e, still)[0] == 100 and state(e, still)[1] != "stale"


def test_a_change_stamped_a_little_before_the_last_pass_started_is_still_read(hub) -> None:
    """A clock that stepped back less than ``RECHECK`` between a pass and the next ingest loses nothing."""
    e = hub.engine
    first = add_record(e, "business_rates", "NDR1", address="12 High St Leeds", postcode="LS1 1AA")
    other = add_record(e, "business_rates", "NDR2", address="12 High St Leeds", postcode="LS1 1AA", last_changed=LONG_AGO)
    resolve(hub)
    with Session(e) as s:
        newest = s.scalar(select(SourceRecord.last_changed).where(SourceRecord.id == first))
    change_at_source(e, other, newest - RECHECK / 2, address="14 High Street Leeds")
    assert resolve(hub).considered == 1
    assert state(e, other)[0] == 101
