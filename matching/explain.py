"""Explain a pair: each comparison's level and match-weight contribution (the data of a waterfall chart)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.compare import NULL, LEVELS, CompareContext, compare_pairs
from matching.linker import MatchResult
from matching.model import FellegiSunterModel
from matching.standardise import standardise_people
from schemas.columns import PersonRecord as P

PRIOR = "prior"


@dataclass(frozen=True)
class Contribution:
    """One bar of the waterfall: a comparison's level and its weight (log2 Bayes factor) toward a match."""

    comparison: str
    level: str
    weight: float
    m: float | None = None
    u: float | None = None
    tf_adjustment: float = 0.0


def explain_pair(
    result_or_model: MatchResult | FellegiSunterModel,
    record_l: Mapping[str, object],
    record_r: Mapping[str, object],
) -> list[Contribution]:
    """Prior, then one contribution per comparison; the weights sum to the pair's match weight.

    Records are raw (canonical field names); they are standardised exactly as in ``link_people``.

    Examples:
        >>> from matching.model import FellegiSunterModel
        >>> from matching.compare import Comparison
        >>> m = FellegiSunterModel((Comparison("uprn", ("exact", "else")),), {"uprn": [0.9, 0.1]}, {"uprn": [0.01, 0.99]}, 0.5)
        >>> [(c.comparison, c.level, round(c.weight, 2)) for c in explain_pair(m, {"uprn": "1"}, {"uprn": "1"})]
        [('prior', '', 0.0), ('uprn', 'exact', 6.49)]
    """
    model = result_or_model.model if isinstance(result_or_model, MatchResult) else result_or_model
    extra = tuple(c.name for c in model.comparisons if c.name not in LEVELS)
    rows = [dict(record_l), dict(record_r)]
    for i, row in enumerate(rows):
        row.setdefault(P.unique_id, f"explain:{i}")
        row[P.unique_id] = f"{row[P.unique_id]}#{i}"
    frame = standardise_people(pd.DataFrame(rows), extra_columns=extra)
    ctx = CompareContext(frame, model.comparisons, tf_tables=model.tf_tables)
    vectors = compare_pairs(ctx, np.array([0]), np.array([1]))
    _, parts = model.score(vectors)
    out = [Contribution(PRIOR, "", model.prior_weight)]
    for comp in model.comparisons:
        g = int(vectors.gammas[comp.name][0])
        if g == NULL:
            out.append(Contribution(comp.name, "null", 0.0))
            continue
        tf = vectors.tf.get(comp.name)
        adj = float(model.tf_adjustment(comp.name, tf)[0]) if comp.tf and tf is not None else 0.0
        out.append(
            Contribution(
                comp.name, comp.levels[g], float(parts[comp.name][0]),
                float(model.m[comp.name][g]), float(model.u[comp.name][g]), adj,
            )  # fmt: skip
        )
    return out
