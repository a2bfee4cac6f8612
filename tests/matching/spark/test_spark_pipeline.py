"""The Spark linkage option in Dagster: hub.yaml's `spark:` adds a job that scores the hub's records on Spark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from dagster import AssetKey, DagsterInstance

from pipelines.definitions import build_definitions
from schemas.config import load_config
from tests.quality.council import write_council

from spark_fixtures import TEST_SPARK


def _council_with_spark(folder: Path) -> Path:
    path = write_council(folder, people=80)
    raw = yaml.safe_load(path.read_text())
    raw["spark"] = {"master": TEST_SPARK.master, "app_name": TEST_SPARK.app_name, "conf": TEST_SPARK.conf,
                    "work_dir": "spark_out"}  # fmt: skip
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_spark_job_writes_scored_pairs_and_clusters_beside_the_hub(spark, tmp_path: Path) -> None:  # noqa: ANN001
    config_path = _council_with_spark(tmp_path / "council")
    defs = build_definitions(load_config(config_path), config_path)
    nightly = defs.resolve_job_def("nightly_sync")
    assert "spark_scored_pairs" not in nightly.graph.node_dict  # the option never runs in the nightly job
    job = defs.resolve_job_def("linkage_spark")
    result = job.execute_in_process(instance=DagsterInstance.ephemeral())
    assert result.success
    meta = {e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events()}  # fmt: skip
    assert meta[AssetKey("person_extract")]["records"].value == 80
    scored = meta[AssetKey("spark_scored_pairs")]
    assert scored["model"].value == "fitted on a sample"  # no run has stored a model yet
    out = tmp_path / "council" / "spark_out"
    pairs = pd.read_parquet(out / "scored_pairs.parquet")
    clusters = pd.read_parquet(out / "clusters.parquet")
    assert len(pairs) == scored["pairs"].value > 0
    assert {"unique_id_l", "unique_id_r", "match_weight", "match_probability", "band", "rule"} <= set(pairs.columns)
    assert len(clusters) == 80 and clusters["cluster_id"].nunique() == scored["clusters"].value
