"""Per-record features the local engine computes over the *whole* frame, computed on Spark over whole groups.

A bucket of blocks does not hold a record's whole household, so a feature such as "this household holds two
people of this name" (``matching.conflicts.namesake_households``) is computed here, once per record, with the
local engine's own function over buckets of whole households (place and surname), and handed to
every scoring bucket through ``CompareContext.derived`` under the name the comparison step looks it up by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from matching.compare import CompareContext
from matching.conflicts import namesake_households
from matching.settings import MatchSettings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

NAMESAKE = "_namesake"
_GROUP = "_household_bucket"


def _household_key(frame: DataFrame) -> tuple[Column, Column]:
    """(key, present): place (UPRN, else "a:" + address) and surname, the household every namesake grouping of
    ``namesake_households`` refines (by first-name sound, or by initial), so a bucket holds whole groups."""
    from pyspark.sql import functions as F

    place = F.coalesce(F.col("uprn"), F.concat(F.lit("a:"), F.col("address")))
    present = place.isNotNull() & F.col("last_name").isNotNull()
    return F.xxhash64(place, F.col("last_name")), present


def with_namesake(standardised: DataFrame, settings: MatchSettings, buckets: int) -> DataFrame:
    """``standardised`` plus ``_namesake`` (bool), computed by ``namesake_households`` over whole groups."""
    from pyspark.sql import functions as F

    key, present = _household_key(standardised)
    columns = standardised.columns
    schema = ", ".join(f"`{c}` {t}" for c, t in standardised.dtypes) + f", `{NAMESAKE}` boolean"
    dedup = settings.deduplicated_sources

    def households(rows: pd.DataFrame) -> pd.DataFrame:
        out = rows[columns].reset_index(drop=True)
        out[NAMESAKE] = namesake_households(out, dedup).astype(bool)
        return out

    # one shuffle: whole households together; records without place or surname (never namesakes) spread by _seq
    bucket = F.when(present, F.pmod(key, F.lit(buckets))).otherwise(F.pmod(F.xxhash64(F.col("_seq")), F.lit(buckets)))
    return standardised.withColumn(_GROUP, bucket).groupBy(_GROUP).applyInPandas(households, schema)


def prime_context(ctx: CompareContext, rows: pd.DataFrame) -> None:
    """Hand the whole-data per-record features to a context built over a bucket (before ``compare_pairs``)."""
    if NAMESAKE in rows.columns:
        ctx.known_namesakes(rows[NAMESAKE].to_numpy(dtype=bool))
