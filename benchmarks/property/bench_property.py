"""Property linkage benchmark: linkage rate and precision per property source against the synthetic council's truth.

Run by hand (heavy), one at a time, niced::

    nice python benchmarks/property/bench_property.py --people 50000 --out /tmp/propbench/c50k [--peer]

Steps: generate the council (unless ``--out`` already holds one), load the gazetteer, extract every source,
resolve addresses (full), run the golden-property stage, the cross-checks and the gazetteer-change seed,
then score each property source's UPRN links against ``truth/property_records.csv``. ``--peer`` also runs
uk-address-matcher (in ``benchmarks/.venv-uam``) on the same property records and the same gazetteer.
Appends a section to ``benchmarks/property/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hub.addressing import resolve_addresses  # noqa: E402
from hub.gazetteer_changes import propagate_gazetteer_changes  # noqa: E402
from hub.ingest import ingest_source  # noqa: E402
from hub.matchers import stored_gazetteer_matcher  # noqa: E402
from hub.property import link_properties  # noqa: E402
from hub.property_checks import DEMOLISHED, DUPLICATE, run_property_checks  # noqa: E402
from hub.reference import load_gazetteer_if_changed  # noqa: E402
from hub.store import open_hub  # noqa: E402
from schemas import Base, Lpi, ReviewTask, SourceRecord, SourceSystem  # noqa: E402
from schemas.config import load_config  # noqa: E402
from schemas.property import DqFinding, GazetteerSeen, GoldenPropertyAttribute, PropertyXref  # noqa: E402

# What hub.yaml would declare with `role:` once SourceConfig has the field.
ROLES = {"council_tax": "council_tax", "valuation_list": "council_tax_valuation", "business_rates": "business_rates",
         "housing_stock": "housing_stock", "housing_tenancies": "housing_tenancy", "electoral_register": "electoral_register",
         "benefits": "benefits"}
PEER_PYTHON = ROOT / "benchmarks" / ".venv-uam" / "bin" / "python"
RESULTS = Path(__file__).with_name("results.md")


def build_hub(out: Path, people: int, seed: int) -> tuple[object, object, dict[str, float]]:
    from synthetic import SynthSettings, write_council

    timings: dict[str, float] = {}
    if not (out / "hub.yaml").exists():
        t = time.perf_counter()
        write_council(out, SynthSettings(people=people, days=0, seed=seed))
        timings["generate"] = time.perf_counter() - t
    declare_account_liveness(out / "hub.yaml")
    cfg = load_config(out / "hub.yaml")
    engine = open_hub(cfg.hub)
    Base.metadata.create_all(engine, tables=[m.__table__ for m in (PropertyXref, GoldenPropertyAttribute, DqFinding, GazetteerSeen)])
    t = time.perf_counter()
    load_gazetteer_if_changed(engine, cfg.gazetteer.path)
    timings["gazetteer_load"] = time.perf_counter() - t
    t = time.perf_counter()
    for src in cfg.sources:
        ingest_source(engine, src, full=True)
    timings["extract"] = time.perf_counter() - t
    return cfg, engine, timings


def declare_account_liveness(path: Path) -> None:
    """Map the council tax account's end date and status to the attributes the checks read (what hub.yaml should say)."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for src in doc["sources"]:
        if src["name"] == "council_tax":
            src.setdefault("attributes", {}).update({"end_date": "liable_to", "status": "account_status"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def score_links(got: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per source: records, linked rate, precision of links, queued, candidate recall in the queue."""
    df = truth.merge(got, on=["source", "source_key"], how="left", suffixes=("_truth", ""))
    df["linked"] = df["uprn"].notna()
    df["correct"] = df["linked"] & (df["uprn"] == df["uprn_truth"])
    df["cand_hit"] = [bool(c) and t in c for c, t in zip(df["candidates"], df["uprn_truth"])]
    g = df.groupby("source")
    out = pd.DataFrame({"records": g.size(), "linked": g["linked"].sum(), "correct": g["correct"].sum(),
                        "queued": g["queued"].sum(), "queue_truth_in_candidates": g["cand_hit"].sum()})
    out["linkage_rate"] = out["linked"] / out["records"]
    out["precision"] = out["correct"] / out["linked"]
    out["queue_candidate_recall"] = out["queue_truth_in_candidates"] / out["queued"].where(out["queued"] > 0)
    return out


def hub_links(engine) -> pd.DataFrame:
    with Session(engine) as s:
        rows = s.execute(select(SourceSystem.name, SourceRecord.source_key, SourceRecord.id)
                         .join(SourceRecord, SourceRecord.source_id == SourceSystem.id)
                         .where(SourceRecord.kind == "property")).all()
        xref = dict(s.execute(select(PropertyXref.source_record_id, PropertyXref.uprn)).all())
        tasks = {t.source_record_id: [c["uprn"] for c in (t.detail or {}).get("candidates", [])]
                 for t in s.scalars(select(ReviewTask).where(ReviewTask.kind == "address", ReviewTask.status == "open"))}
    return pd.DataFrame([{"source": n, "source_key": k, "uprn": xref.get(rid), "queued": rid in tasks,
                          "candidates": tasks.get(rid, [])} for n, k, rid in rows])


def demolished_check_score(engine, out: Path) -> dict[str, float]:
    """Precision and recall of the demolished-property finding on the valuation list (truth: entry at a historical UPRN)."""
    truth = pd.read_csv(out / "truth" / "property_records.csv")
    props = pd.read_csv(out / "truth" / "properties.csv", usecols=["uprn", "logical_status", "blpu_state"])
    vl = truth[truth["source"] == "valuation_list"].merge(props, on="uprn")
    expected = set(vl.loc[(vl["logical_status"] == 8) | (vl["blpu_state"] == 4), "source_key"].astype(str))
    with Session(engine) as s:
        found = {r["source_key"] for f in s.scalars(select(DqFinding).where(DqFinding.check_name == DEMOLISHED,
                                                                          DqFinding.status == "open"))
                 for r in f.records if r["source"] == "valuation_list"}
        queued = {t.detail["source_key"] for t in s.scalars(select(ReviewTask).where(ReviewTask.kind == "address",
                                                                                    ReviewTask.status == "open"))
                  if t.detail.get("source") == "valuation_list"
                  and t.detail.get("problem") in ("replaced_property", "historical_only")}
    hit, qhit = len(found & expected), len(queued & expected)
    return {"expected": len(expected), "found": len(found), "precision": hit / len(found) if found else float("nan"),
            "recall": hit / len(expected) if expected else float("nan"), "queued": len(queued), "queued_hit": qhit,
            "either_recall": len((found | queued) & expected) / len(expected) if expected else float("nan")}


def duplicate_check_score(engine, out: Path) -> dict[str, float]:
    """Precision and recall of the two-live-accounts finding (truth: UPRNs with two or more LIVE accounts at source)."""
    import sqlite3

    with sqlite3.connect(out / "sources" / "council_tax.sqlite") as con:
        status = pd.read_sql("select account_ref as source_key, account_status from ctax_account", con)
    truth = pd.read_csv(out / "truth" / "records.csv", dtype={"source_key": str})
    live = truth[(truth["source"] == "council_tax") & (truth["day"] == 0)].merge(status, on="source_key")
    live = live[live["account_status"] == "LIVE"]
    counts = live.groupby("uprn").size()
    expected = {int(u) for u in counts[counts > 1].index}
    with Session(engine) as s:
        found = {int(u) for u in s.scalars(select(DqFinding.uprn).where(DqFinding.check_name == DUPLICATE,
                                                                         DqFinding.status == "open"))}
    hit = len(found & expected)
    return {"expected": len(expected), "found": len(found), "precision": hit / len(found) if found else float("nan"),
            "recall": hit / len(expected) if expected else float("nan")}


def run_peer(engine, out: Path) -> pd.DataFrame | None:
    """uk-address-matcher on the same property records against the same gazetteer LPIs (via the gazetteer room's runner)."""
    runner = ROOT / "benchmarks" / "gazetteer" / "run_peer.py"
    if not PEER_PYTHON.exists() or not runner.exists():
        return None
    work = out / "peer"
    work.mkdir(exist_ok=True)
    with Session(engine) as s:
        canon = pd.DataFrame(s.execute(select(Lpi.lpi_key, Lpi.uprn, Lpi.address, Lpi.postcode).where(Lpi.kind == "lpi")).all(),
                             columns=["unique_id", "uprn", "address_concat", "postcode"])
        recs = pd.DataFrame(s.execute(select(SourceSystem.name, SourceRecord.source_key, SourceRecord.id, SourceRecord.address,
                                             SourceRecord.postcode)
                                      .join(SourceRecord, SourceRecord.source_id == SourceSystem.id)
                                      .where(SourceRecord.kind == "property")).all(),
                            columns=["source", "source_key", "unique_id", "address_concat", "postcode"])
    canon[["unique_id", "address_concat", "postcode"]].to_csv(work / "canonical.csv", index=False)
    recs[["unique_id", "address_concat", "postcode"]].to_csv(work / "messy.csv", index=False)
    proc = subprocess.run([str(PEER_PYTHON), str(runner), str(work / "canonical.csv"), str(work / "messy.csv"),
                           str(work / "peer_out.csv")], check=True, capture_output=True, text=True)
    seconds = float(next(l.split("=", 1)[1] for l in proc.stdout.splitlines() if l.startswith("PEER_SECONDS=")))
    res = pd.read_csv(work / "peer_out.csv", dtype=str)
    res = res.dropna(subset=["resolved_canonical_id"]).drop_duplicates("unique_id")
    res["uprn"] = res["resolved_canonical_id"].map(dict(zip(canon["unique_id"].astype(str), canon["uprn"])))
    got = recs.assign(unique_id=recs["unique_id"].astype(str)).merge(res[["unique_id", "uprn"]], on="unique_id", how="left")
    got["queued"], got["candidates"] = False, [[] for _ in range(len(got))]
    got = got[["source", "source_key", "uprn", "queued", "candidates"]].assign(uprn=lambda d: d["uprn"].astype("Int64"))
    got.attrs["seconds"] = seconds
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("/tmp/propbench/c50k"))
    ap.add_argument("--peer", action="store_true")
    ap.add_argument("--with-people", action="store_true", help="also link people (golden persons, residences) before the checks")
    args = ap.parse_args()
    cfg, engine, timings = build_hub(args.out, args.people, args.seed)
    factory = stored_gazetteer_matcher(engine, cfg)
    t = time.perf_counter()
    resolve_addresses(engine, cfg, factory, full=True)
    timings["resolve_addresses_all_sources"] = time.perf_counter() - t
    t = time.perf_counter()
    summary = link_properties(engine, cfg, run_id=None, matcher_factory=factory)
    timings["golden_properties"] = time.perf_counter() - t
    t = time.perf_counter()
    again = link_properties(engine, cfg, run_id=None, matcher_factory=factory)
    timings["golden_properties_rerun"] = time.perf_counter() - t
    if args.with_people:
        from hub.linking import link_people_stage

        t = time.perf_counter()
        link_people_stage(engine, cfg, run_id=None, full=True)
        timings["person_linkage"] = time.perf_counter() - t
    t = time.perf_counter()
    with Session(engine) as s, s.begin():
        counts = run_property_checks(s, ROLES, run_id=None)
        propagate_gazetteer_changes(s, run_id=None)
    timings["checks_and_gazetteer_seed"] = time.perf_counter() - t

    truth = pd.read_csv(args.out / "truth" / "property_records.csv", dtype={"source_key": str})
    truth = truth[truth["day"] == 0][["source", "source_key", "uprn"]]
    ours = score_links(hub_links(engine), truth)
    peer = run_peer(engine, args.out) if args.peer else None
    theirs = score_links(peer, truth) if peer is not None else None
    demolished = demolished_check_score(engine, args.out)
    duplicates = duplicate_check_score(engine, args.out)

    lines = [f"\n## Property linkage ({args.people:,} residents, seed {args.seed})\n",
             f"Command: `nice python benchmarks/property/bench_property.py --people {args.people} --seed {args.seed} "
             f"--out {args.out}{' --peer' if args.peer else ''}{' --with-people' if args.with_people else ''}`  ",
             f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. Machine: 2 cores / 24 GiB, shared with other "
             "helpers' work running at the same time (timings are indicative).\n",
             "Linkage per property source against `truth/property_records.csv` (a link is correct when its UPRN is the "
             "record's true UPRN; precision = correct / linked; queue candidate recall = queued records whose true UPRN "
             "is among the custodian task's candidates):\n",
             "| source | records | hub linkage rate | hub precision | hub queued | queue candidate recall |"
             + (" peer linkage rate | peer precision |" if theirs is not None else ""),
             "|---|---|---|---|---|---|" + ("---|---|" if theirs is not None else "")]
    for src, r in ours.iterrows():
        row = (f"| {src} | {int(r['records']):,} | {r['linkage_rate']:.4f} | {r['precision']:.4f} | {int(r['queued']):,} | "
               f"{r['queue_candidate_recall']:.3f} |")
        if theirs is not None:
            p = theirs.loc[src]
            row += f" {p['linkage_rate']:.4f} | {p['precision']:.4f} |"
        lines.append(row)
    lines += ["", "GeoPlace-style figures from the hub (share of live records):", "",
              "| source | linked to UPRN | approved address | alternative | historical | unmatched |", "|---|---|---|---|---|---|"]
    for src, f in sorted(summary.linkage.items()):
        lines.append(f"| {src} | {f['uprn_linked_rate']:.4f} | {f['approved_address_rate']:.4f} | {f['alternative_address_rate']:.4f} "
                     f"| {f['historical_address_rate']:.4f} | {f['unmatched_rate']:.4f} |")
    lines += ["", f"Golden properties: {summary.golden_properties:,}; custodian queue open: {summary.queue.open:,}; "
              f"rerun wrote {again.xref_changed} xref and {again.attributes_changed} attribute changes, opened {again.queue.opened} tasks.",
              f"Findings (open): {json.dumps(counts)}."
              + ("" if args.with_people else " Person linkage was not run here, so the resident check has no residences."),
              f"Valuation-list entries at a demolished property (truth: {demolished['expected']}): the DQ finding lists "
              f"{demolished['found']} (precision {demolished['precision']:.4f}, recall {demolished['recall']:.4f}); the custodian "
              f"queue asks {demolished['queued']} as replaced/historical ({demolished['queued_hit']} of them true); "
              f"together they catch {demolished['either_recall']:.4f} of them.",
              f"Two live council tax accounts at one UPRN (truth: UPRNs with 2+ LIVE accounts at source, "
              f"{duplicates['expected']}): found {duplicates['found']}, precision {duplicates['precision']:.4f}, "
              f"recall {duplicates['recall']:.4f} (council_tax maps `liable_to` → end_date and `account_status` → status).",
              "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
              + (f", peer {peer.attrs['seconds']:.1f}" if peer is not None else "") + "\n"]
    text = "\n".join(lines)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Property master benchmarks\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
