"""Fixtures for the Spark path: a local[2] session (skipped without pyspark or Java) and a synthetic council."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from connectors.pull import mapped_person_rows
from matching.spark import SparkUnavailableError, require_spark, spark_session
from schemas.config import load_config
from spark_fixtures import TEST_SPARK


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    try:
        require_spark()
    except SparkUnavailableError as e:
        pytest.skip(f"Spark path not testable here: {e}")
    session = spark_session(TEST_SPARK)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def council_person_records(folder: Path) -> pd.DataFrame:
    """Every person source of a synthetic council read through its hub.yaml field maps, with the true UPRN."""
    records = mapped_person_rows(load_config(folder / "hub.yaml").sources)  # as the hub reads them
    truth = pd.read_csv(folder / "truth" / "records.csv", dtype=str).drop_duplicates(["source", "source_key"], keep="last")
    records = records.merge(truth[["source", "source_key", "uprn"]], on=["source", "source_key"], how="left")
    records["unique_id"] = records["source"] + ":" + records["source_key"]
    records = records.drop(columns=["source_key"])
    return records.astype(object).where(records.notna(), None)


@pytest.fixture(scope="session")
def council_people(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    import synthetic

    folder = tmp_path_factory.mktemp("spark_council")
    synthetic.write_council(folder, synthetic.SynthSettings(people=2000, seed=11))
    return council_person_records(folder)
