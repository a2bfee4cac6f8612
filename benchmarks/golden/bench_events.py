"""Change events vs the synthetic council's true life events, and incremental-run timing.

Usage:
    python benchmarks/golden/bench_events.py --people 20000 --days 30 --out /tmp/ev
    python benchmarks/golden/bench_events.py --people 250000 --touch 0.01 --out /tmp/inc   # 1% changed day

The first form builds day 0 in full, then runs one incremental pass per day of life events and scores the
hub's change_of_address / change_of_name / death events against truth/events.csv (move / marriage /
death). The second times an incremental run after 1% of person records were changed at their sources.
The stages are the same functions the Dagster assets call, run directly so timings are the hub's own.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.addressing import resolve_addresses
from hub.ingest import ingest_source
from hub.linking import link_people_stage
from hub.matchers import stored_gazetteer_matcher
from hub.reference import load_gazetteer_if_changed
from hub.store import open_hub
from schemas import ChangeEvent, SourceRecord, SourceSystem, Xref
from schemas.config import load_config

EVENT_OF = {"move": "change_of_address", "marriage": "change_of_name", "death": "death"}


def run_once(config_path: Path, *, full: bool) -> dict[str, float]:
    cfg = load_config(config_path)
    engine = open_hub(cfg.hub)
    timings = {}
    t = time.perf_counter()
    load_gazetteer_if_changed(engine, cfg.gazetteer.path)
    timings["gazetteer"] = time.perf_counter() - t
    t = time.perf_counter()
    for source in cfg.sources:
        ingest_source(engine, source, full=full)
    timings["extract"] = time.perf_counter() - t
    t = time.perf_counter()
    resolve_addresses(engine, cfg, stored_gazetteer_matcher(engine, cfg), full=full)
    timings["addresses"] = time.perf_counter() - t
    t = time.perf_counter()
    link_people_stage(engine, cfg, run_id=None, full=full)
    timings["people"] = time.perf_counter() - t
    timings["total"] = sum(timings.values())
    return timings


def golden_to_true(engine, truth: pd.DataFrame) -> pd.Series:
    """Each golden person's true person: the majority truth over its records."""
    with Session(engine) as s:
        rows = s.execute(select(Xref.person_id, SourceSystem.name, SourceRecord.source_key)
                         .join(SourceRecord, SourceRecord.id == Xref.source_record_id)
                         .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)).all()
    xref = pd.DataFrame(rows, columns=["golden", "source", "source_key"]).merge(truth, on=["source", "source_key"])
    return xref.groupby("golden")["person_id"].agg(lambda s: s.mode().iat[0])


def score_events(council: Path, days: int) -> dict:
    config_path = council / "hub.yaml"
    cfg = load_config(config_path)
    engine = open_hub(cfg.hub)
    truth = pd.read_csv(council / "truth" / "records.csv", dtype={"source_key": str})
    truth = truth.sort_values("day").drop_duplicates(["source", "source_key"], keep="last")[["source", "source_key", "person_id"]]
    true_events = pd.read_csv(council / "truth" / "events.csv")
    true_events = true_events[true_events["event_type"].isin(EVENT_OF)]
    true_events = true_events.assign(hub_type=true_events["event_type"].map(EVENT_OF))
    # A move out of the council area has no new UPRN: the hub can only see the old records close.
    # Score moves the sources could tell us about: a record of the person stating the new UPRN.
    all_records = pd.read_csv(council / "truth" / "records.csv", dtype={"source_key": str})
    stated = set(zip(all_records["person_id"], all_records["uprn"]))
    is_move = true_events["event_type"] == "move"
    observable = ~is_move | [(p, u) in stated for p, u in zip(true_events["person_id"], true_events["new_uprn"])]
    true_events = true_events[observable]
    mapping = golden_to_true(engine, truth)
    with Session(engine) as s:
        rows = s.execute(select(ChangeEvent.event_type, ChangeEvent.person_id, ChangeEvent.run_id, ChangeEvent.source)
                         .where(ChangeEvent.event_type.in_(list(EVENT_OF.values())))).all()
    detected = pd.DataFrame(rows, columns=["hub_type", "golden", "run_id", "source"])
    detected["person_id"] = detected["golden"].map(mapping)
    out = {}
    for kind in EVENT_OF.values():
        d = detected[detected["hub_type"] == kind]
        t = true_events[true_events["hub_type"] == kind]
        true_keys = set(zip(t["person_id"], t["hub_type"]))
        det_keys = list(zip(d["person_id"], d["hub_type"]))
        correct = sum(k in true_keys for k in det_keys)
        found = len(true_keys & set(det_keys))
        out[kind] = {"true": len(true_keys), "detected": len(det_keys), "correct": correct,
                     "precision": correct / len(det_keys) if det_keys else None,
                     "recall": found / len(true_keys) if true_keys else None}
    return out


def touch_fraction(council: Path, fraction: float, seed: int = 0) -> int:
    """Change the phone (or name case) of ``fraction`` of person rows in each SQLite source, bumping updated_at."""
    cfg = load_config(council / "hub.yaml")
    rng = np.random.default_rng(seed)
    changed = 0
    for source in cfg.sources:
        if source.kind != "person" or not source.url.startswith("sqlite:///") or not source.table:
            continue
        con = sqlite3.connect(source.url[len("sqlite:///"):])
        keys = [r[0] for r in con.execute(f'SELECT "{source.key}" FROM "{source.table}"')]
        pick = rng.choice(len(keys), size=max(1, int(len(keys) * fraction)), replace=False)
        col = source.fields.get("phone") or source.fields.get("email") or source.fields.get("last_name") \
            or source.fields.get("full_name")
        stamp = "2099-01-01 00:00:00"
        con.executemany(f'UPDATE "{source.table}" SET "{col}" = "{col}" || \' \', "{source.updated_at}" = ? '
                        f'WHERE "{source.key}" = ?', [(stamp, keys[i]) for i in pick])
        con.commit()
        con.close()
        changed += len(pick)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--touch", type=float, default=None, help="time a day with this fraction of rows changed")
    args = parser.parse_args()
    from synthetic import SynthSettings, apply_day, write_council

    t = time.perf_counter()
    write_council(args.out, SynthSettings(people=args.people, days=0 if args.touch else args.days, seed=args.seed))
    report: dict = {"people": args.people, "synth_s": round(time.perf_counter() - t, 1)}
    report["day0"] = run_once(args.out / "hub.yaml", full=True)
    if args.touch:
        report["rows_changed"] = touch_fraction(args.out, args.touch)
        report["incremental"] = run_once(args.out / "hub.yaml", full=False)
    else:
        report["days"] = []
        for day in range(1, args.days + 1):
            apply_day(args.out, day)
            report["days"].append(run_once(args.out / "hub.yaml", full=False)["total"])
        report["events"] = score_events(args.out, args.days)
    print(json.dumps(report, indent=2, default=lambda v: round(v, 2) if isinstance(v, float) else str(v)))


if __name__ == "__main__":
    main()
