"""matching worker for bench_people.py: standardise -> cluster on one prepared input, report time and memory.

Usage: python run_ours.py INPUT.pkl OUT_CLUSTERS.csv OUT_BANDED_PAIRS.pkl (auto and review pairs)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import peak_mib  # noqa: E402
from matching import MatchSettings, link_people  # noqa: E402


def main() -> None:
    src, out, pairs_out = sys.argv[1], sys.argv[2], sys.argv[3]
    job = pd.read_pickle(src)
    settings = MatchSettings.from_dict(job["settings"])
    t0 = time.perf_counter()
    result = link_people(job["records"], settings=settings)
    seconds = time.perf_counter() - t0
    result.clusters.to_csv(out, index=False)
    banded = result.pairs[result.pairs.band.isin(["auto", "review"])][["unique_id_l", "unique_id_r", "band", "rule"]]
    banded.to_pickle(pairs_out)
    peak = peak_mib()
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "timings": result.timings,
                      "candidate_pairs": int(result.blocking_report.candidate_pairs.iloc[-1]),
                      "capped_blocks": int(result.blocking_report.capped_blocks.iloc[-1])}))


if __name__ == "__main__":
    main()
