"""Golden persons in the store: stable IDs across runs, merges and splits, versions, lineage and events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.golden import apply_clusters, resolve_person_id
from hub.store import open_hub
from schemas import (
    AttributeLineage,
    ChangeEvent,
    EventDelivery,
    GoldenPerson,
    GoldenPersonVersion,
    Residence,
    SourceRecord,
    SourceSystem,
    Xref,
)
from schemas.base import utcnow
from schemas.config import parse_config


@pytest.fixture
def hub(tmp_path: Path):
    config = parse_config({
        "hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"},
        "sources": [{"name": "ctax", "url": "c.csv", "key": "k", "trust": 3, "fields": {"full_name": "n"}},
                    {"name": "housing", "url": "h.csv", "key": "k", "trust": 1, "fields": {"full_name": "n"}}],
    }, base_dir=tmp_path)
    engine = open_hub(config.hub)
    with Session(engine) as s, s.begin():
        s.add_all([SourceSystem(name="ctax", trust=3), SourceSystem(name="housing", trust=1)])
    return engine, config


def add_record(engine, source: str, key: str, **fields) -> int:
    with Session(engine) as s, s.begin():
        sid = s.scalar(select(SourceSystem.id).where(SourceSystem.name == source))
        rec = SourceRecord(source_id=sid, source_key=key, raw={}, content_hash=key, **fields)
        s.add(rec)
        s.flush()
        return rec.id


def apply(engine, config, clusters: list[tuple[int, str]], run_id=None):
    with Session(engine) as s, s.begin():
        return apply_clusters(s, config, pd.DataFrame(clusters, columns=["record_id", "cluster_id"]), run_id=run_id)


def person_of(engine, record_id: int) -> int:
    with Session(engine) as s:
        return s.scalar(select(Xref.person_id).where(Xref.source_record_id == record_id))


def events(engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(e.event_type, e.idempotency_key) for e in s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))]


def test_new_person_survivorship_lineage_and_event(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", first_name="ROBERT", last_name="SMITH", uprn=100, address="1 HIGH ST")
    b = add_record(engine, "housing", "B", first_name="BOB", last_name="SMITH", date_of_birth="1970-01-02")
    summary = apply(engine, config, [(a, "c1"), (b, "c1")])
    assert summary.created == 1 and summary.events == 1
    pid = person_of(engine, a)
    assert pid == person_of(engine, b)
    with Session(engine) as s:
        gp = s.get(GoldenPerson, pid)
        assert (gp.first_name, gp.date_of_birth, gp.uprn, gp.version) == ("ROBERT", "1970-01-02", 100, 1)
        lineage = {l.attribute: l.source_record_id for l in s.scalars(select(AttributeLineage))}
        assert lineage["first_name"] == a and lineage["date_of_birth"] == b
        subs = set(s.scalars(select(EventDelivery.subscriber)))
        assert subs == {"ctax", "housing"}
        assert s.scalar(select(Residence.uprn).where(Residence.person_id == pid)) == 100


def test_rerun_is_idempotent_no_churn_no_duplicate_events(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="SMITH")
    apply(engine, config, [(a, "x")])
    first = person_of(engine, a)
    again = apply(engine, config, [(a, "renamed-cluster")])
    assert person_of(engine, a) == first
    assert again.unchanged == 1 and again.events == 0
    assert len(events(engine)) == 1


def test_merge_redirects_and_split_gets_new_id(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="SMITH", first_name="ANN")
    b = add_record(engine, "housing", "B", last_name="SMITH", first_name="ANNE")
    apply(engine, config, [(a, "1"), (b, "2")])
    pa, pb = person_of(engine, a), person_of(engine, b)
    assert pa != pb
    merged = apply(engine, config, [(a, "m"), (b, "m")])
    assert merged.merged == 1
    assert person_of(engine, b) == pa
    with Session(engine) as s:
        assert s.get(GoldenPerson, pb).status == "merged"
        assert resolve_person_id(s, pb).person_id == pa
    split = apply(engine, config, [(a, "s1"), (b, "s2")])
    assert split.split == 1
    new_b = person_of(engine, b)
    assert person_of(engine, a) == pa and new_b not in (pa, pb)
    kinds = [k for k, _ in events(engine)]
    assert kinds.count("merge") == 1 and kinds.count("split") == 1


def test_change_of_address_name_and_death_events_name_the_source(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100, address="1 OLD RD")
    b = add_record(engine, "housing", "B", last_name="JONES")
    apply(engine, config, [(a, "c"), (b, "c")])
    pid = person_of(engine, a)
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, a)
        rec.uprn, rec.address, rec.last_name, rec.date_of_death = 200, "2 NEW RD", "BROWN", "2026-01-01"
        rec.last_changed = utcnow()  # as ingest marks a record whose content changed
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert summary.event_counts == {"change_of_address": 1, "change_of_name": 1, "death": 1}
    with Session(engine) as s:
        coa = s.scalar(select(ChangeEvent).where(ChangeEvent.event_type == "change_of_address"))
        assert coa.source == "ctax" and coa.payload["before"]["uprn"] == 100 and coa.payload["after"]["uprn"] == 200
        assert set(s.scalars(select(EventDelivery.subscriber).where(EventDelivery.event_id == coa.id))) == {"housing"}
        versions = s.scalars(select(GoldenPersonVersion).where(GoldenPersonVersion.person_id == pid)
                             .order_by(GoldenPersonVersion.version)).all()
        assert [v.version for v in versions] == [1, 2] and versions[0].valid_to is not None
        homes = s.scalars(select(Residence).where(Residence.person_id == pid).order_by(Residence.id)).all()
        assert [(h.uprn, h.to_date is None) for h in homes] == [(100, False), (200, True)]
    again = apply(engine, config, [(a, "c"), (b, "c")])
    assert again.events == 0


def test_no_personal_data_in_event_keys(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="ZEBEDEE")
    apply(engine, config, [(a, "c")])
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(ChangeEvent.idempotency_key.like("%ZEBEDEE%"))) == 0


def test_read_as_at_a_date(hub) -> None:
    import datetime as dt

    from hub.golden import golden_as_at

    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    t1 = dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)
    with Session(engine) as s, s.begin():
        apply_clusters(s, config, pd.DataFrame({"record_id": [a], "cluster_id": ["c"]}), run_id=None, now=t0)
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).last_name = "BROWN"
    with Session(engine) as s, s.begin():
        apply_clusters(s, config, pd.DataFrame({"record_id": [a], "cluster_id": ["c"]}), run_id=None, now=t1)
    pid = person_of(engine, a)
    with Session(engine) as s:
        assert golden_as_at(s, pid, t0 + dt.timedelta(days=1))["last_name"] == "JONES"
        assert golden_as_at(s, pid, t1 + dt.timedelta(days=1))["last_name"] == "BROWN"
        assert golden_as_at(s, pid, t0 - dt.timedelta(days=1)) is None


def test_case_only_surname_difference_is_not_a_change_of_name(hub) -> None:
    engine, config = hub
    a = add_record(engine, "housing", "A", last_name="Smith")
    apply(engine, config, [(a, "c")])
    b = add_record(engine, "ctax", "B", last_name="SMITH")  # a more trusted source joins with the same name
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert "change_of_name" not in summary.event_counts


def test_mac_mc_spelling_or_a_lost_surname_is_not_a_change_of_name(hub) -> None:
    engine, config = hub
    a = add_record(engine, "housing", "A", last_name="McLean")
    apply(engine, config, [(a, "c")])
    b = add_record(engine, "ctax", "B", last_name="MACLEAN")
    assert "change_of_name" not in apply(engine, config, [(a, "c"), (b, "c")]).event_counts
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).last_name = None
        s.get(SourceRecord, b).last_name = None
    assert "change_of_name" not in apply(engine, config, [(a, "c"), (b, "c")]).event_counts


def test_a_short_surname_with_two_letters_swapped_corrected_is_not_a_change_of_name(hub) -> None:
    """A tenancy typed "HYA"; the benefit claim that joins says "Hay": a spelling of the same surname, so nobody is
    told of a change of name (one slip in three letters, which a similarity ratio would call two names)."""
    engine, config = hub
    a = add_record(engine, "housing", "A", first_name="Christopher", last_name="HYA")
    apply(engine, config, [(a, "c")])
    b = add_record(engine, "ctax", "B", first_name="Christopher", last_name="Hay")
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert "change_of_name" not in summary.event_counts


def test_a_record_with_the_names_the_other_way_round_left_alone_is_no_change_of_name(hub) -> None:
    """Helen Bruce is on the council tax roll and in a housing record written surname first ("BRUCE HELEN"). The
    roll drops her; the housing record is all that is left of her: nobody is told she changed her name."""
    from hub.golden import drop_deleted_records

    engine, config = hub
    a = add_record(engine, "ctax", "A", first_name="Helen", last_name="Bruce")
    b = add_record(engine, "housing", "B", first_name="BRUCE", last_name="HELEN")
    apply(engine, config, [(a, "c"), (b, "c")])
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).deleted = True
        drop_deleted_records(s, [a])
    assert "change_of_name" not in apply(engine, config, [(b, "c")]).event_counts
    with Session(engine) as s:
        gp = s.get(GoldenPerson, person_of(engine, b))
        assert (gp.first_name, gp.last_name) == ("HELEN", "BRUCE")


def test_a_new_surname_in_a_record_written_the_other_way_round_is_a_change_of_name(hub) -> None:
    """Laura Jennifer Graham married: the council tax account now reads "LAURA, QUINN J" (the system put the names the
    wrong way round). Her surname is Quinn now, and her first name is still Laura."""
    engine, config = hub
    a = add_record(engine, "housing", "A", first_name="LAURA JENNIFER", last_name="GRAHAM")
    b = add_record(engine, "ctax", "B", first_name="LAURA", last_name="GRAHAM")
    apply(engine, config, [(a, "c"), (b, "c")])
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, b)
        rec.first_name, rec.last_name, rec.last_changed = "QUINN J", "LAURA", utcnow()
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert summary.event_counts == {"change_of_name": 1}
    with Session(engine) as s:
        gp = s.get(GoldenPerson, person_of(engine, b))
        assert (gp.first_name, gp.last_name) == ("LAURA", "QUINN")


def test_a_trusted_account_written_the_other_way_round_does_not_name_a_new_person_backwards(hub) -> None:
    """The roll says Laura Jennifer Graham; the council tax account, more trusted, says "LAURA, GRAHAM J" with the
    names the wrong way round. The hub writes Laura as a first name and Graham as a surname: the golden record is
    Laura Graham, and when the account later reads "LAURA, QUINN J", she has changed her surname to Quinn."""
    engine, config = hub
    others = [add_record(engine, "housing", f"O{i}", first_name=f, last_name=l)
              for i, (f, l) in enumerate([*(("LAURA", s) for s in ("SMITH", "JONES", "REID", "KERR", "LOW")),
                                          *((f, "GRAHAM") for f in ("PETER", "ANN", "JOHN", "MARY", "IAN"))])]
    a = add_record(engine, "housing", "A", first_name="LAURA JENNIFER", last_name="GRAHAM")
    b = add_record(engine, "ctax", "B", first_name="GRAHAM J", last_name="LAURA")
    apply(engine, config, [*[(o, f"p{o}") for o in others], (a, "c"), (b, "c")])
    with Session(engine) as s:
        gp = s.get(GoldenPerson, person_of(engine, b))
        assert (gp.first_name.split()[0], gp.last_name) == ("LAURA", "GRAHAM")
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, b)
        rec.first_name, rec.last_changed = "QUINN J", utcnow()
    assert apply(engine, config, [(a, "c"), (b, "c")]).event_counts == {"change_of_name": 1}
    with Session(engine) as s:
        assert s.get(GoldenPerson, person_of(engine, b)).last_name == "QUINN"


def test_a_trusted_placeholder_never_survives_over_a_real_value_nor_renames_anyone(hub) -> None:
    engine, config = hub
    a = add_record(engine, "housing", "A", first_name="Ann", last_name="Okafor", date_of_birth="1981-06-07",
                   phone="07700 900123")
    apply(engine, config, [(a, "c")])
    # a steward joins the more trusted council-tax account, which knows neither name nor birth date
    b = add_record(engine, "ctax", "B", first_name="UNKNOWN", last_name="NOT KNOWN", date_of_birth="1900-01-01",
                   phone="01234 567890")
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert "change_of_name" not in summary.event_counts
    with Session(engine) as s:
        gp = s.get(GoldenPerson, person_of(engine, a))
        assert (gp.first_name, gp.last_name, gp.date_of_birth, gp.phone) == ("Ann", "Okafor", "1981-06-07",
                                                                             "07700 900123")
        lineage = {l.attribute: l.source_record_id for l in s.scalars(select(AttributeLineage))}
        assert {lineage[f] for f in ("first_name", "last_name", "date_of_birth", "phone")} == {a}


def test_new_record_linking_to_a_person_at_a_new_uprn_is_a_change_of_address(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100, address="1 OLD RD")
    b = add_record(engine, "housing", "B", last_name="JONES", uprn=100)
    apply(engine, config, [(a, "c"), (b, "c")])
    pid = person_of(engine, a)
    with Session(engine) as s, s.begin():  # the old account closes as the new one opens
        s.get(SourceRecord, a).attributes = {"end_date": "2026-01-10", "end_reason": "MOVED OUT"}
    c = add_record(engine, "ctax", "C", last_name="JONES", uprn=200, address="2 NEW RD")
    summary = apply(engine, config, [(a, "c"), (b, "c"), (c, "c")])
    assert summary.event_counts == {"change_of_address": 1}
    with Session(engine) as s:
        coa = s.scalar(select(ChangeEvent).where(ChangeEvent.event_type == "change_of_address"))
        assert coa.person_id == pid and coa.payload["after"]["uprn"] == 200
        assert coa.payload["evidence"] == {"source": "ctax", "source_key": "C", "rule": "moved"}
        assert s.get(GoldenPerson, pid).uprn == 200
    assert apply(engine, config, [(a, "c"), (b, "c"), (c, "c")]).events == 0


def test_closure_at_the_old_address_or_a_touched_stale_record_moves_nobody(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100)
    old = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    b = add_record(engine, "housing", "B", last_name="JONES", uprn=300, last_changed=old)  # always disagreed (stale)
    apply(engine, config, [(a, "c"), (b, "c")])
    pid = person_of(engine, a)
    with Session(engine) as s:
        assert s.get(GoldenPerson, pid).uprn == 100
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).attributes = {"end_date": "2026-01-10", "end_reason": "MOVED OUT"}
        s.get(SourceRecord, b).phone = "07700900000"  # touched, address unchanged
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert "change_of_address" not in summary.event_counts
    with Session(engine) as s:
        assert s.get(GoldenPerson, pid).uprn == 100  # the last known address stays until news of a new one


def test_death_from_a_deceased_closure_reason_names_the_record(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100)
    b = add_record(engine, "housing", "B", last_name="JONES")
    apply(engine, config, [(a, "c"), (b, "c")])
    pid = person_of(engine, a)
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).attributes = {"end_date": "2026-01-10", "end_reason": "DECEASED", "status": "CLOSED"}
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert summary.event_counts == {"death": 1}
    with Session(engine) as s:
        death = s.scalar(select(ChangeEvent).where(ChangeEvent.event_type == "death"))
        assert death.payload["after"] == {"date_of_death": "2026-01-10"} and death.source == "ctax"
        assert death.payload["evidence"]["closure_reason"] == "DECEASED"
        gp = s.get(GoldenPerson, pid)
        assert (gp.date_of_death, gp.uprn) == ("2026-01-10", 100)
    assert apply(engine, config, [(a, "c"), (b, "c")]).events == 0



def test_an_untrusted_source_neither_moves_a_person_nor_records_a_death(trusted_hub) -> None:
    engine, config = trusted_hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100)
    apply(engine, config, [(a, "c")])
    r = add_record(engine, "requests", "R", last_name="JONES", uprn=200, date_of_death="2026-01-02")
    summary = apply(engine, config, [(a, "c"), (r, "c")])
    assert not {"change_of_address", "death"} & set(summary.event_counts)
    with Session(engine) as s:
        gp = s.get(GoldenPerson, person_of(engine, a))
        assert (gp.uprn, gp.date_of_death) == (100, None)


def test_a_person_without_a_uprn_who_gets_a_new_record_elsewhere_moved(hub) -> None:
    engine, config = hub
    a = add_record(engine, "ctax", "A", last_name="JONES", address="FLAT A/1 SOMEWHERE UNRESOLVED")
    apply(engine, config, [(a, "c")])
    b = add_record(engine, "housing", "B", last_name="JONES", uprn=200, address="2 NEW RD")
    summary = apply(engine, config, [(a, "c"), (b, "c")])
    assert summary.event_counts == {"change_of_address": 1}
    with Session(engine) as s:
        coa = s.scalar(select(ChangeEvent).where(ChangeEvent.event_type == "change_of_address"))
        assert coa.payload["before"]["uprn"] is None and coa.payload["after"]["uprn"] == 200


def test_an_untrusted_address_never_replaces_one_no_record_states_any_more(trusted_hub) -> None:
    engine, config = trusted_hub
    a = add_record(engine, "ctax", "A", last_name="JONES", uprn=100)
    r = add_record(engine, "requests", "R", last_name="JONES", uprn=200)  # where a pothole was reported
    apply(engine, config, [(a, "c"), (r, "c")])
    pid = person_of(engine, a)
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, a).uprn = None  # the only record of the current address loses it
        s.get(SourceRecord, a).address = None
    summary = apply(engine, config, [(a, "c"), (r, "c")])
    assert "change_of_address" not in summary.event_counts
    with Session(engine) as s:
        assert s.get(GoldenPerson, pid).uprn == 100
