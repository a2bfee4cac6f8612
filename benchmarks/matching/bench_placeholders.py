"""Placeholder values on FEBRL3: what the matcher does with records whose name or date of birth is a stand-in.

Adds 60 records to FEBRL3, each a copy of a real record (address, postcode, date of birth) with its identifier
dropped and its name replaced: UNKNOWN UNKNOWN, TEST TEST, THE OCCUPIER, or only the first name UNKNOWN; every
other one is born "19000101". Nobody is the same person as anybody else except the last kind (real surname, date
of birth and address kept), which may fairly join the record it was copied from.

Usage: python benchmarks/matching/bench_placeholders.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_people import febrl  # noqa: E402
from matching import link_people  # noqa: E402

KINDS = ("UNKNOWN UNKNOWN", "TEST TEST", "THE OCCUPIER", "first name UNKNOWN")


def placeholder_records(recs: pd.DataFrame, n: int = 60) -> pd.DataFrame:
    base = recs.sample(n, random_state=3).reset_index(drop=True)
    kind = np.arange(n) % len(KINDS)
    out = base.copy()
    out.loc[kind == 0, ["first_name", "last_name"]] = ["unknown", "unknown"]
    out.loc[kind == 1, ["first_name", "last_name"]] = ["test", "test"]
    out.loc[kind == 2, ["first_name", "last_name"]] = ["the", "occupier"]
    out.loc[kind == 3, ["first_name"]] = ["unknown"]
    out["date_of_birth"] = np.where(np.arange(n) % 2 == 0, "19000101", out["date_of_birth"])
    out["unique_id"] = [f"ph:{i}:{base.unique_id[i]}" for i in range(n)]
    out["soc_sec_id"] = None
    out["kind"] = [KINDS[k] for k in kind]
    return out


def main() -> None:
    job, _, _, variants = febrl("febrl3")
    recs = job["records"]
    extra = placeholder_records(recs)
    result = link_people(pd.concat([recs, extra.drop(columns="kind")], ignore_index=True),
                         settings=variants["matching (default, hard negatives on)"])
    clusters = result.clusters.set_index("unique_id")["cluster_id"]
    members = clusters.groupby(clusters).apply(list)
    rows = []
    for kind, group in extra.groupby("kind"):
        joined_strangers = joined_real = joined_own = 0
        for uid, own in zip(group.unique_id, group.unique_id.str.split(":", n=2).str[2]):
            others = [m for m in members[clusters[uid]] if m != uid]
            joined_strangers += any(m.startswith("ph:") for m in others)
            own_entity = own.split("-dup")[0].split("-org")[0]
            joined_own += any(m.startswith(own_entity + "-") for m in others)
            joined_real += any(not m.startswith("ph:") and not m.startswith(own_entity + "-") for m in others)
        rows.append({"kind": kind, "records": len(group), "with another placeholder record": joined_strangers,
                     "with the person it was copied from": joined_own, "with another person": joined_real})
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    auto = result.pairs[(result.pairs.band == "auto") & (result.pairs.unique_id_l.str.startswith("ph:")
                                                         | result.pairs.unique_id_r.str.startswith("ph:"))]
    print(f"\nauto-band pairs touching a placeholder record: {len(auto)}")


if __name__ == "__main__":
    main()
