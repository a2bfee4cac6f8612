"""The address and golden gates validate changed rows plus whole-hub violators: a broken record that did not
change in the run must still fail the gate, with its key reported and whole-hub counts unchanged."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quality.gates import check_addresses, check_golden
from schemas import GoldenPerson, Property, SourceRecord, Xref
from tests.quality.golden_store import build_store
from tests.quality.helpers import extract_run, new_run


def test_unchanged_auto_band_uprn_missing_from_gazetteer_blocks(council: Path) -> None:
    config, engine, _ = extract_run(council)
    with Session(engine) as s, s.begin():
        s.add_all([Property(uprn=100000000 + i) for i in range(60)])
        s.execute(update(SourceRecord).values(address_band="auto", address_score=0.995,
                                              matched_uprn=100000000 + SourceRecord.id % 60))
        s.execute(update(SourceRecord).where(SourceRecord.source_key == "CT00042").values(matched_uprn=999))
    run_id = new_run(engine)  # a later run in which no record changed
    result = check_addresses(engine, config, run_id)
    assert result.blocking
    (failed,) = result.outcomes[0].critical_failures
    assert (failed.column, failed.failing_keys, failed.unexpected_count) == ("gazetteer_uprn", ["CT00042"], 1)
    assert failed.unexpected_percent == 100 / 80 and result.outcomes[0].rows == 80


def test_unchanged_match_rate_drift_is_judged_on_the_whole_hub(council: Path) -> None:
    config, engine, _ = extract_run(council)
    with Session(engine) as s, s.begin():
        s.add_all([Property(uprn=100000000 + i) for i in range(60)])
        s.execute(update(SourceRecord).values(address_band="auto", address_score=0.995,
                                              matched_uprn=100000000 + SourceRecord.id % 60))
    assert check_addresses(engine, config, new_run(engine)).passed
    with Session(engine) as s, s.begin():  # half the hub falls to review, none of it "changed"
        s.execute(update(SourceRecord).where(SourceRecord.id % 2 == 0).values(address_band="review"))
    result = check_addresses(engine, config, new_run(engine))
    assert result.blocking and result.metrics["council_tax.uprn_match_rate"] == 0.5
    (failed,) = result.outcomes[0].critical_failures
    assert failed.column == "auto_share" and failed.unexpected_count == 40 and failed.unexpected_percent == 50.0


def test_unchanged_orphan_and_xref_to_merged_id_block(council: Path) -> None:
    config, engine, _ = build_store(council, broken=True)
    run_id = new_run(engine)
    with Session(engine) as s, s.begin():  # nothing changed in this run: stamps before its start
        started = s.scalar(select(GoldenPerson.created_at).limit(1))
        s.execute(update(GoldenPerson).values(updated_at=started.replace(year=2000)))
        s.execute(update(Xref).values(linked_at=started.replace(year=2000)))
    result = check_golden(engine, config, run_id)
    assert result.blocking
    persons, xref = result.outcomes
    failed = {(r.column, tuple(r.failing_keys)) for r in persons.critical_failures}
    assert ("xref_count", ("3",)) in failed and ("final_status", ("4", "5")) in failed
    assert [(r.column, r.unexpected_count) for r in xref.critical_failures] == [("person_status", 1)]
    assert persons.rows == 5 and xref.rows == 3
    assert result.metrics["xref_to_inactive"] == 1 and result.metrics["broken_redirects"] == 2
    assert result.metrics["active_without_xref"] == 1
