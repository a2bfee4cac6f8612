"""A nightly golden-property pass chooses attributes only where records changed, and leaves the hub as a full pass would."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path

import pytest
from property_fixtures import Hub, add_property, add_record, make_hub, matched
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import hub.property
from hub.property import link_properties
from hub.store import open_hub
from schemas import SourceRecord, SourceSystem
from schemas.base import utcnow
from schemas.columns import Band
from schemas.property import GoldenPropertyAttribute, PropertyXref

SOURCES = [("valuation", "property", 3), ("stock", "property", 4), ("rates", "property", 2)]
UPRNS = list(range(1, 41))
LONG_AGO = utcnow() - dt.timedelta(days=400)


def _attributes(rng: random.Random) -> dict | None:
    return rng.choice([None, {}, {"band": rng.choice("ABCD"), "tenure": rng.choice(["owner", "rented", None, " "]),
                                  "rateable_value": rng.choice([1200, 1500.0, "900", None])}])


def varied_hub(tmp_path: Path, seed: int, url: str = "sqlite:///hub.db"):
    rng = random.Random(seed)
    h = make_hub(tmp_path, SOURCES, url=url)
    for u in UPRNS:
        add_property(h.engine, u, f"{u} TEST STREET")
    for i in range(200):
        band = rng.choice([Band.AUTO, Band.AUTO, Band.AUTO, Band.REVIEW, Band.NONE])
        add_record(h.engine, rng.choice(SOURCES)[0], f"K{i}", address=f"{i} TEST ST", attributes=_attributes(rng),
                   uprn=rng.choice([None, None, None, rng.choice(UPRNS)]),
                   last_changed=LONG_AGO - dt.timedelta(days=rng.randint(0, 100)),
                   **matched(rng.choice(UPRNS), band=band))
    return h


def change_some(h, rng: random.Random, night: int) -> None:
    """A night's changes, written as ingest, address resolution and stewards write them."""
    now = utcnow()
    with Session(h.engine) as s, s.begin():
        ids = list(s.scalars(select(SourceRecord.id).where(SourceRecord.deleted.is_(False))))
        for rid in rng.sample(ids, 4):  # changed at the source: ingest stamps the change
            s.execute(update(SourceRecord).where(SourceRecord.id == rid).values(attributes=_attributes(rng), last_changed=now))
        for rid in rng.sample(ids, 2):  # a new address matched: stamped by ingest, resolved by address resolution
            s.execute(update(SourceRecord).where(SourceRecord.id == rid)
                      .values(last_changed=now, **matched(rng.choice(UPRNS), band=rng.choice([Band.AUTO, Band.REVIEW]))))
        for rid in rng.sample(ids, 2):  # a steward chose a UPRN: no change at the source, so no stamp
            s.execute(update(SourceRecord).where(SourceRecord.id == rid)
                      .values(matched_uprn=rng.choice(UPRNS), address_band=Band.AUTO, address_score=1.0))
        for rid in rng.sample(ids, 2):  # deleted at the source
            s.execute(update(SourceRecord).where(SourceRecord.id == rid).values(deleted=True, last_changed=now))
    for i in range(2):
        add_record(h.engine, rng.choice(SOURCES)[0], f"NEW{night}.{i}", address=f"{i} NEW ST",
                   attributes=_attributes(rng), last_changed=now, **matched(rng.choice(UPRNS)))


def golden_state(engine) -> tuple[list[tuple], list[tuple]]:
    with Session(engine) as s:
        xref = s.execute(select(PropertyXref.source_record_id, PropertyXref.uprn, PropertyXref.link, PropertyXref.score,
                                PropertyXref.linked_at).order_by(PropertyXref.source_record_id)).all()
        attrs = s.execute(select(GoldenPropertyAttribute.uprn, GoldenPropertyAttribute.attribute,
                                 GoldenPropertyAttribute.value, GoldenPropertyAttribute.source_record_id,
                                 GoldenPropertyAttribute.rule, GoldenPropertyAttribute.chosen_at)
                          .order_by(GoldenPropertyAttribute.uprn, GoldenPropertyAttribute.attribute)).all()
    return [tuple(r) for r in xref], [tuple(r) for r in attrs]


def twin(h, tmp_path: Path, name: str):
    """A copy of the SQLite hub (through SQLite's backup, so nothing still in its journal is left out), opened as its own hub."""
    copy = tmp_path / f"{name}.db"
    with sqlite3.connect(tmp_path / "hub.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return Hub(open_hub(f"sqlite:///{copy}"), h.config)


@pytest.mark.parametrize("seed", range(6))
def test_nightly_pass_equals_a_full_pass(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if seed % 2:  # read whole tables and filter, as a pass does when many records changed
        monkeypatch.setattr(hub.property, "MANY", 1)
    rng = random.Random(100 + seed)
    h = varied_hub(tmp_path, seed)
    first = link_properties(h.engine, h.config, run_id=None)
    assert first.uprns_chosen == first.golden_properties  # the first pass knows no earlier one
    for night in range(2):
        change_some(h, rng, night)
        full = twin(h, tmp_path, f"full{night}")
        now = utcnow()
        nightly = link_properties(h.engine, h.config, run_id=None, now=now)
        rebuilt = link_properties(full.engine, full.config, run_id=None, now=now, full=True)
        assert golden_state(h.engine) == golden_state(full.engine)
        assert 0 < nightly.uprns_chosen < rebuilt.uprns_chosen == rebuilt.golden_properties
        assert (nightly.xref_changed, nightly.linked, nightly.queue) == (rebuilt.xref_changed, rebuilt.linked, rebuilt.queue)
        full.engine.dispose()


def test_a_night_without_changes_chooses_nothing_again(tmp_path: Path) -> None:
    h = varied_hub(tmp_path, 7)
    link_properties(h.engine, h.config, run_id=None)
    quiet = link_properties(h.engine, h.config, run_id=None)
    assert (quiet.uprns_chosen, quiet.attributes_changed, quiet.xref_changed) == (0, 0, 0)


def test_new_trust_or_rules_choose_every_uprn_again(tmp_path: Path) -> None:
    h = varied_hub(tmp_path, 8)
    link_properties(h.engine, h.config, run_id=None)
    with Session(h.engine) as s, s.begin():
        s.execute(update(SourceSystem).where(SourceSystem.name == "rates").values(trust=9))
    retrusted = link_properties(h.engine, h.config, run_id=None)
    assert retrusted.uprns_chosen == retrusted.golden_properties and retrusted.attributes_changed > 0
    assert link_properties(h.engine, h.config, run_id=None).uprns_chosen == 0
    by_recency = h.config.model_copy(update={"property_survivorship": {"band": "recent"}})
    assert link_properties(h.engine, by_recency, run_id=None).uprns_chosen == retrusted.golden_properties


def test_nightly_pass_on_postgresql_reads_what_changed(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL hands back zoned times and compares them as such: the pass finds exactly the changed record's UPRN."""
    h = varied_hub(tmp_path, 9, url=postgres_url)
    link_properties(h.engine, h.config, run_id=None)
    assert link_properties(h.engine, h.config, run_id=None).uprns_chosen == 0
    with Session(h.engine) as s, s.begin():
        rid, uprn = s.execute(select(PropertyXref.source_record_id, PropertyXref.uprn).order_by(PropertyXref.uprn)).first()
        s.execute(update(SourceRecord).where(SourceRecord.id == rid)
                  .values(attributes={"band": "H", "tenure": "owner"}, last_changed=utcnow()))
    nightly = link_properties(h.engine, h.config, run_id=None)
    assert nightly.uprns_chosen == 1 and nightly.attributes_changed >= 1
    with Session(h.engine) as s:
        assert s.scalar(select(GoldenPropertyAttribute.value).where(GoldenPropertyAttribute.uprn == uprn,
                                                                    GoldenPropertyAttribute.attribute == "band")) == "H"
    h.engine.dispose()
