"""A steward's decision is news: accepting "closed here, same name new there" or choosing a record's UPRN moves the
golden person and raises change_of_address (once), just as the same news from a source would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from property_fixtures import add_property, make_hub
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import stewardship as st
from hub.golden import apply_clusters, resolve_person_id
from hub.identity_moves import MOVE_RULE
from hub.linking import linked_hash, load_person_records
from hub.property_queue import refresh_queue, resolve_address_task
from schemas import ChangeEvent, GoldenPerson, MatchPair, ReviewTask, Run, SourceRecord, Xref
from schemas.base import utcnow
from property_fixtures import add_record as add

CLOSED = {"end_date": "2026-02-20", "end_reason": "MOVED OUT"}


def apply(engine, config, clusters: list[tuple[int, str]]):
    with Session(engine) as s, s.begin():
        return apply_clusters(s, config, pd.DataFrame(clusters, columns=["record_id", "cluster_id"]), run_id=None)


def person_of(engine, record_id: int) -> int:
    with Session(engine) as s:
        return s.scalar(select(Xref.person_id).where(Xref.source_record_id == record_id))


def moves(engine) -> list[ChangeEvent]:
    with Session(engine) as s:
        return list(s.scalars(select(ChangeEvent).where(ChangeEvent.event_type == "change_of_address")
                              .order_by(ChangeEvent.id)))


def review_task(engine, a: int, b: int, rule: str | None) -> int:
    with Session(engine) as s, s.begin():
        pair = MatchPair(record_id_l=min(a, b), record_id_r=max(a, b), match_weight=0.0, match_probability=0.0,
                         band="review", rule=rule)
        s.add(pair)
        s.flush()
        task = ReviewTask(kind="person_pair", status="open", pair_id=pair.id, score=0.0,
                          detail={"band": "review", **({"reason": rule} if rule else {})})
        s.add(task)
        s.flush()
        return task.id


def closed_here_new_there(engine, config) -> tuple[int, int, int]:
    """An account at UPRN 100 closes for a move; a new account under the same name opens at 200 (a new person)."""
    old = add(engine, "ctax", "OLD", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD")
    apply(engine, config, [(old, "p")])
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, old).attributes = CLOSED
    assert apply(engine, config, [(old, "p")]).event_counts == {}
    new = add(engine, "ctax", "NEW", first_name="JOHN", last_name="JONES", uprn=200, address="2 NEW RD")
    apply(engine, config, [(new, "q")])
    assert person_of(engine, old) != person_of(engine, new)
    return old, new, review_task(engine, old, new, MOVE_RULE)


def test_accepting_move_evidence_moves_the_person_with_the_decision_as_evidence(trusted_hub) -> None:
    engine, config = trusted_hub
    old, new, task_id = closed_here_new_there(engine, config)
    person = person_of(engine, old)
    with Session(engine) as s, s.begin():
        result = st.accept_task(s, config, task_id, steward="alice", reason="same person, moved")
    survivor = result.person_ids[0]
    assert survivor == person  # the older golden ID lives on; the new one redirects to it
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].person_id == survivor and coa[0].run_id is None
    assert coa[0].payload["before"]["uprn"] == 100 and coa[0].payload["after"]["uprn"] == 200
    assert coa[0].payload["evidence"]["steward_decision"] == result.decision_ids[0]
    assert coa[0].payload["evidence"]["source_key"] == "NEW"
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200
        assert resolve_person_id(s, person_of(engine, new)).person_id == survivor
    # later runs over the merged person raise it no more
    assert "change_of_address" not in apply(engine, config, [(old, "m"), (new, "m")]).event_counts
    assert len(moves(engine)) == 1


def test_accepting_move_evidence_against_a_live_record_moves_the_person_to_the_new_account_only(trusted_hub) -> None:
    """Nothing closed: the person's other live record (here a second account at 300, changed more recently than the
    new one) is not news. Only the record the hub saw last moves them."""
    engine, config = trusted_hub
    long_ago = utcnow() - dt.timedelta(days=400)
    home = add(engine, "ctax", "HOME", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD",
               first_seen=long_ago, last_changed=utcnow())
    other = add(engine, "ctax", "OTHER", first_name="JOHN", last_name="JONES", uprn=300, address="3 OLD RD",
                first_seen=long_ago, last_changed=utcnow() - dt.timedelta(hours=1))
    apply(engine, config, [(home, "p"), (other, "p")])
    with Session(engine) as s:
        assert s.get(GoldenPerson, person_of(engine, home)).uprn == 100
    new = add(engine, "ctax", "NEW", first_name="JOHN", last_name="JONES", uprn=200, address="2 NEW RD",
              first_seen=utcnow(), last_changed=utcnow() - dt.timedelta(days=1))
    apply(engine, config, [(new, "q")])
    task_id = review_task(engine, other, new, MOVE_RULE)
    with Session(engine) as s, s.begin():
        survivor = st.accept_task(s, config, task_id, steward="alice").person_ids[0]
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].payload["after"]["uprn"] == 200 and coa[0].payload["evidence"]["source_key"] == "NEW"
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200


def test_accepting_another_pair_between_the_two_persons_a_move_question_names_moves_them(trusted_hub) -> None:
    """The move question named the person's roll entry; the steward answers the matcher's own pair between the same
    two persons (the new tenancy beside the benefit claim). The answer is the same: the person moved. The pair the
    steward did not use is settled with it."""
    engine, config = trusted_hub
    roll = add(engine, "ctax", "ROLL", first_name="EMMA", last_name="LAMONT", uprn=100, address="1 OLD RD")
    claim = add(engine, "ctax", "CLAIM", first_name="EMMA", last_name="LAMONT", uprn=100, address="1 OLD RD")
    apply(engine, config, [(roll, "p"), (claim, "p")])
    new = add(engine, "ctax", "NEW", first_name="EMMA", last_name="LAMONT", uprn=200, address="2 NEW RD")
    apply(engine, config, [(new, "q")])
    question = review_task(engine, roll, new, MOVE_RULE)
    ordinary = review_task(engine, claim, new, None)
    with Session(engine) as s, s.begin():
        survivor = st.accept_task(s, config, ordinary, steward="alice").person_ids[0]
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].payload["after"]["uprn"] == 200 and coa[0].payload["evidence"]["source_key"] == "NEW"
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200
        assert s.get(ReviewTask, question).status != "open"


def test_a_move_to_where_the_new_account_already_joined_the_older_golden_id_is_still_a_move(trusted_hub) -> None:
    """The hub holds the resident twice: an account closed years ago ("QUINN, F D", the older golden ID) and the
    resident at 300. A new account "QUINN, F D" at 200 joins the closed account's person first. When the account at
    300 then closes and the steward accepts the move, the person moved from 300 to 200: the sources holding the
    resident at 300 must hear it, though the surviving ID already said 200."""
    engine, config = trusted_hub
    long_ago = utcnow() - dt.timedelta(days=400)
    closed = add(engine, "ctax", "OLD2022", first_name="F", middle_names="D", last_name="QUINN", uprn=100,
                 address="1 OLD RD", attributes={"end_date": "2022-09-22", "end_reason": "MOVED OUT"},
                 first_seen=long_ago, last_changed=long_ago)
    home = add(engine, "ctax", "HOME", first_name="FRANCIS", middle_names="D", last_name="QUINN", uprn=300,
               address="3 HOME RD", first_seen=long_ago, last_changed=long_ago)
    apply(engine, config, [(closed, "p"), (home, "q")])
    new = add(engine, "ctax", "NEW", first_name="F", middle_names="D", last_name="QUINN", uprn=200, address="2 NEW RD",
              first_seen=utcnow(), last_changed=utcnow())
    apply(engine, config, [(new, "r")])
    with Session(engine) as s, s.begin():  # a steward joins it to the person its name is written like
        st.accept_task(s, config, review_task(engine, closed, new, None), steward="alice")
    with Session(engine) as s:
        assert s.get(GoldenPerson, person_of(engine, new)).uprn == 200
    assert moves(engine) == []  # a closed account's address was nobody's current address
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, home)
        rec.attributes, rec.last_changed = CLOSED, utcnow()
    apply(engine, config, [(home, "q")])
    task_id = review_task(engine, home, new, MOVE_RULE)
    with Session(engine) as s, s.begin():
        survivor = st.accept_task(s, config, task_id, steward="alice").person_ids[0]
    assert survivor == person_of(engine, closed)
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].payload["before"]["uprn"] == 300 and coa[0].payload["after"]["uprn"] == 200
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200


def test_a_service_request_a_steward_joins_to_a_closed_account_does_not_move_the_person_silently(trusted_hub) -> None:
    """"MURRAY, H M" closes for a move; a service request from "Helen Murray" at another address is joined to her by
    a steward. A service request names where a problem was: the person does not live there on its word. When her
    new council tax account there arrives and is joined too, that is the change of address, raised once."""
    engine, config = trusted_hub
    old = add(engine, "ctax", "OLD", first_name="H", middle_names="M", last_name="MURRAY", uprn=100,
              address="1 OLD RD")
    apply(engine, config, [(old, "p")])
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, old)
        rec.attributes, rec.last_changed = {"start_date": "2020-03-21", **CLOSED}, utcnow()
    apply(engine, config, [(old, "p")])
    request = add(engine, "requests", "REQ", first_name="HELEN", last_name="MURRAY", uprn=200, address="2 NEW RD")
    apply(engine, config, [(request, "q")])
    with Session(engine) as s, s.begin():
        survivor = st.accept_task(s, config, review_task(engine, old, request, None), steward="alice").person_ids[0]
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 100
    assert moves(engine) == []
    account = add(engine, "ctax", "NEW", first_name="HELEN", middle_names="M", last_name="MURRAY", uprn=200,
                  address="2 NEW RD", attributes={"start_date": "2026-02-21"})
    apply(engine, config, [(account, "r")])
    with Session(engine) as s, s.begin():
        st.accept_task(s, config, review_task(engine, old, account, None), steward="alice")
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].payload["before"]["uprn"] == 100 and coa[0].payload["after"]["uprn"] == 200
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200


def test_accepting_an_ordinary_review_pair_does_not_move_anyone(trusted_hub) -> None:
    engine, config = trusted_hub
    a = add(engine, "ctax", "A", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD")
    b = add(engine, "ctax", "B", first_name="JON", last_name="JONES", uprn=200, address="2 NEW RD")
    apply(engine, config, [(a, "p"), (b, "q")])
    task_id = review_task(engine, a, b, None)  # a grey-zone score, not "closed here, new there"
    with Session(engine) as s, s.begin():
        result = st.accept_task(s, config, task_id, steward="alice")
    assert moves(engine) == []
    with Session(engine) as s:
        assert s.get(GoldenPerson, result.person_ids[0]).uprn == 100  # the merge keeps the survivor's address


@pytest.mark.parametrize("closed_on, seen_to_close, moves_expected", [
    ("2026-02-20", True, True),    # closed near the new account's start, and the hub saw it close: a move
    ("2019-06-30", True, False),   # closed years before: a stale duplicate, the merge corrects a record
    ("2026-02-20", False, False),  # arrived already closed (a backlog): the move happened before the hub's time
])
def test_accepting_a_review_pair_whose_sources_date_a_move_moves_the_person(trusted_hub, closed_on: str,
                                                                              seen_to_close: bool,
                                                                              moves_expected: bool) -> None:
    """The steward says one person; the sources say an account closed at one UPRN when the other opened at another
    (within 90 days), and the hub saw the closure: a move. Otherwise the merge raises no change of address, but the
    person still lives where their live account is, not at the closed account's address."""
    engine, config = trusted_hub
    seen = utcnow() - dt.timedelta(days=30)
    old = add(engine, "ctax", "OLD", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD",
              attributes={"start_date": "2015-04-01"}, first_seen=seen, last_changed=seen)
    apply(engine, config, [(old, "p")])
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, old)
        rec.attributes = {"start_date": "2015-04-01", "end_date": closed_on, "end_reason": "MOVED"}
        rec.last_changed = utcnow() if seen_to_close else seen
    apply(engine, config, [(old, "p")])
    new = add(engine, "ctax", "NEW", first_name="JON", last_name="JONES", uprn=200, address="2 NEW RD",
              attributes={"start_date": "2026-02-16"})
    apply(engine, config, [(new, "q")])
    task_id = review_task(engine, old, new, None)  # an ordinary grey-zone pair, not put as move evidence
    with Session(engine) as s, s.begin():
        result = st.accept_task(s, config, task_id, steward="alice")
    survivor = result.person_ids[0]
    coa = moves(engine)
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 200
    if moves_expected:
        assert len(coa) == 1 and coa[0].person_id == survivor
        assert coa[0].payload["before"]["uprn"] == 100 and coa[0].payload["after"]["uprn"] == 200
        assert coa[0].payload["evidence"]["steward_decision"] == result.decision_ids[0]
    else:
        assert coa == []


@pytest.mark.parametrize("new_account_seen, moves_expected", [
    ("after the first load", True),   # the hub saw it arrive: today's news of where the person lives
    ("in the first load", False),     # held since the first load beside the old one: which is current is unknown
])
def test_accepting_a_review_pair_beside_a_new_account_elsewhere_moves_the_person(trusted_hub, new_account_seen: str,
                                                                                   moves_expected: bool) -> None:
    """Nothing closed: the person's one record says 1 OLD RD and a new account the hub saw arrive says 2 NEW RD.
    A steward who accepts the matcher's ordinary pair between them says one person, so the person moved: the
    golden record must not stay at the old address, and the old address's sources must hear of the move."""
    engine, config = trusted_hub
    first_load = utcnow() - dt.timedelta(days=40)
    with Session(engine) as s, s.begin():
        s.add_all([Run(kind="full", status="ok", started_at=first_load),
                   Run(kind="incremental", status="ok", started_at=first_load + dt.timedelta(days=1))])
    old = add(engine, "ctax", "OLD", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD",
              first_seen=first_load, last_changed=first_load)
    seen = utcnow() - dt.timedelta(days=5) if new_account_seen == "after the first load" else first_load
    new = add(engine, "ctax", "NEW", first_name="JOHN", last_name="JONES", uprn=200, address="2 NEW RD",
              first_seen=seen, last_changed=seen)
    apply(engine, config, [(old, "p"), (new, "q")])
    task_id = review_task(engine, old, new, None)  # the matcher's grey-zone pair, not put as move evidence
    with Session(engine) as s, s.begin():
        result = st.accept_task(s, config, task_id, steward="alice")
    survivor = result.person_ids[0]
    coa = moves(engine)
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == (200 if moves_expected else 100)
    if moves_expected:
        assert len(coa) == 1 and coa[0].person_id == survivor
        assert coa[0].payload["before"]["uprn"] == 100 and coa[0].payload["after"]["uprn"] == 200
        assert coa[0].payload["evidence"]["steward_decision"] == result.decision_ids[0]
    else:
        assert coa == []


@pytest.fixture
def people_hub(tmp_path: Path):
    hub = make_hub(tmp_path, [("ctax", "person", 3), ("electoral", "person", 2)])
    add_property(hub.engine, 100, "1 OLD ROAD, LEEDS", postcode="LS1 1AA")
    add_property(hub.engine, 200, "2 NEW ROAD, LEEDS", postcode="LS2 2BB")
    return hub


def _linked(engine, record_id: int) -> None:
    """Mark a record linked on its current content and address, as the linking stage does after a run."""
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, record_id)
        rec.linked_hash = linked_hash(rec.content_hash, rec.address_hash)


NO_PROPERTY_RECORDS = pd.DataFrame(columns=["id", "source", "source_key", "address", "postcode", "address_hash",
                                            "matched_uprn", "address_band", "address_score", "address_reason"])


def queued(engine, record_id: int) -> int:
    """Refresh the custodian queue (no property records here) and return the record's open address task."""
    with Session(engine) as s, s.begin():
        refresh_queue(s, NO_PROPERTY_RECORDS, set())
    with Session(engine) as s:
        tasks = list(s.scalars(select(ReviewTask).where(ReviewTask.kind == "address", ReviewTask.status == "open")))
        assert [t.source_record_id for t in tasks] == [record_id]
        assert [c["uprn"] for c in tasks[0].detail["candidates"]] == [200]
        return tasks[0].id


def test_address_steward_resolving_an_in_place_move_raises_it_on_the_next_run(people_hub) -> None:
    engine, config = people_hub.engine, people_hub.config
    auto = {"address_band": "auto", "address_score": 0.99}
    ctax = add(engine, "ctax", "C1", full_name="JONES, JOHN", address="1 OLD ROAD, LEEDS", postcode="LS1 1AA",
               matched_uprn=100, address_hash="h-old", **auto)
    roll = add(engine, "electoral", "E1", full_name="JOHN JONES", address="1 OLD ROAD, LEEDS", postcode="LS1 1AA",
               matched_uprn=100, address_hash="h-roll", **auto)
    apply(engine, config, [(ctax, "p"), (roll, "p")])
    _linked(engine, ctax), _linked(engine, roll)
    # the account is updated in place to an address text the gazetteer matcher only puts in the review band
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, ctax)
        rec.address, rec.postcode, rec.address_hash = "2 NEW RD, LEEDS", "LS2 2BB", "h-new"
        rec.last_changed = utcnow()  # as ingest stamps a record its source changed
        rec.matched_uprn, rec.address_band, rec.address_score, rec.address_reason = 200, "review", 0.8, "street fuzzy"
    assert apply(engine, config, [(ctax, "p"), (roll, "p")]).event_counts == {}  # no UPRN yet: nobody moves
    _linked(engine, ctax)
    person = person_of(engine, ctax)

    # the review-band person record is the address steward's question
    task_id = queued(engine, ctax)
    with Session(engine) as s, s.begin():
        decision = resolve_address_task(s, task_id, steward="bob", uprn=200)
        decision_id = decision.id

    # the next run re-links the record the steward resolved, and the person moves
    with Session(engine) as s:
        frame = load_person_records(s).set_index("id")
    assert frame.loc[ctax, "linked_hash"] != frame.loc[ctax, "new_linked_hash"]
    assert frame.loc[roll, "linked_hash"] == frame.loc[roll, "new_linked_hash"]
    assert apply(engine, config, [(ctax, "p"), (roll, "p")]).event_counts == {"change_of_address": 1}
    coa = moves(engine)
    assert len(coa) == 1 and coa[0].person_id == person and coa[0].payload["after"]["uprn"] == 200
    assert coa[0].payload["evidence"]["source_key"] == "C1" and coa[0].payload["evidence"]["rule"] == "moved"
    with Session(engine) as s:
        assert s.get(GoldenPerson, person).uprn == 200
        assert s.get(SourceRecord, ctax).address_reason == "chosen by a steward"
        assert s.scalar(select(func.count()).select_from(ChangeEvent).where(
            ChangeEvent.event_type == "address_resolved")) == 1
        assert decision_id
    _linked(engine, ctax)
    assert apply(engine, config, [(ctax, "p"), (roll, "p")]).event_counts == {}
    assert len(moves(engine)) == 1


def test_resolving_an_address_a_record_always_stated_moves_nobody(people_hub) -> None:
    engine, config = people_hub.engine, people_hub.config
    ctax = add(engine, "ctax", "C1", full_name="JONES, JOHN", address="1 OLD ROAD, LEEDS", postcode="LS1 1AA",
               matched_uprn=100, address_hash="h-old", address_band="auto", address_score=0.99)
    stale = add(engine, "electoral", "E1", full_name="JOHN JONES", address="2 NEW RD, LEEDS", postcode="LS2 2BB",
                matched_uprn=200, address_hash="h-stale", address_band="review", address_score=0.8)
    apply(engine, config, [(ctax, "p"), (stale, "p")])
    _linked(engine, ctax), _linked(engine, stale)
    task_id = queued(engine, stale)
    with Session(engine) as s, s.begin():
        resolve_address_task(s, task_id, steward="bob", uprn=200)
    with Session(engine) as s:
        frame = load_person_records(s).set_index("id")
    assert frame.loc[stale, "linked_hash"] != frame.loc[stale, "new_linked_hash"]  # re-linked with its UPRN
    assert apply(engine, config, [(ctax, "p"), (stale, "p")]).event_counts == {}
    with Session(engine) as s:
        assert s.get(GoldenPerson, person_of(engine, ctax)).uprn == 100
        assert s.scalar(select(Xref.uprn).where(Xref.source_record_id == stale)) == 200
    with Session(engine) as s, s.begin():  # answered: not asked again
        refresh_queue(s, NO_PROPERTY_RECORDS, set())
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "open")) == 0


@pytest.mark.parametrize("end_date, end_reason, moves_expected", [
    ("2026-02-20", "MOVED OUT", True),   # the new account started four days before: the closure completes the move
    ("2025-03-01", "MOVED OUT", False),  # a year before the new account started: not this move
    ("2026-02-20", "DECEASED", False),   # a death is no move
])
def test_a_closure_after_the_new_account_joined_completes_the_move(trusted_hub, end_date: str, end_reason: str,
                                                                   moves_expected: bool) -> None:
    """A steward joins the new account to the person while the old one is still live (nothing says they moved
    yet); when the old account then closes, the new account's start date says where they went."""
    engine, config = trusted_hub
    seen = utcnow() - dt.timedelta(days=30)
    old = add(engine, "ctax", "OLD", first_name="JOHN", last_name="JONES", uprn=100, address="1 OLD RD",
              attributes={"start_date": "2015-04-01"}, first_seen=seen, last_changed=seen)
    apply(engine, config, [(old, "p")])
    new = add(engine, "ctax", "NEW", first_name="JON", last_name="JONES", uprn=200, address="2 NEW RD",
              attributes={"start_date": "2026-02-16"}, first_seen=seen, last_changed=seen)
    apply(engine, config, [(new, "q")])
    with Session(engine) as s, s.begin():
        survivor = st.accept_task(s, config, review_task(engine, old, new, None), steward="alice").person_ids[0]
    assert moves(engine) == []
    with Session(engine) as s:
        assert s.get(GoldenPerson, survivor).uprn == 100  # both accounts live: nothing says which is home
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, old)
        rec.attributes = {"start_date": "2015-04-01", "end_date": end_date, "end_reason": end_reason}
        rec.last_changed = utcnow()
    counts = apply(engine, config, [(old, "m"), (new, "m")]).event_counts
    assert counts.get("change_of_address", 0) == (1 if moves_expected else 0)
    if moves_expected:
        coa = moves(engine)
        assert coa[0].payload["before"]["uprn"] == 100 and coa[0].payload["after"]["uprn"] == 200
        assert coa[0].payload["evidence"]["source_key"] == "NEW"
    assert "change_of_address" not in apply(engine, config, [(old, "m"), (new, "m")]).event_counts  # once only
