"""Spark settings from hub.yaml's ``spark:`` section, and a session built from them."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from matching.spark.errors import SparkUnavailableError
from schemas.config import SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Scoring runs pandas UDFs: Arrow must be on, and each Arrow batch of scored pairs stays a few MB.
DEFAULTS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
    "spark.sql.adaptive.enabled": "true",
}


def spark_conf(config: SparkConfig) -> dict[str, str]:
    """Flat ``spark.*`` settings (what ``spark-submit --conf`` and Dagster's ``PySparkResource`` take).

    Examples:
        >>> spark_conf(SparkConfig(master="yarn", conf={"spark.executor.memory": "8g"}))["spark.master"]
        'yarn'
    """
    return {
        **DEFAULTS,
        "spark.master": config.master,
        "spark.app.name": config.app_name,
        "spark.submit.deployMode": config.deploy_mode,
        **{str(k): str(v) for k, v in config.conf.items()},
    }


def require_spark() -> None:
    """Raise ``SparkUnavailableError`` saying what is missing when pyspark or Java is absent."""
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise SparkUnavailableError("pyspark is not installed: pip install '.[spark]'") from e
    if shutil.which("java") is None:
        import os

        if not os.environ.get("JAVA_HOME"):
            raise SparkUnavailableError("no Java runtime found (java on PATH or JAVA_HOME): Spark needs Java 17+")


def spark_session(config: SparkConfig) -> SparkSession:
    """The active session or a new one with ``config`` (``getOrCreate``: on Databricks, the cluster's own)."""
    require_spark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in spark_conf(config).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
