"""The golden gate validates a selection (changed rows plus every breaking row, found in SQL) yet must report what
validating every golden person and cross-reference would: same counts, percentages, failing keys and metrics."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quality.gates import check_golden
from quality.metrics import duplicate_rates, golden_metrics
from quality.sql_checks import breaks, unjudged
from quality.store import person_columns, golden_frames
from quality.suites import Expect, golden_person_suite, golden_xref_suite
from quality.validate import run_suite
from schemas import GoldenPerson, SourceRecord, SourceSystem, Xref
from tests.quality.golden_store import build_store
from tests.quality.helpers import new_run


def _break_everything(engine, hub_db: Path) -> None:  # noqa: ANN001 - an Engine
    """Every kind of breakage the suites know, on persons and links that did not change in the run."""
    with Session(engine) as s, s.begin():
        system = s.scalar(select(SourceSystem))
        other = SourceSystem(name="housing", kind="person", trust=2)
        s.add(other)
        s.flush()

        def record(src: SourceSystem, key: str, **kw) -> int:  # noqa: ANN003
            rec = SourceRecord(source_id=src.id, source_key=key, kind=kw.pop("kind", "person"), raw={},
                               content_hash=key, **kw)
            s.add(rec)
            s.flush()
            return rec.id

        s.add_all([GoldenPerson(person_id=6, status="merged"),  # merged, no redirect
                   GoldenPerson(person_id=7, status="active", redirect_to=1),  # active yet redirects
                   GoldenPerson(person_id=8, status="retired", redirect_to=4),  # a chain into the cycle
                   GoldenPerson(person_id=9, status="active", nino="nonsense", date_of_birth="1980-13-01",
                                postcode="SW1A1AA"),
                   GoldenPerson(person_id=10, status="zombie"),
                   GoldenPerson(person_id=11, status="active", postcode="SW1A 1AA\n")])  # $ matches before \n
        s.flush()
        s.add_all([Xref(source_record_id=record(system, "A4", deleted=True), person_id=1, link_band="auto"),
                   Xref(source_record_id=record(system, "A5"), person_id=9, link_band="auto"),
                   Xref(source_record_id=record(other, "H1"), person_id=1, link_band="auto"),
                   Xref(source_record_id=record(other, "H2"), person_id=1, link_band="auto"),
                   Xref(source_record_id=record(other, "H3", kind="property"), person_id=11, link_band="auto"),
                   Xref(source_record_id=record(other, "H4"), person_id=10, link_band="auto")])
    with sqlite3.connect(hub_db) as raw:  # foreign keys are off here: links to nothing
        raw.execute("INSERT INTO xref (source_record_id, person_id, link_band, linked_at) "
                    "VALUES (9001, 1, 'auto', '2000-01-01 00:00:00'), (9002, 999, 'auto', '2000-01-01 00:00:00')")
    raw.close()


def _age_everything(engine) -> None:  # noqa: ANN001
    with Session(engine) as s, s.begin():
        old = s.scalar(select(GoldenPerson.created_at).limit(1)).replace(year=2000)
        s.execute(update(GoldenPerson).values(updated_at=old))
        s.execute(update(Xref).values(linked_at=old))


def _reference(engine, docs: Path):  # noqa: ANN001, ANN202 - outcomes and metrics over every row
    persons, xrefs = golden_frames(engine)
    outcomes = [run_suite(golden_person_suite(), persons, docs_dir=docs, key_column="person_id"),
                run_suite(golden_xref_suite(), xrefs, docs_dir=docs, key_column="source_record_id")]
    metrics = {m.metric: m.value for m in golden_metrics(persons, xrefs)}
    metrics.update({f"{k}.duplicate_rate": v for k, v in duplicate_rates(xrefs).items()})
    return outcomes, metrics


def _facts(outcome):  # noqa: ANN001, ANN202
    return outcome.rows, [(r.column, r.kind, r.success, r.unexpected_count, r.unexpected_percent, r.failing_keys)
                          for r in outcome.results]


@pytest.mark.parametrize("changed", [False, True])
def test_selection_reports_as_the_whole_hub(council: Path, tmp_path: Path, changed: bool) -> None:
    config, engine, _ = build_store(council, broken=True)
    _break_everything(engine, council.parent / "hub.db")
    _age_everything(engine)
    run_id = new_run(engine)
    if changed:  # some persons and links, broken or not, changed in the run
        later = dt.datetime(2999, 1, 1)
        with Session(engine) as s, s.begin():
            s.execute(update(GoldenPerson).where(GoldenPerson.person_id.in_([1, 4, 9])).values(updated_at=later))
            s.execute(update(Xref).where(Xref.person_id == 1).values(linked_at=later))
    expected, metrics = _reference(engine, tmp_path / "reference")
    result = check_golden(engine, config, run_id)
    assert [_facts(o) for o in result.outcomes] == [_facts(o) for o in expected]
    assert result.metrics == metrics
    assert result.blocking
    assert metrics["broken_redirects"] == 3 and metrics["xref_to_inactive"] == 3  # 4, 5 and 8; 2, 10, 999


def test_every_person_expectation_is_judged_in_sql_or_by_the_gate() -> None:
    left = [(e.kind, e.column) for e in unjudged(golden_person_suite().expectations, person_columns())]
    assert left == [("ExpectColumnValuesToBeUnique", "person_id"), ("ExpectColumnValuesToBeInSet", "final_status")]


def test_a_share_is_not_a_row_level_check() -> None:
    with pytest.raises(ValueError, match="mostly"):
        breaks(Expect("ExpectColumnValuesToNotBeNull", {"column": "nino", "mostly": 0.9}), person_columns())
