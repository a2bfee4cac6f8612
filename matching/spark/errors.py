"""Exceptions raised by the Spark execution path (one base class, a subclass of ``MatchingError``)."""

from __future__ import annotations

from matching.errors import MatchingError


class SparkMatchingError(MatchingError):
    """Base class for every error raised by ``matching.spark`` (names the stage and column, never a value)."""


class SparkUnavailableError(SparkMatchingError):
    """pyspark (the ``spark`` extra) or a Java runtime is not installed."""
