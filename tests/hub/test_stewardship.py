"""Steward actions change golden persons at once, are audited, and bind later runs as constraints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import stewardship as st
from hub.golden import resolve_person_id
from hub.linking import steward_constraints
from schemas import AuditLog, ChangeEvent, GoldenPerson, GoldenPersonVersion, ReviewTask, StewardDecision
from tests.api.steward_hub import StewardHub, build_hub


@pytest.fixture
def hub(tmp_path: Path) -> StewardHub:
    return build_hub(tmp_path)


def test_accept_merges_now_audits_and_binds(hub: StewardHub) -> None:
    p_c1, p_h1 = hub.person("C1"), hub.person("H1")
    assert p_c1 != p_h1
    with Session(hub.engine) as s, s.begin():
        result = st.accept_task(s, hub.config, hub.tasks[("C1", "H1")], steward="alice", reason="same NI history")
    assert hub.person("C1") == hub.person("H1") == min(p_c1, p_h1)
    with Session(hub.engine) as s:
        absorbed = s.get(GoldenPerson, max(p_c1, p_h1))
        assert (absorbed.status, absorbed.redirect_to) == ("merged", min(p_c1, p_h1))
        assert resolve_person_id(s, max(p_c1, p_h1)).person_id == min(p_c1, p_h1)
        task = s.get(ReviewTask, hub.tasks[("C1", "H1")])
        assert task.status == "resolved" and task.decision_id == result.decision_ids[0]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "steward.accept")).one()
        assert audit.actor == "alice" and audit.detail["reason"] == "same NI history"
        assert audit.detail["before"] and audit.detail["after"]
        assert s.scalar(select(func.count()).select_from(ChangeEvent).where(ChangeEvent.event_type == "merge")) == 1
        must, cannot = steward_constraints(s)
    pair = tuple(sorted((str(hub.records["C1"]), str(hub.records["H1"]))))
    assert pair in must and pair not in cannot


def test_reject_of_separate_persons_is_a_cannot_link(hub: StewardHub) -> None:
    before = (hub.person("E1"), hub.person("H2"))
    with Session(hub.engine) as s, s.begin():
        st.reject_task(s, hub.config, hub.tasks[("E1", "H2")], steward="bob", reason="different dob")
    assert (hub.person("E1"), hub.person("H2")) == before
    with Session(hub.engine) as s:
        _, cannot = steward_constraints(s)
    assert tuple(sorted((str(hub.records["E1"]), str(hub.records["H2"])))) in cannot


def test_reject_inside_one_person_splits_the_record_out(hub: StewardHub) -> None:
    pid = hub.person("C2")
    assert pid == hub.person("E2")
    with Session(hub.engine) as s, s.begin():
        result = st.reject_pair(s, hub.config, hub.records["C2"], hub.records["E2"], steward="bob", reason="twins")
    assert hub.person("C2") != hub.person("E2")
    assert pid in (hub.person("C2"), hub.person("E2"))
    assert result.golden is not None and result.golden.split == 1
    with Session(hub.engine) as s:
        assert s.scalar(select(func.count()).select_from(ChangeEvent).where(ChangeEvent.event_type == "split")) == 1


def test_accept_refuses_to_undo_a_reject_elsewhere(hub: StewardHub) -> None:
    with Session(hub.engine) as s, s.begin():
        st.reject_pair(s, hub.config, hub.records["C1"], hub.records["C2"], steward="bob", reason="father and son")
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["C1"], hub.records["H1"], steward="bob")
    with pytest.raises(st.Conflict, match="kept apart"), Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["H1"], hub.records["E2"], steward="bob")
    assert hub.person("H1") != hub.person("E2")


def test_rejecting_then_accepting_the_same_pair_supersedes(hub: StewardHub) -> None:
    a, b = hub.records["E1"], hub.records["H2"]
    with Session(hub.engine) as s, s.begin():
        st.reject_pair(s, hub.config, a, b, steward="bob")
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, a, b, steward="carol", reason="checked with resident")
    assert hub.person("E1") == hub.person("H2")
    with Session(hub.engine) as s:
        active = s.scalars(select(StewardDecision.action).where(StewardDecision.active.is_(True))).all()
    assert active == ["accept"]


def test_split_person_into_groups_stays_split(hub: StewardHub) -> None:
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["C1"], hub.records["H1"], steward="alice")
    pid = hub.person("C1")
    with Session(hub.engine) as s, s.begin():
        result = st.split_person(s, hub.config, pid, [[hub.records["C1"]], [hub.records["H1"]]], steward="alice",
                                 reason="merged in error")
    assert hub.person("C1") != hub.person("H1")
    assert len(result.person_ids) == 2
    with Session(hub.engine) as s:
        must, cannot = steward_constraints(s)
    pair = tuple(sorted((str(hub.records["C1"]), str(hub.records["H1"]))))
    assert pair in cannot and pair not in must


def test_split_groups_must_cover_the_person(hub: StewardHub) -> None:
    pid = hub.person("C2")
    with pytest.raises(st.StewardshipError, match="share out exactly"), Session(hub.engine) as s, s.begin():
        st.split_person(s, hub.config, pid, [[hub.records["C2"]], [hub.records["C1"]]], steward="x")


def test_override_survives_recompute_and_is_versioned(hub: StewardHub) -> None:
    pid = hub.person("E1")
    with Session(hub.engine) as s, s.begin():
        st.override_attribute(s, hub.config, pid, "last_name", "DOE-SMITH", steward="dana", reason="marriage certificate")
    with Session(hub.engine) as s:
        person = s.get(GoldenPerson, pid)
        assert person.last_name == "DOE-SMITH" and person.version == 2
        assert s.scalar(select(func.count()).select_from(GoldenPersonVersion).where(GoldenPersonVersion.person_id == pid)) == 2
    # A later merge recomputes survivorship: the override still wins.
    with Session(hub.engine) as s, s.begin():
        st.accept_pair(s, hub.config, hub.records["E1"], hub.records["H2"], steward="dana")
    with Session(hub.engine) as s:
        assert resolve_person_id(s, pid).last_name == "DOE-SMITH"


def test_override_needs_reason_and_valid_date(hub: StewardHub) -> None:
    pid = hub.person("E1")
    with pytest.raises(st.StewardshipError, match="reason"), Session(hub.engine) as s, s.begin():
        st.override_attribute(s, hub.config, pid, "last_name", "X", steward="d", reason=" ")
    with pytest.raises(st.StewardshipError, match="yyyy-mm-dd"), Session(hub.engine) as s, s.begin():
        st.override_attribute(s, hub.config, pid, "date_of_birth", "06/05/1980", steward="d", reason="r")


def test_bulk_accept_is_all_or_nothing(hub: StewardHub) -> None:
    with Session(hub.engine) as s, s.begin():
        results = st.bulk_accept(s, hub.config, [hub.tasks[("C1", "H1")], hub.tasks[("E1", "H2")]], steward="erin")
    assert len(results) == 2
    assert hub.person("C1") == hub.person("H1") and hub.person("E1") == hub.person("H2")
    with pytest.raises(st.Conflict, match="already"), Session(hub.engine) as s, s.begin():
        st.accept_task(s, hub.config, hub.tasks[("C1", "H1")], steward="erin")
