"""Helpers for matching tests: a hand-set Fellegi-Sunter model and a record builder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.compare import comparisons_for
from matching.model import FellegiSunterModel
from matching.settings import MatchSettings


def toy_model(settings: MatchSettings | None = None, prior: float = 0.01) -> FellegiSunterModel:
    """m falls and u rises from the exact level to "else": plausible parameters without fitting."""
    comps = comparisons_for(settings or MatchSettings())
    m, u = {}, {}
    for c in comps:
        k = len(c.levels)
        mm = np.geomspace(1.0, 0.02, k)
        mm[0] = 10.0
        uu = np.geomspace(0.001, 0.5, k)
        uu[-1] = 50.0
        m[c.name], u[c.name] = mm / mm.sum(), uu / uu.sum()
    return FellegiSunterModel(comps, m, u, prior)


def people(rows: list[dict]) -> pd.DataFrame:
    """Records with a ``unique_id`` per row (``s:<n>`` unless given)."""
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        row.setdefault("unique_id", f"s:{i}")
        row.setdefault("source", row["unique_id"].split(":")[0])
        out.append(row)
    return pd.DataFrame(out)
