"""The API under steady load on loopback while a nightly run writes to the same SQLite hub: no errors, p99 reported.

The longer, heavier version is ``benchmarks/reliability/load_during_run.py`` (figures in docs/RELIABILITY.md).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from tests.api.steward_hub import build_hub
from tests.conftest_servers import free_port
from tests.quality.council import people_rows, write_council
from tests.reliability.api_load import ApiServer, run_load
from tests.reliability.pipeline_runs import start_run

pytestmark = pytest.mark.slow

RATE = 40.0  # requests a second, bounded: at most SECONDS of it, and only while the run goes on
SECONDS = 30.0
P99_LIMIT_MS = 1000.0  # a loose ceiling for a loaded 2-core test machine; the benchmark reports the real figures


def test_api_serves_without_errors_while_a_run_writes(tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    hub = build_hub(tmp_path / "hub")  # golden persons, properties, events and tokens to read
    council = write_council(tmp_path / "council", people=40, drops=True)
    raw = yaml.safe_load(council.read_text(encoding="utf-8"))
    raw["hub"] = hub.config.hub  # the run writes into the hub the API serves
    raw["sources"][1]["name"] = "tenancies"
    council.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    lines = ["tenancy,tenant,address,postcode"] + [f'H{i:04d},{r["name"]},"{r["addr"]}",{r["pc"]}'
                                                   for i, r in enumerate(people_rows(20))]
    (council.parent / "drops" / "housing" / "tenants_0001.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    persons = [hub.person(k) for k in ("C1", "H1", "E1", "H2", "C2")]
    urls = itertools.cycle([
        *[("person", f"/api/v1/persons/{p}") for p in persons],
        ("xref", "/api/v1/xref/ctax/C1"), ("xref", "/api/v1/xref/electoral/E1"),
        ("search", "/api/v1/search/persons?name=john%20smith&dob=1995-03-04"),
        ("changes", "/api/v1/changes?after=0&limit=50"),
        ("property", "/api/v1/properties/100001"), ("residents", "/api/v1/properties/100001/residents"),
    ])
    plan = [next(urls) for _ in range(int(RATE * SECONDS))]

    with ApiServer(council, free_port(), tmp_path / "api.log") as server:
        run = start_run(council)
        run.wait_for("▶ extract_council_tax")  # the run is writing: load from now until it ends
        result = run_load(server.port, hub.tokens["reader"], lambda i: plan[i], rate=RATE, seconds=SECONDS,
                          stop=lambda: run.proc.poll() is not None)
        rc, out, err = run.finish()
        log = server.log_text()

    print(f"\nAPI under load during `mdh run`: {result.summary()}")
    assert rc == 0, f"the nightly run failed under API load:\n{out[-2000:]}\n{err[-2000:]}"
    assert "✔ golden_persons" in out
    assert len(result.statuses) >= 100, "the run ended before enough load was applied"
    assert result.failed == 0, f"errors under load: {dict(result.errors)}"
    assert set(result.statuses) <= {200}, f"statuses: {set(result.statuses)}"
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    assert result.percentile_ms(99) < P99_LIMIT_MS, result.summary()
