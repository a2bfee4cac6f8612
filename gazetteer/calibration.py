"""Calibrated scoring: logistic weights for candidate pairs and for the final best-vs-runner-up score.

Weights live in ``calibration.csv`` beside this module (fitted by
``benchmarks/gazetteer/fit_calibration.py`` on labelled synthetic data); the defaults below
are hand-set fall-backs used only when that file is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from gazetteer.features import FEATURES

PARAMS_FILE = Path(__file__).with_name("calibration.csv")

_DEFAULT_PAIR = {
    "intercept": -6.0, "pc_exact": 3.0, "pc_sector": 1.5, "pc_district": 0.5, "pc_missing": 0.5, "pao_eq": 4.0,
    "pao_suffix_diff": -1.0, "pao_range": 1.5, "pao_conflict": -6.0, "pao_missing": 0.0, "sao_eq": 3.0,
    "sao_conflict": -7.0, "sao_in_only": -2.0, "sao_cand_only": -2.5, "street_ratio": 2.0, "street_in_text": 3.0,
    "name_sim": 2.0, "name_present": -1.0, "idf_recall": 3.0, "idf_precision": 2.0, "status_alt": -0.3,
    "status_hist": -0.5, "paf": 0.0,
}
FINAL_FEATURES = ("logit_share", "logit_p1")
_DEFAULT_FINAL = {"intercept": 0.0, "logit_share": 1.0, "logit_p1": 0.0}


@dataclass(frozen=True)
class Calibration:
    """Fitted weights; ``source`` says where they came from."""

    pair: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_PAIR))
    final: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_FINAL))
    source: str = "defaults"

    def pair_probability(self, feats: pd.DataFrame) -> np.ndarray:
        w = np.array([self.pair.get(f, 0.0) for f in FEATURES], dtype=np.float64)
        z = feats.loc[:, list(FEATURES)].to_numpy(dtype=np.float64) @ w + self.pair.get("intercept", 0.0)
        return 1.0 / (1.0 + np.exp(-z))

    def final_probability(self, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
        x = final_features(p1, p2)
        w = np.array([self.final.get(f, 0.0) for f in FINAL_FEATURES])
        z = x @ w + self.final.get("intercept", 0.0)
        return 1.0 / (1.0 + np.exp(-z))

    def to_frame(self) -> pd.DataFrame:
        rows = [("pair", k, v) for k, v in self.pair.items()] + [("final", k, v) for k, v in self.final.items()]
        return pd.DataFrame(rows, columns=["model", "feature", "weight"])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def final_features(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Features of the final score from the best UPRN's and the best other UPRN's pair probabilities.

    ``logit_share`` treats the candidates as exclusive: odds1 / (1 + odds2), so two equally
    good candidates score about 0.5 however good each looks alone.
    """
    p1c = np.clip(p1, 1e-6, 1 - 1e-6)
    p2c = np.clip(np.where(np.isnan(p2), 0.0, p2), 0.0, 1 - 1e-6)
    odds1, odds2 = p1c / (1 - p1c), p2c / (1 - p2c)
    return np.column_stack([np.log(odds1) - np.log1p(odds2), _logit(p1c)])


@lru_cache(maxsize=1)
def load_calibration(path: Path = PARAMS_FILE) -> Calibration:
    """Load fitted weights shipped with the package, else the defaults."""
    if not path.is_file():
        return Calibration()
    df = pd.read_csv(path)
    pair = {r.feature: float(r.weight) for r in df.itertuples() if r.model == "pair"}
    final = {r.feature: float(r.weight) for r in df.itertuples() if r.model == "final"}
    return Calibration(pair=pair, final=final, source=path.name)
