"""The Great Expectations gates run as asset checks in-process: they pass on a clean council, record metric
history and the report, and a broken extract stops the run before address matching (blocking check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.store import open_hub
from pipelines.definitions import build_definitions
from schemas import DqMetric, Run
from schemas.config import load_config
from tests.quality.council import people_rows, write_source

pytestmark = pytest.mark.slow
BEFORE_PUBLISH = ["gazetteer", "extract_council_tax", "extract_housing", "resolved_addresses", "golden_persons", "dq_report"]


def _run(council: Path, assets: list[str]):  # noqa: ANN202 - an ExecuteInProcessResult
    defs = build_definitions(load_config(council), council)
    job = defs.resolve_job_def("nightly_sync")
    return job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False,
                                  asset_selection=[AssetKey(a) for a in assets])


def _checks(result) -> dict[str, object]:  # noqa: ANN001
    return {f"{d.asset_key.to_user_string()}:{d.check_name}": d
            for d in (e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION")}


def _materialized(result) -> dict[str, dict]:  # noqa: ANN001
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_gates_pass_record_history_and_write_the_report(council: Path) -> None:
    (council.parent / "drops" / "housing" / "tenants_01.csv").write_text(
        "tenancy,tenant,address,postcode\nT1,Anna Smith,1 High Street,AB1 2DE\nT2,Ben Jones,1 Mill Lane,AB1 3EF\n",
        encoding="utf-8")
    result = _run(council, BEFORE_PUBLISH)
    assert result.success
    checks = _checks(result)
    for name in ("extract_council_tax:extract_suite", "extract_housing:extract_suite",
                 "resolved_addresses:addresses_suite", "golden_persons:golden_suite"):
        assert checks[name].passed, name
    meta = _materialized(result)
    assert meta["extract_council_tax"]["loaded"] == 80 and meta["extract_council_tax"]["quarantined"] == 0
    assert 0 <= meta["resolved_addresses"]["uprn_match_rate"] <= 1
    assert meta["golden_persons"]["golden_created"] > 0 and "review_queue" in meta["golden_persons"]
    report = Path(meta["dq_report"]["path"])
    assert report == council.parent / "reports" / "dq" / "index.html" and report.is_file()
    engine = open_hub(load_config(council).hub)
    with Session(engine) as s:
        sources = set(s.scalars(select(DqMetric.source).distinct()))
        assert {"council_tax", "housing", "golden"} <= sources
        assert s.scalar(select(func.count()).where(DqMetric.metric == "uprn_match_rate")) == 2


def test_broken_extract_is_blocked_before_address_matching(council: Path) -> None:
    assert _run(council, ["gazetteer", "extract_council_tax"]).success
    # Next night a broken export: 40 % of council tax accounts arrive without a postcode.
    write_source(council.parent / "sources" / "ctax.sqlite", people_rows(80, blank_postcodes=32))
    report = council.parent / "reports" / "dq" / "index.html"
    report.unlink(missing_ok=True)
    result = _run(council, ["gazetteer", "extract_council_tax", "resolved_addresses", "golden_persons"])
    assert not result.success
    check = _checks(result)["extract_council_tax:extract_suite"]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert "postcode" in check.metadata["failures"].value
    assert "extract_council_tax" in _materialized(result)
    assert not {"resolved_addresses", "golden_persons"} & set(_materialized(result))
    assert report.is_file() and "failed" in report.read_text(encoding="utf-8")  # written by the failure hook
    engine = open_hub(load_config(council).hub)
    with Session(engine) as s:
        runs = s.scalar(select(func.count()).select_from(Run))
        assert s.scalar(select(DqMetric.value).where(DqMetric.metric == "suite_success",
                                                     DqMetric.field == "extract.council_tax",
                                                     DqMetric.run_id == runs)) == 0.0
