"""The golden-record gate on a hand-built hub store: orphans, links to merged IDs and broken redirect chains."""

from __future__ import annotations

from pathlib import Path

from quality.gates import check_golden
from tests.quality.golden_store import build_store as _store


def test_consistent_golden_records_pass(council: Path) -> None:
    config, engine, run_id = _store(council, broken=False)
    result = check_golden(engine, config, run_id)
    assert result.passed, result.describe()
    assert result.metrics["active_persons"] == 1 and result.metrics["merged_ids"] == 1
    assert result.metrics["council_tax.duplicate_rate"] == 1.0  # both records share person 1


def test_orphans_links_to_merged_ids_and_redirect_cycles_block(council: Path) -> None:
    config, engine, run_id = _store(council, broken=True)
    result = check_golden(engine, config, run_id)
    assert result.blocking
    persons, xref = result.outcomes
    failed = {(r.column, tuple(r.failing_keys)) for r in persons.critical_failures}
    assert ("xref_count", ("3",)) in failed  # active person 3 has no source record
    assert ("final_status", ("4", "5")) in failed  # merged IDs whose chain never reaches an active person
    assert [(r.column, r.unexpected_count) for r in xref.critical_failures] == [("person_status", 1)]
    assert result.metrics["xref_to_inactive"] == 1 and result.metrics["broken_redirects"] == 2
