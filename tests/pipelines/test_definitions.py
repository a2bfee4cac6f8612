"""The Definitions load and resolve every job, schedule and sensor; `dagster definitions validate` accepts them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster import AssetCheckKey, AssetKey

from pipelines.definitions import build_definitions
from schemas.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_every_job_schedule_and_sensor_resolves(council: Path) -> None:
    defs = build_definitions(load_config(council), council)
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"nightly_sync", "delivery_retry"} <= jobs
    schedules = [defs.resolve_schedule_def(s.name) for s in defs.schedules]
    assert [(s.name, s.cron_schedule, s.job_name) for s in schedules] == [("nightly_sync_schedule", "30 1 * * *", "nightly_sync")]
    sensors = {s.name: defs.resolve_sensor_def(s.name) for s in defs.sensors}
    assert {n: s.job_name for n, s in sensors.items()} == {"csv_drop_sensor": "nightly_sync",
                                                          "delivery_retry_sensor": "delivery_retry"}
    graph = defs.resolve_asset_graph()
    checks = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    gates = {AssetCheckKey(AssetKey("extract_council_tax"), "extract_suite"),
             AssetCheckKey(AssetKey("extract_housing"), "extract_suite"),
             AssetCheckKey(AssetKey("extract_housing"), "extract_succeeded"),
             AssetCheckKey(AssetKey("resolved_addresses"), "addresses_suite"),
             AssetCheckKey(AssetKey("golden_persons"), "golden_suite")}
    assert gates <= set(checks)
    assert all(checks[k].blocking for k in gates)
    nightly = defs.resolve_job_def("nightly_sync")
    assert {"extract_council_tax_extract_suite", "golden_persons_golden_suite"} <= set(nightly.graph.node_dict)
    assert AssetKey("dq_report") in graph.get_all_asset_keys()


def test_dagster_cli_validates_the_definitions(council: Path, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "MDH_CONFIG": str(council), "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Validation successful" in done.stdout + done.stderr
