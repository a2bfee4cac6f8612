"""The analysts' report: built from real metric history, rendered in headless Chromium with its charts drawn."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli_dq import dq_app
from quality.gates import check_extract
from quality.report import render_report
from tests.quality.council import people_rows, write_council, write_source
from tests.quality.helpers import extract_run

CHROMIUM = Path("/usr/bin/chromium")
CHARTS = ("trend-uprn", "trend-completeness", "trend-quarantine", "scorecard-chart", "worst-fields", "quarantine-reasons")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three nightly runs of the tiny council with some quarantined postcodes; returns hub.yaml."""
    council = write_council(tmp_path_factory.mktemp("history") / "council")
    for bad in (0, 4, 9):
        write_source(council.parent / "sources" / "ctax.sqlite", people_rows(80, bad_postcodes=bad, placeholders=bad))
        config, engine, run_id = extract_run(council)
        check_extract(engine, config, config.source("council_tax"), run_id)
        # Address linkage figures as the address gate records them (the matcher itself is not under test here).
        from quality.metrics import Metric, record_metrics

        record_metrics(engine, run_id, "council_tax", [Metric("uprn_match_rate", 0.8 + bad / 100)])
    return council


def test_cli_writes_report_with_tables_and_data_docs_link(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(dq_app, ["report", "--out", str(out), "--config", str(history)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="scorecard"' in page and "council_tax" in page
    assert "malformed postcode" in page  # top quarantine reasons
    placeholders = page.split('id="placeholders">')[1].split("</div>")[0]  # last run: 9 of the 71 loaded
    assert "<td class=\"l\">full_name</td><td class=\"\">12.7%</td>" in placeholders
    assert "date_of_birth" in placeholders and "postcode" not in placeholders
    assert "<script" not in page and "<link" not in page  # no JavaScript, no stylesheet: nothing fetched
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    for chart in CHARTS:
        assert f'id="{chart}"' in page, chart
    docs_link = page.split('id="data-docs" href="')[1].split('"')[0]
    assert (out / docs_link).resolve().is_file()


def test_cli_names_a_bad_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(dq_app, ["report", "--out", str(tmp_path), "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "configuration file not found" in result.output


def _chromium():  # noqa: ANN202 - a Playwright sync API module, or a skip
    if not CHROMIUM.is_file() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")


def test_report_charts_are_drawn_in_headless_chromium(history: Path, tmp_path: Path) -> None:
    sync_api = _chromium()
    from PIL import Image

    from schemas.config import load_config
    from hub.store import open_hub

    config = load_config(history)
    summary = render_report(open_hub(config.hub), config, tmp_path / "report")
    assert summary.charts >= len(CHARTS)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(summary.path.as_uri())
            assert page.title().startswith("Data quality")
            for chart in CHARTS:
                svg = page.locator(f"svg#{chart}")
                box = svg.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 80, chart
                assert svg.locator("path").count() > 5, chart  # axes, ticks, lines or bars
                shot = Image.open(io.BytesIO(svg.screenshot())).convert("L")
                dark = sum(shot.histogram()[:200])  # pixels darker than light grey
                assert dark > 500, f"{chart}: nothing drawn ({dark} dark pixels)"
            assert page.locator("#scorecard tbody tr").count() == 1
            assert not failed
        finally:
            browser.close()


def test_report_of_a_new_hub_says_there_is_no_data_yet(council: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(dq_app, ["report", "--out", str(tmp_path / "r"), "--config", str(council)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "No runs yet" in page and "No data yet for" in page and "<svg" not in page


def test_report_lists_property_linkage_and_open_findings(history: Path, tmp_path: Path) -> None:
    """GeoPlace-style linkage figures and the property cross-check findings appear, by record key only."""
    from sqlalchemy.orm import Session

    from hub.store import open_hub
    from quality.metrics import Metric, record_metrics
    from schemas.config import load_config
    from schemas.property import DqFinding

    config = load_config(history)
    engine = open_hub(config.hub)
    record_metrics(engine, None, "council_tax", [Metric("uprn_linked_rate", 0.97, "uprn"),
                                                 Metric("historical_address_rate", 0.02, "uprn")])
    with Session(engine) as s, s.begin():
        s.add(DqFinding(finding_key="two_live_council_tax_accounts:42", check_name="two_live_council_tax_accounts",
                        uprn=42, records=[{"source": "council_tax", "source_key": "CT1"},
                                          {"source": "council_tax", "source_key": "CT2"}]))
    summary = render_report(engine, config, tmp_path / "report")
    page = summary.path.read_text(encoding="utf-8")
    linkage = page.split('id="geoplace-linkage"')[1].split("</div>")[0]
    assert "97.0%" in linkage and "2.0%" in linkage
    findings = page.split('id="findings"')[1].split("</div>")[0]
    assert "two_live_council_tax_accounts" in findings and "council_tax:CT1" in findings
