"""The Spark linkage option in Dagster: hub.yaml's `spark:` adds a job that scores the hub's records on Spark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from dagster import AssetKey, DagsterInstance

from pipelines.definitions import build_definitions
from schemas.config import load_config
from synthetic import SynthSettings, write_council

from spark_fixtures import TEST_SPARK


def _council_with_spark(folder: Path, people: int) -> Path:
    """The synthetic council (every source, households, noise) with a ``spark:`` section in its hub.yaml."""
    path = write_council(folder, SynthSettings(people=people, days=0, seed=5)).hub_yaml
    raw = yaml.safe_load(path.read_text())
    raw["spark"] = {"master": TEST_SPARK.master, "app_name": TEST_SPARK.app_name, "conf": TEST_SPARK.conf,
                    "work_dir": "spark_out"}  # fmt: skip
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _people(config_path: Path) -> set[frozenset[tuple[str, str]]]:
    """Each golden person as the set of (source, source key) it holds: comparable across two hubs."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from hub.store import open_hub
    from schemas import SourceRecord, SourceSystem, Xref

    engine = open_hub(load_config(config_path).hub)
    with Session(engine) as session:
        rows = session.execute(select(Xref.person_id, SourceSystem.name, SourceRecord.source_key)
                               .join(SourceRecord, SourceRecord.id == Xref.source_record_id)
                               .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)).all()
    engine.dispose()
    people: dict[int, set[tuple[str, str]]] = {}
    for person, source, key in rows:
        people.setdefault(person, set()).add((source, key))
    return {frozenset(p) for p in people.values()}


def test_spark_job_stores_the_same_golden_persons_as_a_local_run(spark, tmp_path: Path) -> None:  # noqa: ANN001
    on_spark, local = _council_with_spark(tmp_path / "spark", 150), _council_with_spark(tmp_path / "local", 150)
    defs = build_definitions(load_config(on_spark), on_spark)
    nightly = defs.resolve_job_def("nightly_sync")
    assert "golden_persons_spark" not in nightly.graph.node_dict  # the option never runs in the nightly job
    result = defs.resolve_job_def("linkage_spark").execute_in_process(instance=DagsterInstance.ephemeral())
    assert result.success
    meta = {e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events()}  # fmt: skip
    stored = meta[AssetKey("golden_persons_spark")]
    records = stored["records"].value
    assert records > 150 and stored["auto_pairs"].value > 0 and stored["golden_created"].value > 0
    out = tmp_path / "spark" / "spark_out"
    pairs = pd.read_parquet(out / "scored_pairs.parquet")
    assert {"unique_id_l", "unique_id_r", "match_weight", "match_probability", "band", "rule"} <= set(pairs.columns)
    assert len(pd.read_parquet(out / "clusters.parquet")) == records

    local_defs = build_definitions(load_config(local), local, full_rebuild=True)
    assert local_defs.resolve_job_def("nightly_sync").execute_in_process(instance=DagsterInstance.ephemeral()).success
    people = _people(on_spark)
    assert sum(len(p) > 1 for p in people) > 50  # a real comparison: many people held in several systems
    assert people == _people(local)
