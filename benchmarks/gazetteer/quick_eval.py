"""Quick accuracy check of the matcher on one generated flat-rich set (development aid)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evaluate import calibration_table, evaluate  # noqa: E402
from flatgen import GenSettings, write_set  # noqa: E402

from gazetteer import AddressMatcher, read_gazetteer  # noqa: E402

if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    path, lab = write_set(Path(f"/tmp/flatset{seed}"), GenSettings(streets=500, seed=seed, scottish_share=0.65,
                                                                  flat_share=0.55, holdout_share=0.02), n)
    m = AddressMatcher(read_gazetteer(path))
    t = time.time()
    r = m.match(lab[["id", "address"]])
    print("match s", round(time.time() - t, 2), evaluate(r, lab))
    print(calibration_table(r, lab))
    df = lab.merge(r, on="id")
    truth = df["truth_uprn"].where(df["in_gazetteer"], -1)
    got = df["uprn"].fillna(-1).astype("int64")
    bad = df[(got != truth) & ~((truth == -1) & (got == df["parent_uprn"]))]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 90)
    print(bad.sample(min(40, len(bad)), random_state=0)[["address", "truth_uprn", "in_gazetteer", "uprn", "score", "band", "reason"]].to_string())
