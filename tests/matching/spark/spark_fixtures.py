"""Helpers for the Spark tests: the small, quiet local session settings."""

from __future__ import annotations

from schemas.config import SparkConfig

# Small and quiet: two cores, a few shuffle partitions, no web UI (start-up is most of a test's time).
TEST_SPARK = SparkConfig(
    master="local[2]",
    app_name="mdh-tests",
    conf={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
          "spark.driver.memory": "1g", "spark.ui.showConsoleProgress": "false"},
)  # fmt: skip
