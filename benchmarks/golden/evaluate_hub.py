"""Score a hub built from a synthetic council against its ground truth.

Usage: python benchmarks/golden/evaluate_hub.py DEMO_DIR
Prints person clustering precision/recall (pairwise), auto-merge precision, UPRN accuracy and,
if events were generated, change-event precision/recall against the true life events.
"""

from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import ChangeEvent, SourceRecord, SourceSystem, Xref
from schemas.config import load_config


def _pairs(groups: pd.Series) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups:
        out.update(combinations(sorted(members), 2))
    return out


def person_scores(hub: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision/recall of golden persons against true persons, over live person records."""
    both = hub.merge(truth, on=["source", "source_key"])
    both["rid"] = both["source"] + ":" + both["source_key"]
    predicted = _pairs(both.groupby("person_id_hub")["rid"].apply(list))
    actual = _pairs(both.groupby("person_id_true")["rid"].apply(list))
    tp = len(predicted & actual)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(actual) if actual else 1.0
    return {"records": len(both), "golden_persons": both["person_id_hub"].nunique(),
            "true_persons": both["person_id_true"].nunique(), "pair_precision": precision, "pair_recall": recall,
            "pair_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "false_merge_pairs": len(predicted - actual), "missed_pairs": len(actual - predicted)}


def main(demo: Path) -> dict:
    config = load_config(demo / "hub.yaml")
    engine = open_hub(config.hub)
    with Session(engine) as s:
        rows = s.execute(select(SourceSystem.name, SourceRecord.source_key, Xref.person_id, SourceRecord.matched_uprn,
                                SourceRecord.address_band, SourceRecord.kind)
                         .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                         .join(Xref, Xref.source_record_id == SourceRecord.id, isouter=True)
                         .where(SourceRecord.deleted.is_(False))).all()
        events = pd.DataFrame(s.execute(select(ChangeEvent.event_type, ChangeEvent.person_id, ChangeEvent.uprn,
                                               ChangeEvent.created_at)).all(),
                              columns=["event_type", "person_id", "uprn", "created_at"])
    hub = pd.DataFrame(rows, columns=["source", "source_key", "person_id_hub", "matched_uprn", "band", "kind"])
    truth = pd.read_csv(demo / "truth" / "records.csv", dtype={"source_key": str})
    truth = truth.sort_values("day").drop_duplicates(["source", "source_key"], keep="last")
    truth = truth.rename(columns={"person_id": "person_id_true", "uprn": "uprn_true"})
    people = hub[hub["kind"] == "person"].dropna(subset=["person_id_hub"])
    report = {"people": person_scores(people, truth)}
    addr = hub.merge(truth, on=["source", "source_key"])
    prop_truth = demo / "truth" / "property_records.csv"
    if prop_truth.exists():
        pt = pd.read_csv(prop_truth, dtype={"source_key": str}).sort_values("day")
        pt = pt.drop_duplicates(["source", "source_key"], keep="last").rename(columns={"uprn": "uprn_true"})
        addr = pd.concat([addr, hub.merge(pt, on=["source", "source_key"])])
    auto = addr[addr["band"] == "auto"]
    report["addresses"] = {
        "records": len(addr), "auto": len(auto), "auto_precision": float((auto["matched_uprn"] == auto["uprn_true"]).mean()) if len(auto) else None,
        "coverage_auto": len(auto) / len(addr) if len(addr) else None,
        "accuracy_all_bands": float((addr["matched_uprn"] == addr["uprn_true"]).mean()) if len(addr) else None,
    }
    report["events"] = events.groupby("event_type").size().to_dict()
    return report


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), indent=2, default=str))
