"""Person matching: local engine vs the Spark path (local[2]) on a synthetic council, plus a 50M-record estimate.

    nice python benchmarks/spark/bench_spark.py 650000          # ~1.0M records (all person sources)
    nice python benchmarks/spark/bench_spark.py 20000 --no-append

Both engines apply one model, fitted once locally on a 200k-record sample; each runs in its own subprocess while
this process samples the whole process tree's resident memory (the Spark JVM and its Python workers included).
The outputs are compared pair by pair, and the block-size distribution is extrapolated to 50M records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "matching"))

SAMPLE = 200_000
TARGET = 50_000_000
# Blocking keys that identify a household or a person: their blocks do not grow with the population.
# The others (date of birth, phonetic names) are shared across a population: blocks grow with it.
HOUSEHOLD_RULES = {"uprn", "postcode_surname_initial", "postcode_house_numbers", "nino", "email", "phone"}
SPARK_CONF = {"spark.ui.enabled": "false", "spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "16",
              "spark.ui.showConsoleProgress": "false", "spark.local.dir": tempfile.gettempdir()}  # fmt: skip


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pid = int(entry.name)
            children.setdefault(int(stat[1]), []).append(pid)
            rss[pid] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measured(cmd: list[str]) -> dict:
    """Run ``cmd``; wall time and peak resident memory of its whole process tree (sampled every 0.5 s)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.5)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    thread.join()
    if code != 0:
        raise SystemExit(f"{cmd[2]} failed with exit code {code}")
    return {"wall_s": time.perf_counter() - t, "peak_mib": peak[0] / 2**20}


def prepare(people: int, work: Path) -> Path:
    """The council's person records as a parquet extract in record order (``_seq``), as the hub would export."""
    import synthetic
    from bench_people import council_records

    extract = work / "extract.parquet"
    if not extract.exists():
        folder = Path(tempfile.gettempdir()) / f"bench_council_{people}_7"  # shared with benchmarks/matching
        if not (folder / "hub.yaml").exists():
            synthetic.write_council(folder, synthetic.SynthSettings(people=people, seed=7))
        cache = folder / "bench_records.pkl"
        records, _ = pd.read_pickle(cache) if cache.exists() else council_records(folder)
        records = records.drop(columns=["source_key"], errors="ignore")
        records = records.astype(object).where(records.notna(), None).astype("string")
        records.insert(0, "_seq", np.arange(len(records), dtype=np.int64))
        records.to_parquet(extract, index=False)
    return extract


def fit(extract: Path, work: Path) -> Path:
    from matching import link_people

    path = work / "model.json"
    if not path.exists():
        records = pd.read_parquet(extract).drop(columns=["_seq"])
        sample = records.sample(n=min(SAMPLE, len(records)), random_state=1).astype(object)
        model = link_people(sample.where(sample.notna(), None)).model
        path.write_text(json.dumps(model.to_dict(include_tf=False)))
    return path


def run_local(extract: Path, model_path: Path, out: Path) -> None:
    from matching import FellegiSunterModel, link_people

    records = pd.read_parquet(extract).drop(columns=["_seq"]).astype(object)
    model = FellegiSunterModel.from_dict(json.loads(model_path.read_text()))
    t = time.perf_counter()
    result = link_people(records.where(records.notna(), None), model=model)
    elapsed = time.perf_counter() - t
    result.pairs.to_parquet(out / "pairs.parquet", index=False)
    result.clusters.to_parquet(out / "clusters.parquet", index=False)
    (out / "timings.json").write_text(json.dumps({"link_people_s": elapsed, **result.timings}))


def run_spark(extract: Path, model_path: Path, out: Path) -> None:
    from matching import FellegiSunterModel
    from matching.spark import cluster_scored_pairs, clusters_for_all, link_people_spark, spark_session
    from schemas.config import SparkConfig

    spark = spark_session(SparkConfig(master="local[2]", app_name="mdh-bench", conf=SPARK_CONF))
    spark.sparkContext.setLogLevel("ERROR")
    model = FellegiSunterModel.from_dict(json.loads(model_path.read_text()))
    t0 = time.perf_counter()
    result = link_people_spark(spark.read.parquet(str(extract)), model)
    t_plan = time.perf_counter() - t0  # standardise + namesake + term frequencies + block sizes (all run here)
    result.pairs.write.mode("overwrite").parquet(str(out / "pairs.parquet"))
    t_pairs = time.perf_counter() - t0
    result.pairs = spark.read.parquet(str(out / "pairs.parquet"))
    clustered = cluster_scored_pairs(result)
    clusters_for_all(result, clustered).write.mode("overwrite").parquet(str(out / "clusters.parquet"))
    total = time.perf_counter() - t0
    result.block_sizes.to_csv(out / "block_sizes.csv", index=False)
    result.blocking_report.to_csv(out / "blocking_report.csv", index=False)
    (out / "timings.json").write_text(json.dumps({"prepare_s": t_plan, "score_s": t_pairs - t_plan,
                                                  "cluster_s": total - t_pairs, "link_people_spark_s": total}))
    spark.stop()


def compare(local: Path, spark: Path) -> dict:
    ids = ["unique_id_l", "unique_id_r"]
    a = pd.read_parquet(local / "pairs.parquet", columns=[*ids, "match_weight", "band", "rule"])
    b = pd.read_parquet(spark / "pairs.parquet", columns=[*ids, "match_weight", "band", "rule"])
    both = a.merge(b, on=ids, how="outer", suffixes=("_l", "_s"), indicator=True)
    inner = both[both["_merge"] == "both"]
    ca = pd.read_parquet(local / "clusters.parquet").set_index("unique_id")["cluster_id"].sort_index()
    cb = pd.read_parquet(spark / "clusters.parquet").set_index("unique_id")["cluster_id"].sort_index()
    return {"pairs_local": len(a), "pairs_spark": len(b), "only_one_side": int((both["_merge"] != "both").sum()),
            "max_weight_diff": float(np.abs(inner["match_weight_l"] - inner["match_weight_s"]).max()),
            "band_diffs": int((inner["band_l"] != inner["band_s"]).sum()),
            "rule_diffs": int((inner["rule_l"] != inner["rule_s"]).sum()),
            "cluster_diffs": int((ca != cb.reindex(ca.index)).sum()), "clusters": int(ca.nunique())}  # fmt: skip


def estimate(sizes: pd.DataFrame, records: int, max_block: int = 100) -> pd.DataFrame:
    """Pairs per rule now and at ``TARGET`` records: household keys keep their block sizes (pairs x k); the
    population keys' blocks grow k-fold (pairs x k^2) until the block-size guard skips them."""
    k = TARGET / records
    rows = []
    for rule, s in sizes.groupby("rule"):
        size, blocks = s["block_size"].to_numpy(float), s["blocks"].to_numpy(float)
        def pairs(sz: np.ndarray, bl: np.ndarray) -> float:
            ok = (sz > 1) & (sz <= max_block)
            return float((bl[ok] * sz[ok] * (sz[ok] - 1) / 2).sum())
        grows = rule not in HOUSEHOLD_RULES
        big_size, big_blocks = (size * k, blocks) if grows else (size, blocks * k)
        rows.append({"rule": rule, "grows_with_population": grows, "largest_block": int(size.max()),
                     "pairs_now": int(pairs(size, blocks)), f"pairs_at_{TARGET // 1_000_000}M": int(pairs(big_size, big_blocks)),
                     "records_in_skipped_blocks_at_target": int((big_blocks * big_size)[big_size > max_block].sum())})  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("people", type=int)
    parser.add_argument("--no-append", action="store_true")
    parser.add_argument("--only", choices=["local", "spark"])
    args, rest = parser.parse_known_args(argv)
    work = Path(tempfile.gettempdir()) / f"spark_bench_{args.people}"
    work.mkdir(exist_ok=True)
    if rest[:1] == ["_local"]:
        return run_local(Path(rest[1]), Path(rest[2]), Path(rest[3]))
    if rest[:1] == ["_spark"]:
        return run_spark(Path(rest[1]), Path(rest[2]), Path(rest[3]))
    extract = prepare(args.people, work)
    model = fit(extract, work)
    n = len(pd.read_parquet(extract, columns=["_seq"]))
    runs = {}
    for engine in ("local", "spark"):
        out = work / engine
        out.mkdir(exist_ok=True)
        if args.only and args.only != engine:
            continue
        runs[engine] = measured([sys.executable, __file__, str(args.people), f"_{engine}", str(extract), str(model), str(out)])
        runs[engine] |= json.loads((out / "timings.json").read_text())
        print(engine, runs[engine], flush=True)
    same = compare(work / "local", work / "spark")
    print(same)
    sizes = pd.read_csv(work / "spark" / "block_sizes.csv")
    scale = estimate(sizes, n)
    print(scale.to_string(index=False))
    (work / "summary.json").write_text(json.dumps({"records": n, "runs": runs, "same": same}, default=str))
    scale.to_csv(work / "scale_estimate.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1:])
