"""A job for the multiprocess run-lock test, importable by name in Dagster's step processes (test modules are not)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions, JobDefinition, define_asset_job

from pipelines.ingest.assets import build_extract_asset
from pipelines.resources import HubResource
from schemas.config import load_config

CONFIG_ENV = "MDH_TEST_LOCK_CONFIG"


def two_extracts_job() -> JobDefinition:
    """Every source's extract in one job (rebuilt in each step process from the hub.yaml named in CONFIG_ENV)."""
    config = Path(os.environ[CONFIG_ENV])
    cfg = load_config(config)
    defs = Definitions(assets=[build_extract_asset(s) for s in cfg.sources], jobs=[define_asset_job("two_extracts")],
                       resources={"hub": HubResource(config_path=str(config), run_lock_wait_s=120.0)})
    return defs.resolve_job_def("two_extracts")
