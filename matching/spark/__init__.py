"""Person linkage on Apache Spark: the local engine's functions applied block by block (optional extra ``spark``).

Importing this package does not import pyspark; the functions that need it import it when called.
"""

from __future__ import annotations

from matching.spark.clusters import cluster_scored_pairs, clusters_for_all
from matching.spark.engine import SparkLinkResult, fit_model_on_sample, link_people_spark, standardise_on_spark
from matching.spark.errors import SparkMatchingError, SparkUnavailableError
from matching.spark.session import require_spark, spark_conf, spark_session

__all__ = [
    "SparkLinkResult",
    "SparkMatchingError",
    "SparkUnavailableError",
    "cluster_scored_pairs",
    "clusters_for_all",
    "fit_model_on_sample",
    "link_people_spark",
    "require_spark",
    "spark_conf",
    "spark_session",
    "standardise_on_spark",
]
