"""Assembles the hub's Dagster definitions from hub.yaml (path in MDH_CONFIG, default ./hub.yaml)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions

from pipelines.ingest.assets import build_extract_assets, extract_asset_name
from pipelines.jobs import build_schedules, nightly_job
from pipelines.linkage.assets import build_linkage_assets
from pipelines.publish.assets import deliveries
from pipelines.quality.assets import run_summary
from pipelines.reference.assets import gazetteer
from pipelines.resources import HubResource
from schemas.config import DEFAULT_CONFIG_FILE, HubConfig, load_config

CONFIG_ENV = "MDH_CONFIG"


def build_definitions(config: HubConfig, config_path: str | Path, *, full_rebuild: bool = False) -> Definitions:
    """Every asset, check, job and schedule for one hub configuration."""
    extracts = build_extract_assets(config)
    linkage = build_linkage_assets([extract_asset_name(s) for s in config.sources])
    return Definitions(
        assets=[gazetteer, *extracts, *linkage, deliveries, run_summary],
        jobs=[nightly_job],
        schedules=build_schedules(config),
        resources={"hub": HubResource(config_path=str(config_path), full_rebuild=full_rebuild)},
    )


def _definitions_from_environment() -> Definitions:
    path = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
    return build_definitions(load_config(path), path.resolve())


defs = _definitions_from_environment()
