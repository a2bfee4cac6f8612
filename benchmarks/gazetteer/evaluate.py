"""Accuracy, auto-band precision, coverage and calibration of a match result against labels."""

from __future__ import annotations

import numpy as np
import pandas as pd


def evaluate(result: pd.DataFrame, labelled: pd.DataFrame) -> dict[str, float]:
    """``result``: id, uprn, band (auto/review/none), optional score; ``labelled``: id, truth_uprn, in_gazetteer."""
    df = labelled.merge(result, on="id", how="left")
    truth = np.where(df["in_gazetteer"], df["truth_uprn"], -1)
    got = pd.to_numeric(df["uprn"], errors="coerce").fillna(-1).astype("int64").to_numpy()
    answered = df["band"].isin(["auto", "review"]).to_numpy() & (got >= 0)
    # A flat missing from the gazetteer is best answered by its parent building (or not at all).
    parent = df["parent_uprn"].to_numpy() if "parent_uprn" in df else np.full(len(df), -1)
    acceptable = (got == truth) | ((truth == -1) & (got == parent) & (parent >= 0))
    correct = np.where(answered, acceptable, truth == -1)
    auto = (df["band"] == "auto").to_numpy() & (got >= 0)
    return {
        "n": len(df),
        "accuracy": float(correct.mean()),
        "auto_precision": float((got[auto] == truth[auto]).mean()) if auto.any() else float("nan"),
        "auto_coverage": float(auto.mean()),
        "coverage": float(answered.mean()),
        "answered_precision": float(acceptable[answered].mean()) if answered.any() else float("nan"),
    }


def calibration_table(result: pd.DataFrame, labelled: pd.DataFrame, bins=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0001)) -> pd.DataFrame:
    """Observed precision per score bin (answered rows only)."""
    df = labelled.merge(result, on="id")
    df = df[df["uprn"].notna()]
    ok = pd.to_numeric(df["uprn"]).astype("int64").to_numpy() == np.where(df["in_gazetteer"], df["truth_uprn"], -1)
    df = df.assign(ok=ok, bin=pd.cut(df["score"], bins=list(bins), right=False))
    return df.groupby("bin", observed=True).agg(n=("ok", "size"), mean_score=("score", "mean"), precision=("ok", "mean")).reset_index()
