"""Fit the matcher's calibrated scoring on labelled generated data and write gazetteer/calibration.csv.

Run: ``nice python benchmarks/gazetteer/fit_calibration.py`` (about a minute). Training sets use
seeds 11-13 with different shapes; the held-out check uses seed 21 with yet another shape.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from evaluate import calibration_table, evaluate  # noqa: E402
from flatgen import GenSettings, write_set  # noqa: E402

from gazetteer import AddressMatcher, read_gazetteer  # noqa: E402
from gazetteer.calibration import FINAL_FEATURES, PARAMS_FILE, Calibration, final_features  # noqa: E402
from gazetteer.features import FEATURES  # noqa: E402
from gazetteer.matcher import select_best  # noqa: E402

TRAIN = [GenSettings(streets=500, seed=11, scottish_share=0.2, flat_share=0.35),
         GenSettings(streets=500, seed=12, scottish_share=0.5, flat_share=0.5),
         GenSettings(streets=500, seed=13, scottish_share=0.8, flat_share=0.6, holdout_share=0.03)]
HELD_OUT = GenSettings(streets=500, seed=21, scottish_share=0.65, flat_share=0.55, holdout_share=0.02)


def _sets(settings: list[GenSettings], n: int) -> list[tuple[AddressMatcher, pd.DataFrame]]:
    out = []
    for s in settings:
        path, lab = write_set(Path(f"/tmp/gazfit/{s.seed}"), s, n)
        out.append((AddressMatcher(read_gazetteer(path)), lab))
    return out


def _pairs(sets, cal: Calibration) -> tuple[pd.DataFrame, pd.DataFrame]:
    pairs, tops = [], []
    for m, lab in sets:
        m.calibration = cal
        feats, inp = m.candidate_features(lab[["id", "address"]])
        truth = np.where(lab["in_gazetteer"], lab["truth_uprn"], -1)
        feats["y"] = feats["uprn"].to_numpy() == truth[feats["i"].to_numpy()]
        pairs.append(feats)
        feats = feats.assign(p=cal.pair_probability(feats))
        best, p2 = select_best(feats, len(inp))
        found = best["j"].to_numpy() >= 0
        tops.append(pd.DataFrame({"p1": best["p"].to_numpy()[found], "p2": p2[found],
                                  "y": (best["uprn"].to_numpy() == truth)[found]}))
    return pd.concat(pairs, ignore_index=True), pd.concat(tops, ignore_index=True)


# Fixed priors, not fitted: an address matched only through an alternative or historical LPI must
# lose to an equally good approved LPI of another property (a rebuilt property keeps its old address
# as a historical LPI of the retired UPRN). Generated data has too few such cases to learn the sign.
PRIORS = {"status_alt": -1.0, "status_hist": -2.5}


def fit(sets, cal: Calibration) -> Calibration:
    pairs, _ = _pairs(sets, cal)
    learn = [f for f in FEATURES if f not in PRIORS]
    offset = sum(pairs[f].to_numpy() * w for f, w in PRIORS.items())
    # Fit with the priors as a fixed offset: replicate by fitting on features and adding offset via sample shift.
    lr = LogisticRegression(C=1.0, max_iter=5000)
    lr.fit(np.column_stack([pairs.loc[:, learn].to_numpy(), offset]), pairs["y"].to_numpy())
    coef = dict(zip(learn + ["_offset"], lr.coef_[0]))
    scale = coef.pop("_offset")  # the offset column's own weight; keep priors at their stated size
    pair_w = {"intercept": float(lr.intercept_[0]), **{f: float(w) for f, w in coef.items()},
              **{f: float(w * max(scale, 0.0)) if scale > 0 else float(w) for f, w in PRIORS.items()}}
    cal = Calibration(pair=pair_w, final=cal.final, source="fitted")
    _, tops = _pairs(sets, cal)
    lr2 = LogisticRegression(C=1.0, max_iter=5000)
    lr2.fit(final_features(tops["p1"].to_numpy(), tops["p2"].to_numpy()), tops["y"].to_numpy())
    final_w = {"intercept": float(lr2.intercept_[0]),
               **{f: float(w) for f, w in zip(FINAL_FEATURES, lr2.coef_[0])}}
    print(f"pairs={len(pairs)} positives={int(pairs['y'].sum())} tops={len(tops)}")
    return Calibration(pair=pair_w, final=final_w, source="fitted")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
    sets = _sets(TRAIN, n)
    cal = Calibration()
    for _ in range(2):  # refit once with the fitted model steering the fuzzy fall-back
        cal = fit(sets, cal)
    cal.to_frame().to_csv(PARAMS_FILE, index=False)
    print(cal.to_frame().to_string())
    (m, lab), = _sets([HELD_OUT], n)
    m.calibration = cal
    r = m.match(lab[["id", "address"]])
    print("held-out", evaluate(r, lab))
    print(calibration_table(r, lab).to_string())
