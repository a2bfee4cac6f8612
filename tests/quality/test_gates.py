"""The extract gate on a real hub store: clean extracts pass, completeness drift and mass quarantine are critical."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from quality.gates import check_extract, docs_dir
from quality.validate import build_data_docs, latest_outcomes
from schemas import DqMetric
from tests.quality.council import people_rows, write_source
from tests.quality.helpers import extract_run


def test_clean_extract_passes_and_records_metrics(council: Path) -> None:
    config, engine, run_id = extract_run(council)
    result = check_extract(engine, config, config.source("council_tax"), run_id)
    assert result.passed, result.describe()
    assert not result.blocking
    assert result.metrics["rows_loaded"] == 80 and result.metrics["completeness.postcode"] == 1.0
    with Session(engine) as s:
        metrics = {(m.metric, m.field): m.value for m in s.scalars(select(DqMetric).where(DqMetric.run_id == run_id))}
    assert metrics[("validity", "postcode")] == 1.0
    assert metrics[("quarantine_rate", None)] == 0.0
    assert metrics[("suite_success", "extract.council_tax")] == 1.0
    outcomes = latest_outcomes(docs_dir(config))
    page = docs_dir(config) / outcomes["extract.council_tax"]["docs_page"]
    assert not page.exists()  # pages are rendered once per run, by the report
    assert build_data_docs(docs_dir(config)) == 2 and build_data_docs(docs_dir(config)) == 0
    assert page.is_file() and (docs_dir(config) / "index.html").is_file()


def test_completeness_drift_since_previous_run_is_critical(council: Path) -> None:
    config, engine, run_id = extract_run(council)
    assert check_extract(engine, config, config.source("council_tax"), run_id).passed
    # Next night the source's postcode column comes back 40 % empty (a broken upstream export).
    write_source(council.parent / "sources" / "ctax.sqlite", people_rows(80, blank_postcodes=32))
    config, engine, run_id = extract_run(council)
    result = check_extract(engine, config, config.source("council_tax"), run_id)
    assert result.blocking
    failed = [r for o in result.outcomes for r in o.critical_failures]
    assert [(r.column, r.unexpected_count) for r in failed] == [("postcode", 32)]
    assert "completeness has not fallen" in result.describe()
    assert set(failed[0].failing_keys) <= {f"CT{i:05d}" for i in range(32)}


def test_mass_quarantine_is_critical_but_first_run_completeness_only_warns(council: Path) -> None:
    write_source(council.parent / "sources" / "ctax.sqlite",
                 people_rows(80, blank_postcodes=50, bad_postcodes=20))
    config, engine, run_id = extract_run(council)
    result = check_extract(engine, config, config.source("council_tax"), run_id)
    batch, extract = result.outcomes
    assert [r.column for r in batch.critical_failures] == ["quarantine_rate"]
    assert not extract.critical_failures  # no previous run: low completeness is a warning, not a gate
    assert [r.column for r in extract.warnings] == ["postcode"]
    assert result.metrics["quarantined"] == 20


def test_auto_band_uprn_missing_from_the_gazetteer_blocks(council: Path) -> None:
    from sqlalchemy import update

    from quality.gates import check_addresses
    from schemas import Property, SourceRecord

    config, engine, run_id = extract_run(council)
    with Session(engine) as s, s.begin():
        s.add_all([Property(uprn=100000000 + i) for i in range(60)])
        s.execute(update(SourceRecord).values(address_band="auto", address_score=0.995,
                                              matched_uprn=100000000 + SourceRecord.id % 60))
        s.execute(update(SourceRecord).where(SourceRecord.source_key == "CT00007").values(matched_uprn=999))
    result = check_addresses(engine, config, run_id)
    assert result.blocking
    (failed,) = result.outcomes[0].critical_failures
    assert (failed.column, failed.failing_keys) == ("gazetteer_uprn", ["CT00007"])
    assert result.metrics["council_tax.uprn_match_rate"] == 1.0


def test_stored_results_and_data_docs_carry_keys_not_values(council: Path) -> None:
    from quality.validate import build_data_docs

    write_source(council.parent / "sources" / "ctax.sqlite", people_rows(80))
    config, engine, run_id = extract_run(council)
    with Session(engine) as s, s.begin():
        from sqlalchemy import update

        from schemas import SourceRecord
        s.execute(update(SourceRecord).where(SourceRecord.source_key == "CT00003").values(date_of_birth="1977-13-45"))
    result = check_extract(engine, config, config.source("council_tax"), run_id)
    (failed,) = [r for o in result.outcomes for r in o.critical_failures]
    assert failed.failing_keys == ["CT00003"]
    build_data_docs(docs_dir(config))
    stored = [p.read_text(encoding="utf-8") for p in (docs_dir(config).parent).rglob("*") if p.suffix in (".json", ".html")]
    assert stored and not any("1977-13-45" in text for text in stored)
