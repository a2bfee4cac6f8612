"""Move evidence: same name newly at one UPRN, just closed at another, goes to review and is never auto-linked."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.identity_moves import MOVE_RULE, closure_evidence_pairs, move_evidence_pairs, name_table, with_move_evidence
from matching import standardise_people
from schemas import Residence, Run, SourceRecord, SourceSystem

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["names standardised here", "the matcher's standardised records"])
def standardised(request):  # noqa: ANN201 - records -> (standardised frame | None)
    """Both ways the linking stage may call for evidence: each must find the same pairs."""
    if request.param == "names standardised here":
        return lambda records: None
    return lambda records: standardise_people(records[[c for c in ("unique_id", "source", "full_name", "date_of_birth")
                                                       if c in records]])


@pytest.fixture
def one_holder_asks(monkeypatch) -> None:  # noqa: ANN001 - pytest fixture
    """Only a name that one other person holds asks by itself (``MAX_HOLDERS`` 1, where the hub asks about each of up
    to three): the tests that use this are about what singles one of several holders out, and keep their fixtures
    small with two or three namesakes."""
    monkeypatch.setattr("hub.identity_moves.MAX_HOLDERS", 1)


def names_of(std: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if std is None else name_table(std)


def add(engine, source: str, key: str, name: str, uprn: int, attributes: dict | None = None, *,
        changed: bool | None = None, days_ago: int = 5, dob: str | None = None) -> dict:
    """A person record last changed ``days_ago``; ``changed``: its link is stale (changed at source since last
    linked, a month after the hub first saw it); otherwise the hub first saw it as it is."""
    changed_on = NOW - dt.timedelta(days=days_ago)
    first_seen = changed_on - dt.timedelta(days=30) if changed else changed_on
    with Session(engine) as s, s.begin():
        sid = s.scalar(select(SourceSystem.id).where(SourceSystem.name == source))
        rec = SourceRecord(source_id=sid, source_key=key, raw={}, content_hash=key, full_name=name, uprn=uprn,
                           date_of_birth=dob, attributes=attributes, last_changed=changed_on,
                           first_seen=first_seen.replace(tzinfo=None))
        s.add(rec)
        s.flush()
        out = {"unique_id": str(rec.id), "source": source, "full_name": name, "uprn": str(uprn),
               "last_changed": rec.last_changed, "date_of_birth": dob}
        if changed is not None:
            out |= {"linked_hash": key, "new_linked_hash": key + ("*" if changed else "")}
        return out


def pair_keys(found: pd.DataFrame) -> list[tuple[str, str]]:
    """The evidence pairs found, as sorted ``(unique_id_l, unique_id_r)`` tuples."""
    return sorted(map(tuple, found[["unique_id_l", "unique_id_r"]].values.tolist()))


def people(old: list[dict], new: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``records, existing, clusters``: each of ``old`` a person of its own before the run, each of ``new`` arriving
    in it as a new person."""
    records = pd.DataFrame([*old, *new])
    existing = pd.DataFrame({"unique_id": [r["unique_id"] for r in old], "cluster_id": [f"p{i}" for i in range(len(old))]})
    arriving = pd.DataFrame({"unique_id": [r["unique_id"] for r in new], "cluster_id": [f"n{i}" for i in range(len(new))]})
    return records, existing, pd.concat([existing, arriving], ignore_index=True)


def test_new_account_with_the_name_of_one_just_closed_elsewhere_is_review_evidence(trusted_hub, standardised) -> None:
    engine, config = trusted_hub
    old = add(engine, "ctax", "OLD", "SMITH, JOHN A", 100, MOVED_OUT)
    other = add(engine, "ctax", "OTHER", "JONES, MARY", 300, MOVED_OUT)  # another name
    died = add(engine, "ctax", "DIED", "SMITH, JOHN", 400, {"end_date": "2026-02-20", "end_reason": "DECEASED"})
    live = add(engine, "ctax", "LIVE", "SMITH, JOHN", 500)  # still liable there: no closure, no evidence
    new = add(engine, "ctax", "NEW", "JOHN SMITH", 200)
    records = pd.DataFrame([old, other, died, live, new])
    existing = pd.DataFrame({"unique_id": [old["unique_id"], other["unique_id"], died["unique_id"], live["unique_id"]],
                             "cluster_id": ["p1", "p2", "p3", "p4"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [new["unique_id"]], "cluster_id": ["n"]})])
    std = standardised(records)
    with Session(engine) as s:
        ev = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=std)
    assert ev[["unique_id_l", "unique_id_r", "band", "rule"]].values.tolist() == [
        [old["unique_id"], new["unique_id"], "review", MOVE_RULE]]
    # a pair the matcher already banded keeps its verdict; evidence never becomes an auto link
    scored = pd.DataFrame({"unique_id_l": [new["unique_id"]], "unique_id_r": [old["unique_id"]], "match_weight": [3.0],
                           "match_probability": [0.9], "band": ["review"], "rule": [""]})
    assert with_move_evidence(scored, ev)[["band", "rule", "match_probability"]].values.tolist() == [
        ["review", MOVE_RULE, 0.9]]  # its own score, and now it says what accepting it means
    capped = scored.assign(rule="first_name_conflict")  # a rule of the matcher's own says more: it stays
    assert with_move_evidence(capped, ev)["rule"].tolist() == ["first_name_conflict"]
    assert (with_move_evidence(scored.assign(band="none"), ev)["band"] != "auto").all()
    # once the new record belongs to an existing person there is no evidence; once the closure is old news, what is
    # left is a name three persons hold, and of them only the one still liable at 500 may have moved
    with Session(engine) as s:
        joined = clusters.assign(cluster_id=["p1", "p2", "p3", "p4", "p1"])
        assert move_evidence_pairs(s, config, records, joined, existing, now=NOW, standardised=std).empty
        later = move_evidence_pairs(s, config, records, clusters, existing, now=NOW + dt.timedelta(days=200),
                                    standardised=std)
    assert pair_keys(later) == [key(live, new)]


# Move evidence whichever half of a move a source tells first: an account that closes now is paired with an account
# of the same name that its source says started at about the closure date, at another UPRN (review only).
MOVED_OUT = {"end_date": "2026-02-20", "end_reason": "MOVED OUT", "status": "CLOSED"}
MOVED = {"start_date": "2015-04-01", "end_date": "2026-02-20", "end_reason": "MOVED OUT", "status": "CLOSED"}


def key(a: dict, b: dict) -> tuple[str, str]:
    return tuple(sorted((a["unique_id"], b["unique_id"]), key=int))


def test_a_closure_after_the_new_account_opened_is_evidence(trusted_hub, standardised) -> None:
    engine, config = trusted_hub
    new = add(engine, "ctax", "NEW", "JOHN SMITH", 200, {"start_date": "2026-02-16"}, changed=False, days_ago=1)  # opened first
    old = add(engine, "ctax", "OLD", "SMITH, JOHN", 100, MOVED, changed=True, days_ago=1)  # closed in this run
    settled = add(engine, "ctax", "SETTLED", "SMITH, JOHN", 300, {"start_date": "2019-05-01"}, changed=False, days_ago=1)
    mcnew = add(engine, "ctax", "MCNEW", "CARL MCLEAN", 400, {"start_date": "2026-03-01"}, changed=False, days_ago=1)
    macold = add(engine, "ctax", "MACOLD", "MACLEAN, CARL", 500, MOVED, changed=True, days_ago=1)  # Mac and Mc: one name
    died = add(engine, "ctax", "DIED", "JONES, MARY", 600, {**MOVED, "end_reason": "DECEASED"}, changed=True, days_ago=1)
    heir = add(engine, "ctax", "HEIR", "MARY JONES", 700, {"start_date": "2026-02-20"}, changed=False, days_ago=1)
    untrusted = add(engine, "requests", "REQ", "JOHN SMITH", 800, MOVED, changed=True, days_ago=1)  # not a trusted closure
    # arrived closed; its link is stale only because an address steward has since resolved its address
    arrived_closed = add(engine, "ctax", "ARRIVED", "BROWN, ANN", 900, MOVED, changed=True, days_ago=1)
    ann = add(engine, "ctax", "ANN", "ANN BROWN", 950, {"start_date": "2026-02-16"}, changed=False, days_ago=1)
    with Session(engine) as s, s.begin():
        rec = s.get(SourceRecord, int(arrived_closed["unique_id"]))
        rec.first_seen = rec.last_changed
    records = pd.DataFrame([new, old, settled, mcnew, macold, died, heir, untrusted, arrived_closed, ann])
    clusters = pd.DataFrame({"unique_id": records["unique_id"], "cluster_id": [f"p{i}" for i in range(len(records))]})
    changed = set(records.loc[records["linked_hash"] != records["new_linked_hash"], "unique_id"])
    std = standardised(records)
    with Session(engine) as s:
        found = closure_evidence_pairs(s, config, records, clusters, changed, now=NOW, names=names_of(std))
        both = move_evidence_pairs(s, config, records, clusters, clusters, now=NOW,
                                   standardised=std)  # nothing new: only closures
    pairs = pair_keys(found)
    assert pairs == sorted([key(old, new), key(mcnew, macold)])
    assert set(found["band"]) == {"review"} and set(found["rule"]) == {MOVE_RULE}
    assert sorted(map(tuple, both[["unique_id_l", "unique_id_r"]].values.tolist())) == pairs

    # once both records belong to one person, or when the new account started long before the closure: no evidence
    with Session(engine) as s:
        joined = clusters.assign(cluster_id=clusters["cluster_id"].where(clusters["unique_id"] != old["unique_id"], "p0"))
        again = closure_evidence_pairs(s, config, records, joined, changed, now=NOW, names=names_of(std))
        assert key(old, new) not in set(map(tuple, again[["unique_id_l", "unique_id_r"]].values.tolist()))
        s.get(SourceRecord, int(new["unique_id"])).attributes = {"start_date": "2025-08-01"}
        s.flush()
        late = closure_evidence_pairs(s, config, records, clusters, changed, now=NOW, names=names_of(std))
        assert key(old, new) not in set(map(tuple, late[["unique_id_l", "unique_id_r"]].values.tolist()))


def test_accounts_closed_years_ago_do_not_crowd_out_todays_closure(trusted_hub, standardised) -> None:
    engine, config = trusted_hub
    old = add(engine, "ctax", "OLD", "SMITH, JOHN", 100, MOVED, changed=False, days_ago=1)
    years_ago = [add(engine, "ctax", f"GONE{i}", "SMITH, JOHN", 300 + i,
                     {"start_date": "2010-01-01", "end_date": f"201{i}-06-30", "status": "CLOSED"}, changed=False, days_ago=1)
                 for i in range(3)]  # three other John Smiths, long gone; the hub loaded them all recently
    new = add(engine, "ctax", "NEW", "JOHN SMITH", 200, {"start_date": "2026-02-21"}, changed=True, days_ago=1)
    records = pd.DataFrame([old, *years_ago, new])
    existing = pd.DataFrame({"unique_id": [r["unique_id"] for r in (old, *years_ago)], "cluster_id": ["p0", "p1", "p2", "p3"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [new["unique_id"]], "cluster_id": ["n"]})])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(old, new)]


def test_a_first_name_written_as_an_initial_or_with_a_slip_is_still_evidence(trusted_hub, standardised) -> None:
    """Sources write first names differently ("SMITH, J", "DNUCAN", "ALEC" for Alexander): the same surname with
    agreeing first names is evidence for a steward; an unrelated first name is not, and a record with an exact
    namesake keeps only those."""
    engine, config = trusted_hub
    initial = add(engine, "ctax", "INIT", "SMITH, J", 100, MOVED_OUT)
    slip = add(engine, "ctax", "SLIP", "BRODIE, DNUCAN", 300, MOVED_OUT)
    other = add(engine, "ctax", "OTHER", "SMITH, MARY", 400, MOVED_OUT)
    nickname = add(engine, "ctax", "NICK", "FRASER, ALEC", 600, MOVED_OUT)
    new_john = add(engine, "ctax", "NEWJ", "JOHN SMITH", 200)
    new_duncan = add(engine, "ctax", "NEWD", "DUNCAN BRODIE", 500)
    new_alexander = add(engine, "ctax", "NEWA", "ALEXANDER FRASER", 700)
    new_alan = add(engine, "ctax", "NEWF", "ALAN FRASER", 800)  # not a form of Alec
    records, existing, clusters = people([initial, slip, other, nickname], [new_john, new_duncan, new_alexander, new_alan])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    pairs = pair_keys(found)
    assert pairs == sorted([key(initial, new_john), key(slip, new_duncan), key(nickname, new_alexander)])


def test_a_surname_with_a_slip_or_names_in_the_other_order_are_evidence_with_a_closure(trusted_hub, standardised) -> None:
    """"DNUCAN, DANIEL" closed, "DUNCAN, DANIEL" opened; "BUCKLEY, BRADLEY" closed, "BUCKLEY BRADLEY" (surname
    first, no comma) opened: each is a question for a steward. A surname slip with another first name is not."""
    engine, config = trusted_hub
    slip = add(engine, "ctax", "SLIP", "DNUCAN, DANIEL", 100, MOVED_OUT)
    order = add(engine, "ctax", "ORDER", "BUCKLEY, BRADLEY", 300, MOVED_OUT)
    stranger = add(engine, "ctax", "STRANGER", "DNUCAN, MARY", 400, MOVED_OUT)
    new_slip = add(engine, "ctax", "NEWS", "DUNCAN, DANIEL", 200)
    new_order = add(engine, "ctax", "NEWO", "BUCKLEY BRADLEY", 500)
    new_mark = add(engine, "ctax", "NEWM", "DUNCAN, MARK", 600)
    records, existing, clusters = people([slip, order, stranger], [new_slip, new_order, new_mark])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    pairs = pair_keys(found)
    assert pairs == sorted([key(slip, new_slip), key(order, new_order)])


def test_a_new_account_whose_name_one_other_person_holds_is_a_question_even_with_nothing_closed(trusted_hub,
                                                                                               standardised,
                                                                                               monkeypatch) -> None:
    """The resident told one department: a new trusted record, a name only one person in the hub holds, living
    elsewhere. Four holders of the name, a middle initial that differs, an untrusted source, or the person already
    holding a record at the new address: no question."""
    engine, config = trusted_hub
    rhys = add(engine, "ctax", "RHYS", "ANDERSON, RHYS MICHAEL", 100)
    new_rhys = add(engine, "ctax", "NEWR", "ANDERSON, RHYS M", 200)
    johns = [add(engine, "ctax", f"JOHN{i}", "SMITH, JOHN", 300 + i) for i in range(4)]
    new_john = add(engine, "ctax", "NEWJ", "SMITH, JOHN", 320)
    mary = add(engine, "ctax", "MARY", "JONES, MARY E", 400)
    new_mary = add(engine, "ctax", "NEWM", "JONES, MARY K", 410)  # another middle initial: another Mary
    ann = add(engine, "ctax", "ANN", "BELL, ANN", 500)
    new_ann = add(engine, "requests", "NEWA", "BELL, ANN", 510)  # a service request names where a problem was
    kim = add(engine, "ctax", "KIM", "LEE, KIM", 600)
    kim_there = add(engine, "requests", "KIMT", "LEE, KIM", 610)
    new_kim = add(engine, "ctax", "NEWK", "LEE, KIM", 610)  # the person already has a record at the new address
    records = pd.DataFrame([rhys, new_rhys, *johns, new_john, mary, new_mary, ann, new_ann, kim, kim_there, new_kim])
    old = [rhys, *johns, mary, ann, kim, kim_there]
    existing = pd.DataFrame({"unique_id": [r["unique_id"] for r in old],
                             "cluster_id": ["p1", "p2", "p3", "p7", "p8", "p4", "p5", "p6", "p6"]})
    new = [new_rhys, new_john, new_mary, new_ann, new_kim]
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [r["unique_id"] for r in new],
                                                  "cluster_id": [f"n{i}" for i in range(len(new))]})])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(rhys, new_rhys)]
    assert set(found["band"]) == {"review"} and set(found["rule"]) == {MOVE_RULE}
    # a backlog (more new persons in one run than a day brings: a newly connected source) is no move evidence
    monkeypatch.setattr("hub.identity_moves.BACKLOG_STARTS", len(new) - 1)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records)).empty


def test_a_new_account_whose_name_a_few_persons_hold_asks_about_each(trusted_hub, standardised) -> None:
    """"MACLEOD, DAWN" opens a new council tax account; two Dawn MacLeods are on the roll elsewhere. Either may have
    moved: one question each. "REID, CALLUM" beside two Callum Reids, one of whom already has a record at the new
    address, is no move question at all (a household holding the name twice)."""
    engine, config = trusted_hub
    dawns = [add(engine, "ctax", f"DAWN{i}", "MACLEOD, DAWN", 100 + i) for i in range(2)]
    new_dawn = add(engine, "ctax", "NEWD", "MACLEOD, DAWN", 200)
    callum = add(engine, "ctax", "CAL", "REID, CALLUM", 300)
    callum_here = add(engine, "ctax", "CALH", "REID, CALLUM", 400)
    new_callum = add(engine, "ctax", "NEWC", "REID, CALLUM", 400)
    records, existing, clusters = people([*dawns, callum, callum_here], [new_dawn, new_callum])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted(key(d, new_dawn) for d in dawns)
    assert set(found["band"]) == {"review"} and set(found["rule"]) == {MOVE_RULE}


def test_a_name_written_the_other_way_round_or_with_a_slip_still_asks(trusted_hub, standardised) -> None:
    """Nothing closed, one holder of the name, but written differently: a new account "ARCHIE, WOOD" (the two names
    in the other order) beside the one Archie Wood, "KELLY, JACK P" beside the one person held as "JCAK PATRICK
    KELLY", and "HAMILTJN, CHARLOTTE" beside the one Charlotte Hamilton. Each is a question. A reversed name that
    somebody holds as written asks about that person only, a short first name one letter apart ("JOAN" for John)
    is another person, and a surname slip beside an initial is no evidence."""
    engine, config = trusted_hub
    archie = add(engine, "ctax", "ARCHIE", "WOOD, ARCHIE", 100)
    new_archie = add(engine, "ctax", "NEWA", "ARCHIE, WOOD", 200)
    jack = add(engine, "ctax", "JACK", "JCAK PATRICK KELLY", 300)
    new_jack = add(engine, "ctax", "NEWJ", "KELLY, JACK P", 310)
    john = add(engine, "ctax", "JOHN", "BROWN, JOHN", 400)
    new_joan = add(engine, "ctax", "NEWB", "BROWN, JOAN", 410)
    ross = add(engine, "ctax", "ROSS", "REID, ROSS", 500)
    reid = add(engine, "ctax", "REID", "ROSS, REID", 510)  # a Reid Ross holds the name as the new account writes it
    new_reid = add(engine, "ctax", "NEWR", "ROSS, REID", 520)
    charlotte = add(engine, "ctax", "CHAR", "HAMILTON, CHARLOTTE MARY", 600)
    new_charlotte = add(engine, "ctax", "NEWC", "HAMILTJN, CHARLOTTE", 610)  # a slip in the surname
    initial = add(engine, "ctax", "INIT", "CAMPBELL, J", 700)
    new_initial = add(engine, "ctax", "NEWI", "CAMBPELL, J", 710)  # a slip beside an initial says too little
    old = [archie, jack, john, ross, reid, charlotte, initial]
    records, existing, clusters = people(old, [new_archie, new_jack, new_joan, new_reid, new_charlotte, new_initial])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted([key(archie, new_archie), key(jack, new_jack), key(reid, new_reid),
                                       key(charlotte, new_charlotte)])
    assert set(found["band"]) == {"review"} and set(found["rule"]) == {MOVE_RULE}


def test_a_closed_account_answers_to_its_persons_other_names(trusted_hub, standardised) -> None:
    """"SMITH, PAL" closes for a move; the same person's roll entry says PAUL SMITH. A new account "SMITH, PAUL"
    elsewhere is evidence."""
    engine, config = trusted_hub
    pal = add(engine, "ctax", "PAL", "SMITH, PAL", 100, MOVED_OUT)
    roll = add(engine, "requests", "ROLL", "PAUL SMITH", 100)
    other = add(engine, "ctax", "OTHER", "SMITH, PAUL", 300)  # another Paul Smith: the name alone asks nothing
    new = add(engine, "ctax", "NEW", "SMITH, PAUL", 200)
    records = pd.DataFrame([pal, roll, other, new])
    ids = [pal["unique_id"], roll["unique_id"], other["unique_id"]]
    existing = pd.DataFrame({"unique_id": ids, "cluster_id": ["p1", "p1", "p2"]})
    arriving = pd.DataFrame({"unique_id": [new["unique_id"]], "cluster_id": ["n"]})
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, pd.concat([existing, arriving]), existing, now=NOW,
                                    standardised=standardised(records))
    assert pair_keys(found) == [key(pal, new)]
    apart = pd.DataFrame({"unique_id": ids, "cluster_id": ["p1", "p3", "p2"]})
    with Session(engine) as s:  # held as two persons, the closed account's own name is all it answers to: the new
        # account is a Paul Smith, and each of the two persons holding that name is a question of its own
        found = move_evidence_pairs(s, config, records, pd.concat([apart, arriving]), apart, now=NOW,
                                    standardised=standardised(records))
    assert pair_keys(found) == sorted([key(other, new), key(roll, new)])


def test_a_middle_initial_singles_out_one_of_a_few_holders_of_the_name(trusted_hub, one_holder_asks, standardised, monkeypatch) -> None:
    """"THOMSON, GEMMA A" beside one Gemma Anne Thomson and two Gemma Thomsons whose middle names no source holds:
    a question about Gemma Anne. Not when two holders state the initial, when the new account states none, or
    when more persons than ``MAX_NAMESAKES`` hold the name."""
    engine, config = trusted_hub
    anne = add(engine, "ctax", "ANNE", "THOMSON, GEMMA ANNE", 100)
    plain = [add(engine, "ctax", f"G{i}", "THOMSON, GEMMA", 110 + i) for i in range(2)]
    new_gemma = add(engine, "ctax", "NEWG", "THOMSON, GEMMA A", 200)
    alans = [add(engine, "ctax", f"A{i}", "REID, ALAN B", 300 + i) for i in range(2)]  # two Alan B Reids
    alan_plain = add(engine, "ctax", "A9", "REID, ALAN", 309)
    new_alan = add(engine, "ctax", "NEWA", "REID, ALAN B", 310)
    ian_b = add(engine, "ctax", "IANB", "ROSS, IAN BRUCE", 400)
    ian = add(engine, "ctax", "IAN", "ROSS, IAN", 401)
    new_ian = add(engine, "ctax", "NEWI", "ROSS, IAN", 410)  # states no middle initial: nothing singles anyone out
    records, existing, clusters = people([anne, *plain, *alans, alan_plain, ian_b, ian], [new_gemma, new_alan, new_ian])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(anne, new_gemma)]
    monkeypatch.setattr("hub.identity_moves.MAX_NAMESAKES", 2)  # three Gemmas are now too many to single one out
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_a_holder_whose_own_records_say_someone_else_is_no_namesake(trusted_hub, standardised) -> None:
    """Grant B Hughes is also written plain "HUGHES, GRANT", and Alan Reid's benefit claim gives a date of birth:
    neither is the new "HUGHES, GRANT G" (born 2000) or Alan Reid born 1990, so the one other holder of each name is
    the question. Without the person's other records, the silent record would make two holders and no question."""
    engine, config = trusted_hub
    brett = [add(engine, "ctax", "GB", "HUGHES, GRANT B", 100), add(engine, "ctax", "GB2", "HUGHES, GRANT", 101)]
    grant = add(engine, "ctax", "G", "HUGHES, GRANT", 110)
    new_grant = add(engine, "ctax", "NEWG", "HUGHES, GRANT G", 200, dob="2000-10-18")
    older = [add(engine, "ctax", "AR", "REID, ALAN", 300), add(engine, "ctax", "AR2", "REID, ALAN", 301, dob="1950-01-02")]
    alan = add(engine, "ctax", "A", "REID, ALAN", 310)
    new_alan = add(engine, "ctax", "NEWA", "REID, ALAN", 320, dob="1990-05-06")
    records = pd.DataFrame([*brett, grant, new_grant, *older, alan, new_alan])
    existing = pd.DataFrame({"unique_id": [r["unique_id"] for r in (*brett, grant, *older, alan)],
                             "cluster_id": ["p1", "p1", "p2", "p3", "p3", "p4"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [new_grant["unique_id"], new_alan["unique_id"]],
                                                  "cluster_id": ["n1", "n2"]})])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert sorted(tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()) == sorted(
        [key(grant, new_grant), key(alan, new_alan)])


def test_a_new_account_given_its_uprn_later_by_an_address_steward_is_still_evidence(trusted_hub, standardised) -> None:
    """A new account arrives without a UPRN (its address went to the address custodian); once a steward resolves
    it, the next run looks for the move it may be. A person of long standing whose record changes is not a start,
    and nor is a record of the hub's first load (the backlog), however recently that ran."""
    engine, config = trusted_hub
    old = add(engine, "ctax", "OLD", "LINDSAY, MARK", 100, MOVED_OUT, changed=False)
    new = add(engine, "ctax", "NEW", "LINDSAY, M", 200, {"start_date": "2026-02-20"}, changed=True)  # UPRN just given
    veteran = add(engine, "ctax", "VET", "LINDSAY, MARK", 300, changed=True)
    with Session(engine) as s, s.begin():
        s.get(SourceRecord, int(veteran["unique_id"])).first_seen = (NOW - dt.timedelta(days=400)).replace(tzinfo=None)
        s.get(SourceRecord, int(new["unique_id"])).first_seen = (NOW - dt.timedelta(days=10)).replace(tzinfo=None)
    records = pd.DataFrame([old, new])
    clusters = pd.DataFrame({"unique_id": records["unique_id"], "cluster_id": ["p1", "p2"]})
    with Session(engine) as s:  # only the first load has run: the new account is part of the backlog
        assert move_evidence_pairs(s, config, records, clusters, clusters, now=NOW, standardised=standardised(records)).empty
    with Session(engine) as s, s.begin():  # the first load was a plain (incremental) run: still the backlog
        s.add(Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=30)).replace(tzinfo=None)))
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, clusters, now=NOW, standardised=standardised(records)).empty
    with Session(engine) as s, s.begin():
        s.add(Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=20)).replace(tzinfo=None)))
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, clusters, now=NOW, standardised=standardised(records))
        assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(old, new)]
        # joined to another person already: not a start
        together = clusters.assign(cluster_id=["p1", "p1"])
        assert move_evidence_pairs(s, config, records, together, clusters, now=NOW, standardised=standardised(records)).empty
        # a record first seen long ago is no newcomer
        records = pd.DataFrame([old, veteran])
        clusters = pd.DataFrame({"unique_id": records["unique_id"], "cluster_id": ["p1", "p3"]})
        assert move_evidence_pairs(s, config, records, clusters, clusters, now=NOW, standardised=standardised(records)).empty


def test_the_vectorised_name_checks_say_what_the_scalar_ones_say() -> None:
    from hub.identity_moves import _agreeing_first_names, _slipped_surnames, first_names_agree, surnames_agree

    words = ["john", "jon", "joan", "j", "k", "jack", "jcak", "duncan", "dnucan", "georgie", "george", "lee", "lea",
             "smith", "smyth", "alec", "alexander", "peggy", "margaret", "", None]
    a = pd.Series([p for p in words for _ in words], dtype=object)
    b = pd.Series([q for _ in words for q in words], dtype=object)
    assert _agreeing_first_names(a, b).tolist() == [first_names_agree(p, q) for p, q in zip(a, b)]
    assert _slipped_surnames(a, b).tolist() == [p != q and surnames_agree(p, q) for p, q in zip(a, b)]


def test_another_record_with_only_the_same_initial_does_not_hide_the_closure(trusted_hub, standardised) -> None:
    """"LINDSAY, M" opens; "LINDSAY, MARK" closed for a move; someone else is on file as "M LINDSAY". The same
    initial is no better a match than the closed account's full first name."""
    engine, config = trusted_hub
    mark = add(engine, "ctax", "MARK", "LINDSAY, MARK", 100, MOVED_OUT)
    initial = add(engine, "ctax", "INIT", "LINDSAY, M", 300, MOVED_OUT)
    new = add(engine, "ctax", "NEW", "LINDSAY, M", 200)
    records, existing, clusters = people([mark, initial], [new])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted([key(mark, new), key(initial, new)])


def test_names_compared_in_chunks_give_the_same_pairs() -> None:
    """Many new records at once (a newly connected source) are compared a chunk at a time, with the same result."""
    from hub.identity_moves import _same_person_names

    firsts = ["john", "jon", "j", "mary", "duncan", "dnucan", "bradley", "buckley"]
    lasts = ["smith", "smyth", "buckley", "bradley", "duncan"]
    left = pd.DataFrame([{"unique_id": f"n{i}", "first": f, "last": l, "middle": None, "dob": None}
                         for i, (f, l) in enumerate((f, l) for f in firsts for l in lasts)])
    right = left.assign(unique_id=left["unique_id"].str.replace("n", "o"))
    whole = _same_person_names(left, right, ("_new", "_old"))
    chunked = _same_person_names(left, right, ("_new", "_old"), chunk=3)
    key = ["unique_id_new", "unique_id_old", "tier"]
    assert len(whole) > len(left)
    assert whole[key].sort_values(key).values.tolist() == chunked[key].sort_values(key).values.tolist()


def test_persons_a_steward_parted_are_not_asked_about_again_on_a_name(trusted_hub) -> None:
    """The steward said the new tenant is not the Grant Hughes of record A1. His new council tax account, paired on
    its name with that person's other record A2, opens no task; between persons nobody parted, it does."""
    from hub.identity_moves import _pair_frame
    from hub.linking import _store_pairs
    from schemas import ReviewTask

    engine, _ = trusted_hub
    a1, a2 = add(engine, "ctax", "A1", "HUGHES, GRANT", 100), add(engine, "ctax", "A2", "HUGHES, GRANT G", 100)
    tenant, account = add(engine, "ctax", "T1", "HUGHES, GRANT", 200), add(engine, "ctax", "C1", "HUGHES, GRANT G", 200)
    ids = [int(r["unique_id"]) for r in (a1, a2, tenant, account)]
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ["p1", "p1", "p2", "p2"]})
    evidence = _pair_frame(pd.DataFrame({"new": [account["unique_id"]], "old": [a2["unique_id"]]}), "new", "old")
    parted = {(a1["unique_id"], tenant["unique_id"])}
    with Session(engine) as s, s.begin():
        assert _store_pairs(s, evidence, clusters, parted, None)[2] == 0
        assert _store_pairs(s, evidence, clusters, set(), None)[2] == 1
        assert s.scalar(select(func.count()).select_from(ReviewTask)) == 1


def test_a_persons_own_records_do_not_crowd_out_the_name_written_another_way(trusted_hub, standardised) -> None:
    """"MURPHY, CHLOE S" closes for a move; her roll entry "CHLOE S MURPHY" (same person, same address) matches her
    name exactly, "MURPHY, C S", newly liable elsewhere, only by initial. The exact match is no candidate (her own
    record), so it must not hide the one that is. Likewise a new "GEORGE CAMPBELL" beside a live George Campbell
    elsewhere still meets the closed "CAMPBELL, G A"."""
    engine, config = trusted_hub
    moved = {"start_date": "2008-04-26", "end_date": "2026-02-20", "end_reason": "MOVED OUT", "status": "CLOSED"}
    chloe = add(engine, "ctax", "CM", "MURPHY, CHLOE S", 100, moved, changed=True, days_ago=1)
    her_roll = add(engine, "ctax", "CMR", "CHLOE S MURPHY", 100, changed=False, days_ago=1)
    c_s = add(engine, "ctax", "NEWC", "MURPHY, C S", 200, {"start_date": "2026-02-20"}, changed=False, days_ago=1)
    records = pd.DataFrame([chloe, her_roll, c_s])
    clusters = pd.DataFrame({"unique_id": records["unique_id"], "cluster_id": ["p1", "p1", "p2"]})
    changed = {chloe["unique_id"]}
    with Session(engine) as s:
        found = closure_evidence_pairs(s, config, records, clusters, changed, now=NOW,
                                       names=names_of(standardised(records)))
    assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(chloe, c_s)]

    g_a = add(engine, "ctax", "GA", "CAMPBELL, G A", 300, moved, changed=True, days_ago=10)
    george = add(engine, "ctax", "GC", "GEORGE CAMPBELL", 310)  # another George, living elsewhere
    new_george = add(engine, "ctax", "NEWG", "GEORGE CAMPBELL", 320, {"start_date": "2026-02-25"})
    records, existing, clusters = people([g_a, george], [new_george])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert [tuple(p) for p in found[["unique_id_l", "unique_id_r"]].values.tolist()] == [key(g_a, new_george)]


def moved_recently(engine, record: dict, *, from_uprn: int, to_uprn: int, days_ago: int) -> None:
    """Give ``record`` a golden person whose residence at ``from_uprn`` ended ``days_ago`` (a move to ``to_uprn``)."""
    from schemas import GoldenPerson, Residence, Xref

    ended = (NOW - dt.timedelta(days=days_ago)).replace(tzinfo=None)
    with Session(engine) as s, s.begin():
        person = GoldenPerson(status="active", uprn=to_uprn)
        s.add(person)
        s.flush()
        s.add(Xref(source_record_id=int(record["unique_id"]), person_id=person.person_id, uprn=int(record["uprn"]),
                   link_band="singleton"))
        s.add_all([Residence(person_id=person.person_id, uprn=from_uprn, from_date=ended - dt.timedelta(days=900),
                             to_date=ended),
                   Residence(person_id=person.person_id, uprn=to_uprn, from_date=ended)])


def test_a_household_member_who_just_moved_singles_out_the_namesake_who_moved_with_them(trusted_hub, one_holder_asks,
                                                                                      standardised) -> None:
    """Thomas Watt has just moved to 200 (from 150, says his residence history; his roll entry still says 100).
    "WATT, LINDA" is newly at 200, and three Linda Watts live in the hub: the one at 100 is the question. John
    Alexander has just moved from 600 to 700 and "SMITH, JOAN" is newly at 700: of two Joan Smiths, the one at 600.
    Not when the moves were long ago."""
    engine, config = trusted_hub
    thomas, his_roll = add(engine, "ctax", "TW", "WATT, THOMAS", 200), add(engine, "ctax", "TWR", "WATT, THOMAS R", 100)
    lindas = [add(engine, "ctax", f"LW{u}", "WATT, LINDA", u) for u in (100, 300, 400)]
    new_linda = add(engine, "ctax", "NEWL", "WATT, LINDA", 200)
    john = add(engine, "ctax", "JA", "ALEXANDER, JOHN", 700)
    joans = [add(engine, "ctax", f"JS{u}", "SMITH, JOAN", u) for u in (600, 610)]
    new_joan = add(engine, "ctax", "NEWJ", "SMITH, JOAN", 700)
    records, existing, clusters = people([thomas, his_roll, *lindas, john, *joans], [new_linda, new_joan])
    existing.loc[existing["unique_id"] == his_roll["unique_id"], "cluster_id"] = "p0"  # one person, two records
    clusters.loc[clusters["unique_id"] == his_roll["unique_id"], "cluster_id"] = "p0"
    moved_recently(engine, thomas, from_uprn=150, to_uprn=200, days_ago=5)
    moved_recently(engine, john, from_uprn=600, to_uprn=700, days_ago=5)
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted([key(lindas[0], new_linda), key(joans[0], new_joan)])
    assert set(found["rule"]) == {MOVE_RULE}

    with Session(engine) as s, s.begin():  # the moves were long ago: they say nothing about today's arrivals
        s.execute(update(Residence).values(to_date=(NOW - dt.timedelta(days=400)).replace(tzinfo=None)))
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_a_previous_occupant_who_moved_away_is_no_companion(trusted_hub, one_holder_asks, standardised) -> None:
    """Thomas Watt has just moved from 200 to 100; his old roll entry still says 200. "WATT, LINDA" newly at 200 is
    not asked about the Linda Watt of 100: he left the address she came to."""
    engine, config = trusted_hub
    stale, now_at = add(engine, "ctax", "TWR", "WATT, THOMAS", 200), add(engine, "ctax", "TW", "WATT, THOMAS", 100)
    lindas = [add(engine, "ctax", f"LW{u}", "WATT, LINDA", u) for u in (100, 300)]
    new_linda = add(engine, "ctax", "NEWL", "WATT, LINDA", 200)
    records, existing, clusters = people([stale, now_at, *lindas], [new_linda])
    for frame in (existing, clusters):  # one person, two records
        frame.loc[frame["unique_id"] == now_at["unique_id"], "cluster_id"] = "p0"
    moved_recently(engine, stale, from_uprn=200, to_uprn=100, days_ago=5)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_a_household_that_came_from_one_address_with_two_namesakes_singles_out_nobody(trusted_hub, one_holder_asks, standardised) -> None:
    engine, config = trusted_hub
    thomas = add(engine, "ctax", "TW", "WATT, THOMAS", 200)
    mother, daughter = add(engine, "ctax", "LW1", "WATT, LINDA", 100), add(engine, "ctax", "LW2", "WATT, LINDA", 100)
    other = add(engine, "ctax", "LW3", "WATT, LINDA", 300)
    new_linda = add(engine, "ctax", "NEWL", "WATT, LINDA", 200)
    records, existing, clusters = people([thomas, mother, daughter, other], [new_linda])
    moved_recently(engine, thomas, from_uprn=100, to_uprn=200, days_ago=5)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_two_namesakes_who_arrive_together_single_each_other_out(trusted_hub, one_holder_asks, standardised) -> None:
    """Rachel Miller became a tenant at 200 four days ago, Henry Miller today. Two Henry Millers and three Rachel
    Millers live in the hub; only at 100 do a Henry and a Rachel live together. Both are put to a steward. Rachel
    alone, or a Rachel who arrived before the hub's last window, is no question."""
    engine, config = trusted_hub
    henrys = [add(engine, "ctax", f"HM{u}", "MILLER, HENRY", u) for u in (100, 500)]
    rachels = [add(engine, "ctax", f"RM{u}", "MILLER, RACHEL", u) for u in (100, 300, 400)]
    rachel = add(engine, "ctax", "NEWR", "MILLER, RACHEL", 200, days_ago=4)
    henry = add(engine, "ctax", "NEWH", "MILLER, HENRY", 200, days_ago=0)
    with Session(engine) as s, s.begin():  # the hub's first load ran before them all, and a run since
        s.add_all([Run(kind="full", status="ok", started_at=(NOW - dt.timedelta(days=60)).replace(tzinfo=None)),
                   Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=59)).replace(tzinfo=None))])
    records, existing, clusters = people([*henrys, *rachels, rachel], [henry])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted([key(henrys[0], henry), key(rachels[0], rachel)])

    records, existing, clusters = people([*henrys, *rachels], [rachel])  # Rachel on her own day: three holders
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty
    with Session(engine) as s, s.begin():  # Rachel has lived there longer than a move window
        s.get(SourceRecord, int(rachel["unique_id"])).first_seen = (NOW - dt.timedelta(days=120)).replace(tzinfo=None)
    records, existing, clusters = people([*henrys, *rachels, rachel], [henry])
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_a_pair_scored_as_before_is_not_rewritten(trusted_hub) -> None:
    """A nightly run re-scores a changed record's pairs; one whose weight, band and rule are as stored keeps its row
    untouched (its run_id says when its verdict last changed). A new verdict is written."""
    from hub.linking import _store_pairs
    from schemas import MatchPair

    engine, _ = trusted_hub
    a, b = add(engine, "ctax", "A", "HUGHES, GRANT", 100), add(engine, "ctax", "B", "HUGHES, GRANT", 100)
    clusters = pd.DataFrame({"record_id": [int(a["unique_id"]), int(b["unique_id"])], "cluster_id": ["p1", "p1"]})

    def scored(weight: float) -> pd.DataFrame:
        return pd.DataFrame({"unique_id_l": [a["unique_id"]], "unique_id_r": [b["unique_id"]], "match_weight": [weight],
                             "match_probability": [0.99], "band": ["auto"], "rule": [""], "weight_dob": [weight]})

    with Session(engine) as s, s.begin():
        s.add_all([Run(kind="incremental", status="ok"), Run(kind="incremental", status="ok"),
                   Run(kind="incremental", status="ok")])
    for run_id, weight in ((1, 20.5), (2, 20.5), (3, 18.0)):
        with Session(engine) as s, s.begin():
            _store_pairs(s, scored(weight), clusters, set(), run_id)
        with Session(engine) as s:
            pair = s.scalars(select(MatchPair)).one()
            assert (pair.run_id, pair.match_weight) == ({1: 1, 2: 1, 3: 3}[run_id], weight)
            assert pair.explanation == {"weight_dob": weight}


def test_an_address_where_many_persons_live_is_no_household(trusted_hub, one_holder_asks, standardised) -> None:
    """Thomas Watt has just moved into a hall of residence at 200 where nine others live: "WATT, LINDA" newly there is
    not asked about the Linda Watt of the address he came from."""
    engine, config = trusted_hub
    thomas = add(engine, "ctax", "TW", "WATT, THOMAS", 200)
    residents = [add(engine, "ctax", f"R{i}", f"STUDENT, NAME{chr(65 + i)}", 200) for i in range(9)]
    lindas = [add(engine, "ctax", f"LW{u}", "WATT, LINDA", u) for u in (100, 300)]
    new_linda = add(engine, "ctax", "NEWL", "WATT, LINDA", 200)
    records, existing, clusters = people([thomas, *residents, *lindas], [new_linda])
    moved_recently(engine, thomas, from_uprn=100, to_uprn=200, days_ago=5)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty
    records, existing, clusters = people([thomas, *residents[:6], *lindas], [new_linda])  # a household of eight
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(lindas[0], new_linda)]


def test_a_companion_the_hub_holds_twice_still_says_where_the_household_lived(trusted_hub, one_holder_asks, standardised) -> None:
    """Thomas Watt has just moved to 200 from 150, by his council tax account; the hub also holds him as a second
    person, "THOMAS ROBERT WATT" on the roll at 100. "WATT, LINDA" newly at 200 is asked about the Linda Watt of 100.
    A namesake of his whose records give another date of birth says nothing."""
    engine, config = trusted_hub
    thomas = add(engine, "ctax", "TW", "WATT, THOMAS", 200, dob="1990-09-08")
    on_roll = add(engine, "ctax", "TWR", "THOMAS ROBERT WATT", 100)
    lindas = [add(engine, "ctax", f"LW{u}", "WATT, LINDA", u) for u in (100, 300, 400)]
    new_linda = add(engine, "ctax", "NEWL", "WATT, LINDA", 200)
    records, existing, clusters = people([thomas, on_roll, *lindas], [new_linda])
    moved_recently(engine, thomas, from_uprn=150, to_uprn=200, days_ago=5)
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(lindas[0], new_linda)]

    other = add(engine, "ctax", "TWO", "THOMAS WATT", 100, dob="1950-01-01")  # an older Thomas Watt, not him
    records, existing, clusters = people([thomas, other, *lindas], [new_linda])
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW,
                                   standardised=standardised(records)).empty


def test_a_second_record_of_a_person_met_this_month_may_single_out_the_namesake(trusted_hub, standardised) -> None:
    """A tenancy for Grant Hughes (born 2000) made a person of its own last week: three persons hold the name, none
    with a date of birth, so no question. Today his council tax account joins that person as "HUGHES, GRANT G", and
    of the three only Grant Gerard Hughes Jr states a G: the question is asked now. Not when the person it joins
    was held before the window (an old person's new record is no arrival), and not before the hub's first load."""
    engine, config = trusted_hub
    junior = add(engine, "ctax", "JR", "HUGHES JR, GRANT GERARD", 100)
    senior = add(engine, "ctax", "SR", "HUGHES, GRANT BRETT", 100)
    other = add(engine, "ctax", "OT", "HUGHES, GRANT", 300)
    tenancy = add(engine, "ctax", "TEN", "HUGHES, GRANT", 200, dob="2000-10-18", days_ago=7)
    account = add(engine, "ctax", "CTN", "HUGHES, GRANT G", 200, days_ago=0)
    records = pd.DataFrame([junior, senior, other, tenancy, account])
    existing = pd.DataFrame({"unique_id": [r["unique_id"] for r in (junior, senior, other, tenancy)],
                             "cluster_id": ["p1", "p2", "p3", "p4"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [account["unique_id"]], "cluster_id": ["p4"]})])
    with Session(engine) as s:  # before the hub's first load has finished, every record is backlog
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records)).empty
    with Session(engine) as s, s.begin():
        s.add_all([Run(kind="full", status="ok", started_at=(NOW - dt.timedelta(days=30)).replace(tzinfo=None)),
                   Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=20)).replace(tzinfo=None))])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(junior, account)]
    # a second record that says nothing new asks nothing: its name one other person holds, as the first record's did
    alan = add(engine, "ctax", "AR", "REID, ALAN", 400)
    first = add(engine, "requests", "REQ", "REID, ALAN", 500, days_ago=7)
    second = add(engine, "ctax", "CT2", "REID, ALAN", 500, days_ago=0)
    plain = pd.DataFrame([alan, first, second])
    before = pd.DataFrame({"unique_id": [alan["unique_id"], first["unique_id"]], "cluster_id": ["q1", "q2"]})
    after = pd.concat([before, pd.DataFrame({"unique_id": [second["unique_id"]], "cluster_id": ["q2"]})])
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, plain, after, before, now=NOW, standardised=standardised(plain)).empty
    with Session(engine) as s, s.begin():  # the tenancy was the hub's long before: a person of long standing
        s.get(SourceRecord, int(tenancy["unique_id"])).first_seen = (NOW - dt.timedelta(days=400)).replace(tzinfo=None)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records)).empty


def test_a_move_question_already_open_between_two_persons_is_not_asked_twice(trusted_hub) -> None:
    """The new tenant's move question about Grant Hughes is still open when his council tax account joins him and
    singles out the same Grant Hughes: no second task. A question about another person is still asked."""
    from hub.identity_moves import _pair_frame
    from hub.linking import _store_pairs
    from schemas import ReviewTask

    engine, _ = trusted_hub
    old, other = add(engine, "ctax", "A1", "HUGHES, GRANT G", 100), add(engine, "ctax", "B1", "HUGHES, GRANT", 300)
    tenant, account = add(engine, "ctax", "T1", "HUGHES, GRANT", 200), add(engine, "ctax", "C1", "HUGHES, GRANT G", 200)
    ids = [int(r["unique_id"]) for r in (old, other, tenant, account)]
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ["p1", "p3", "p2", "p2"]})

    def asked(new: dict, held: dict) -> pd.DataFrame:
        return _pair_frame(pd.DataFrame({"new": [new["unique_id"]], "old": [held["unique_id"]]}), "new", "old")

    with Session(engine) as s, s.begin():
        assert _store_pairs(s, asked(tenant, old), clusters, set(), None)[2] == 1
        assert _store_pairs(s, asked(account, old), clusters, set(), None)[2] == 0
        assert _store_pairs(s, asked(account, other), clusters, set(), None)[2] == 1
        assert s.scalar(select(func.count()).select_from(ReviewTask)) == 2


def test_an_account_joining_a_person_met_this_month_is_paired_with_the_closure_elsewhere(trusted_hub,
                                                                                         standardised) -> None:
    """Alan Newman's bin request at his new address made a person of its own a week ago; it dates nothing, so when
    his council tax account at the old address closed, the closure found no dated start to pair with. Today his new
    council tax account, dated, joins that person: it is asked about the closure. Not when the closed account is
    the same person's already, and not when the person joined was the hub's long before the window."""
    engine, config = trusted_hub
    with Session(engine) as s, s.begin():
        s.add_all([Run(kind="full", status="ok", started_at=(NOW - dt.timedelta(days=30)).replace(tzinfo=None)),
                   Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=20)).replace(tzinfo=None))])
    closed = add(engine, "ctax", "OLD", "NEWMAN, ALAN", 100, MOVED, days_ago=3)
    request = add(engine, "requests", "REQ", "ALAN NEWMAN", 200, days_ago=7)
    account = add(engine, "ctax", "NEW", "NEWMAN, ALAN", 200, {"start_date": "2026-02-18"}, days_ago=0)
    records = pd.DataFrame([closed, request, account])
    existing = pd.DataFrame({"unique_id": [closed["unique_id"], request["unique_id"]], "cluster_id": ["p1", "p2"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [account["unique_id"]], "cluster_id": ["p2"]})])
    std = standardised(records)
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=std)
    assert pair_keys(found) == [key(closed, account)]
    assert set(found["band"]) == {"review"} and set(found["rule"]) == {MOVE_RULE}

    with Session(engine) as s:  # a steward already made the request and the closed account one person
        one = clusters.assign(cluster_id="p1")
        assert move_evidence_pairs(s, config, records, one, existing.assign(cluster_id="p1"), now=NOW,
                                   standardised=std).empty
    with Session(engine) as s, s.begin():  # the request was the hub's long before: no arrival, no question
        s.get(SourceRecord, int(request["unique_id"])).first_seen = (NOW - dt.timedelta(days=400)).replace(tzinfo=None)
    with Session(engine) as s:
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=std).empty


def test_a_household_member_who_arrived_earlier_asks_only_about_a_namesake_singled_out(trusted_hub,
                                                                                       standardised) -> None:
    """Rachel Miller became a tenant at 200 four days ago, when she could ask about each of the two Rachel Millers
    the hub holds; Henry Miller arrives at 200 today and asks about the one Henry Miller. Rachel's second chance
    (she arrived with Henry) asks only when Henry's household singles one Rachel out, and here none does."""
    engine, config = trusted_hub
    old_henry = add(engine, "ctax", "HM", "MILLER, HENRY", 500)
    rachels = [add(engine, "ctax", f"RM{u}", "MILLER, RACHEL", u) for u in (300, 400)]
    rachel = add(engine, "ctax", "NEWR", "MILLER, RACHEL", 200, days_ago=4)
    henry = add(engine, "ctax", "NEWH", "MILLER, HENRY", 200, days_ago=0)
    with Session(engine) as s, s.begin():
        s.add_all([Run(kind="full", status="ok", started_at=(NOW - dt.timedelta(days=60)).replace(tzinfo=None)),
                   Run(kind="incremental", status="ok", started_at=(NOW - dt.timedelta(days=59)).replace(tzinfo=None))])
    records, existing, clusters = people([old_henry, *rachels, rachel], [henry])
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(old_henry, henry)]
    records, existing, clusters = people([old_henry, *rachels], [rachel])  # on her own day she asked about each
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == sorted([key(rachels[0], rachel), key(rachels[1], rachel)])


def test_a_holder_by_initial_whose_records_name_someone_else_does_not_crowd_out_a_slip(trusted_hub,
                                                                                       standardised) -> None:
    """Lisa Quinn's new council tax account: the roll has her as "LISA QQINN" (a slip), and a bin request says "mr l
    quinn", whose person the roll calls Liam Quinn. The initial is Liam's, not a better holder of her name: she is
    asked about the roll entry. A person known only by the initial still holds the name better than a slip does."""
    engine, config = trusted_hub
    slip = add(engine, "ctax", "ER1", "LISA QQINN", 100)
    request, liam = add(engine, "requests", "SR1", "mr l quinn", 300), add(engine, "ctax", "ER2", "LIAM QUINN", 300)
    lisa = add(engine, "ctax", "NEW", "QUINN, LISA", 200)
    records, existing, clusters = people([slip, request, liam], [lisa])
    for frame in (existing, clusters):  # the request and the roll entry are one person
        frame.loc[frame["unique_id"] == liam["unique_id"], "cluster_id"] = "p1"
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(slip, lisa)]

    records, existing, clusters = people([slip, request], [lisa])  # nobody says who "l quinn" is
    with Session(engine) as s:
        found = move_evidence_pairs(s, config, records, clusters, existing, now=NOW, standardised=standardised(records))
    assert pair_keys(found) == [key(request, lisa)]
