"""Move evidence: same name newly at one UPRN, just closed at another, goes to review and is never auto-linked."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.identity_moves import MOVE_RULE, move_evidence_pairs, with_move_evidence
from schemas import SourceRecord, SourceSystem

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def add(engine, source: str, key: str, name: str, uprn: int, attributes: dict | None = None) -> dict:
    with Session(engine) as s, s.begin():
        sid = s.scalar(select(SourceSystem.id).where(SourceSystem.name == source))
        rec = SourceRecord(source_id=sid, source_key=key, raw={}, content_hash=key, full_name=name, uprn=uprn,
                           attributes=attributes, last_changed=NOW - dt.timedelta(days=5))
        s.add(rec)
        s.flush()
        return {"unique_id": str(rec.id), "source": source, "full_name": name, "uprn": str(uprn),
                "last_changed": rec.last_changed}


def test_new_account_with_the_name_of_one_just_closed_elsewhere_is_review_evidence(trusted_hub) -> None:
    engine, config = trusted_hub
    moved = {"end_date": "2026-02-20", "end_reason": "MOVED OUT", "status": "CLOSED"}
    old = add(engine, "ctax", "OLD", "SMITH, JOHN A", 100, moved)
    other = add(engine, "ctax", "OTHER", "JONES, MARY", 300, moved)  # another name
    died = add(engine, "ctax", "DIED", "SMITH, JOHN", 400, {"end_date": "2026-02-20", "end_reason": "DECEASED"})
    live = add(engine, "ctax", "LIVE", "SMITH, JOHN", 500)  # still liable there: no closure, no evidence
    new = add(engine, "ctax", "NEW", "JOHN SMITH", 200)
    records = pd.DataFrame([old, other, died, live, new])
    existing = pd.DataFrame({"unique_id": [old["unique_id"], other["unique_id"], died["unique_id"], live["unique_id"]],
                             "cluster_id": ["p1", "p2", "p3", "p4"]})
    clusters = pd.concat([existing, pd.DataFrame({"unique_id": [new["unique_id"]], "cluster_id": ["n"]})])
    with Session(engine) as s:
        ev = move_evidence_pairs(s, config, records, clusters, existing, now=NOW)
    assert ev[["unique_id_l", "unique_id_r", "band", "rule"]].values.tolist() == [
        [old["unique_id"], new["unique_id"], "review", MOVE_RULE]]
    # a pair the matcher already banded keeps its verdict; evidence never becomes an auto link
    scored = pd.DataFrame({"unique_id_l": [new["unique_id"]], "unique_id_r": [old["unique_id"]], "match_weight": [3.0],
                           "match_probability": [0.9], "band": ["review"], "rule": [""]})
    assert len(with_move_evidence(scored, ev)) == 1
    assert (with_move_evidence(scored.assign(band="none"), ev)["band"] != "auto").all()
    # once the new record belongs to an existing person, or the closure is old news, there is no evidence
    with Session(engine) as s:
        joined = clusters.assign(cluster_id=["p1", "p2", "p3", "p4", "p1"])
        assert move_evidence_pairs(s, config, records, joined, existing, now=NOW).empty
        assert move_evidence_pairs(s, config, records, clusters, existing, now=NOW + dt.timedelta(days=200)).empty
