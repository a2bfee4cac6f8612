"""Change events vs the synthetic council's true life events, and incremental-run timing.

Usage:
    python benchmarks/golden/bench_events.py --people 20000 --days 30 --out /tmp/ev
    python benchmarks/golden/bench_events.py --people 20000 --days 30 --steward oracle --out /tmp/ev_st
    python benchmarks/golden/bench_events.py --people 250000 --touch 0.01 --out /tmp/inc   # 1% changed day

The first form builds day 0 in full, then runs one incremental pass per day of life events and scores the
hub's change_of_address / change_of_name / death events against truth/events.csv (move / marriage /
death). The second times an incremental run after 1% of person records were changed at their sources.
The stages are the same functions the Dagster assets call, run directly so timings are the hub's own.

``--steward oracle`` puts stewards in the loop: after each day's run (day 0 too) a simulated steward works every open
queue through the hub's own steward functions, deciding from the synthetic truth as a perfect steward would
(``hub.stewardship.accept_task`` / ``reject_task`` for person pairs: accept when both records are one true person;
``hub.property_queue.resolve_address_task`` for address tasks: the record's true UPRN when the gazetteer has it,
else "new property"). The next day's run picks the decisions up as binding constraints. Each run then also runs
the golden-properties stage (``hub.property.link_properties``), which refreshes the address queue as the pipeline
does. ``--steward-error RATE`` makes that fraction of decisions wrong (accept/reject flipped; another offered
candidate, when there is one, for an address), to show how the figures degrade with steward mistakes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.addressing import resolve_addresses
from hub.ingest import ingest_source
from hub.linking import link_people_stage
from hub.matchers import stored_gazetteer_matcher
from hub.reference import load_gazetteer_if_changed
from hub.store import open_hub
from schemas import ChangeEvent, GoldenPerson, MatchPair, Property, ReviewTask, Run, SourceRecord, SourceSystem, Xref
from schemas.config import load_config

STEWARD = "oracle"

EVENT_OF = {"move": "change_of_address", "marriage": "change_of_name", "death": "death"}


def run_once(config_path: Path, *, full: bool, properties: bool = False) -> dict[str, float]:
    """One pipeline run as ``mdh run`` makes it: a Run row, so incremental days reuse the stored model.

    ``properties`` also runs the golden-properties stage (property xref and the address custodian's queue).
    """
    cfg = load_config(config_path)
    engine = open_hub(cfg.hub)
    with Session(engine) as s, s.begin():
        run = Run(kind="full" if full else "incremental")
        s.add(run)
        s.flush()
        run_id = run.id
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
    link_people_stage(engine, cfg, run_id=run_id, full=full)
    timings["people"] = time.perf_counter() - t
    if properties:
        from hub.property import link_properties

        t = time.perf_counter()
        link_properties(engine, cfg, run_id=run_id, matcher_factory=stored_gazetteer_matcher(engine, cfg))
        timings["properties"] = time.perf_counter() - t
    timings["total"] = sum(timings.values())
    with Session(engine) as s, s.begin():
        s.get(Run, run_id).status = "ok"
    return timings


def _truth_as_of(path: Path, day: int, value: str) -> dict[tuple[str, str], object]:
    """(source, source_key) -> ``value`` as the record stood on ``day`` (truth files hold one row per version)."""
    df = pd.read_csv(path, dtype={"source_key": str})
    df = df[df["day"] <= day].sort_values("day", kind="stable").drop_duplicates(["source", "source_key"], keep="last")
    return dict(zip(zip(df["source"], df["source_key"]), df[value]))


def _record_keys(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        out.update({rid: (name, key) for rid, name, key in session.execute(
            select(SourceRecord.id, SourceSystem.name, SourceRecord.source_key)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceRecord.id.in_(ids[start : start + 500])))})
    return out


def oracle_steward(council: Path, day: int, *, error_rate: float = 0.0, rng: np.random.Generator | None = None) -> dict:
    """Work every open review task with the hub's steward functions, deciding from the synthetic truth.

    Person pairs: accept when both records belong to one true person, else reject. Address tasks: the record's
    true UPRN when it is in the gazetteer, else "new property: tell the custodian". One transaction per decision,
    as a steward's action in the app. With ``error_rate`` that fraction of decisions is wrong.
    """
    from hub.property_queue import CustodianError, resolve_address_task
    from hub.stewardship import StewardshipError, accept_task, reject_task

    rng = rng or np.random.default_rng(0)
    cfg = load_config(council / "hub.yaml")
    engine = open_hub(cfg.hub)
    person_of = _truth_as_of(council / "truth" / "records.csv", day, "person_id")
    uprn_of = {**_truth_as_of(council / "truth" / "records.csv", day, "uprn"),
               **_truth_as_of(council / "truth" / "property_records.csv", day, "uprn")}
    stats: Counter = Counter()
    with Session(engine) as s:
        pairs = s.execute(select(ReviewTask.id, MatchPair.record_id_l, MatchPair.record_id_r, MatchPair.rule)
                          .join(MatchPair, MatchPair.id == ReviewTask.pair_id)
                          .where(ReviewTask.status == "open", ReviewTask.kind == "person_pair")
                          .order_by(ReviewTask.id)).all()
        addresses = s.execute(select(ReviewTask.id, ReviewTask.source_record_id, ReviewTask.detail)
                              .where(ReviewTask.status == "open", ReviewTask.kind == "address")
                              .order_by(ReviewTask.id)).all()
        keys = _record_keys(s, sorted({r for _, a, b, _ in pairs for r in (a, b)} | {r for _, r, _ in addresses}))
        gazetteer = set(s.scalars(select(Property.uprn)))
    stats["person_open"], stats["address_open"] = len(pairs), len(addresses)
    for task_id, a, b, rule in pairs:
        pa, pb = person_of.get(keys.get(a)), person_of.get(keys.get(b))
        if pa is None or pb is None:
            stats["person_no_truth"] += 1
            continue
        accept = pa == pb
        if error_rate and rng.random() < error_rate:
            accept = not accept
            stats["person_wrong"] += 1
        try:
            with Session(engine) as s, s.begin():
                if s.get(ReviewTask, task_id).status != "open":  # answered by an earlier decision
                    stats["person_answered_by_another"] += 1
                    continue
                (accept_task if accept else reject_task)(s, cfg, task_id, steward=STEWARD, reason="benchmark oracle")
            stats["person_accepted" if accept else "person_rejected"] += 1
            if rule == "move_evidence":
                stats["move_evidence_accepted" if accept else "move_evidence_rejected"] += 1
        except StewardshipError:
            stats["person_refused"] += 1  # e.g. an accept that would undo an earlier reject (Conflict)
    for task_id, rid, detail in addresses:
        key = keys.get(rid)
        if key not in uprn_of:
            stats["address_no_truth"] += 1
            continue
        true_uprn = uprn_of[key]
        uprn = int(true_uprn) if pd.notna(true_uprn) and int(true_uprn) in gazetteer else None
        if error_rate and rng.random() < error_rate:
            others = [int(c["uprn"]) for c in (detail or {}).get("candidates", []) if c.get("uprn") not in (None, uprn)]
            if others:
                uprn = others[0]
                stats["address_wrong"] += 1
        try:
            with Session(engine) as s, s.begin():
                resolve_address_task(s, task_id, steward=STEWARD, uprn=uprn, new_property=uprn is None,
                                     reason="benchmark oracle")
            stats["address_uprn" if uprn is not None else "address_new_property"] += 1
            offered = {int(c["uprn"]) for c in (detail or {}).get("candidates", []) if c.get("uprn") is not None}
            if uprn is not None and uprn not in offered:
                stats["address_uprn_not_offered"] += 1  # the steward searched the gazetteer beyond the candidates
        except CustodianError:
            stats["address_refused"] += 1
    return dict(stats)


def _queue_counts(engine) -> dict[str, int]:
    """Review tasks by kind and status, and the highest task id (to count what a run opened)."""
    with Session(engine) as s:
        rows = s.execute(select(ReviewTask.kind, ReviewTask.status, func.count()).group_by(ReviewTask.kind,
                                                                                           ReviewTask.status)).all()
        top = s.scalar(select(func.max(ReviewTask.id))) or 0
    out = {f"{k}:{st}": int(n) for k, st, n in rows}
    out["max_id"] = int(top)
    return out


def _opened_since(engine, task_id: int) -> dict[str, int]:
    with Session(engine) as s:
        return {k: int(n) for k, n in s.execute(select(ReviewTask.kind, func.count()).where(ReviewTask.id > task_id)
                                                 .group_by(ReviewTask.kind)).all()}


def _events_since(engine, event_id: int) -> dict[str, int]:
    """Life events written after ``event_id``: by a run, or by a steward action (no run)."""
    with Session(engine) as s:
        rows = s.execute(select(ChangeEvent.event_type, ChangeEvent.run_id.is_(None), func.count())
                         .where(ChangeEvent.id > event_id, ChangeEvent.event_type.in_(list(EVENT_OF.values())))
                         .group_by(ChangeEvent.event_type, ChangeEvent.run_id.is_(None))).all()
    return {f"{t}{' (steward)' if by_steward else ''}": int(n) for t, by_steward, n in rows}


def _max_event(engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.max(ChangeEvent.id))) or 0)


def golden_to_true(engine, truth: pd.DataFrame) -> pd.Series:
    """Each golden person's true person: the majority truth over its records. A golden ID merged away since (by a
    later run or a steward) takes the true person of the golden person it redirects to."""
    with Session(engine) as s:
        rows = s.execute(select(Xref.person_id, SourceSystem.name, SourceRecord.source_key)
                         .join(SourceRecord, SourceRecord.id == Xref.source_record_id)
                         .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)).all()
        redirects = dict(s.execute(select(GoldenPerson.person_id, GoldenPerson.redirect_to)
                                   .where(GoldenPerson.redirect_to.is_not(None))).all())
    xref = pd.DataFrame(rows, columns=["golden", "source", "source_key"]).merge(truth, on=["source", "source_key"])
    mapping = xref.groupby("golden")["person_id"].agg(lambda s: s.mode().iat[0])
    merged = {}
    for g in redirects:
        seen, target = {g}, redirects[g]
        while target in redirects and target not in seen:
            seen.add(target)
            target = redirects[target]
        if target in mapping.index:
            merged[g] = mapping[target]
    return pd.concat([mapping, pd.Series(merged, dtype=mapping.dtype)]) if merged else mapping


def _change_rows(council: Path, source) -> pd.DataFrame:
    """Every upserted row of ``source`` over the prepared days, with the day it arrived."""
    parts = []
    for path in sorted((council / "changes").glob(f"day_*/{source.name}.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
        parts.append(df[df["_op"] == "upsert"].assign(_day=int(path.parent.name[4:])))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[source.key, "_day"])


def revealed_events(council: Path) -> pd.DataFrame:
    """True life events with how the sources reveal them (``how``), from truth and the rows each source was sent.

    Moves within the area, as issue 6 defines a change of address ("a person's current UPRN changes in a trusted
    source"), by the records of sources trusted for life events that state the new UPRN: ``inplace`` (a record the
    person already had), ``new_linkable`` (only a new record states it, it arrived with a date of birth and a NINO,
    and another record of the person holds both), ``new_unlinkable`` (only a new record, without a date of birth +
    NINO shared with an earlier record: in effect closed at the old UPRN + same name at the new one, which must not
    be auto-merged). Not revealed: ``told_untrusted`` (only an untrusted source, such as a service request, states
    the new UPRN), ``unknown_person`` (no source held the person before the move: the hub sees an arrival),
    ``unrevealed``. Arrivals from outside (``arrival``) are new persons, moves out of the area (``left_area``) show
    only as closures.
    Deaths: ``recorded`` when a trusted source was sent a date of death or a deceased closure reason.
    Marriages with a new surname: ``recorded`` when a source was sent a row of the person with that surname.
    """
    from hub.survivorship_status import deceased_pattern

    cfg = load_config(council / "hub.yaml")
    events = pd.read_csv(council / "truth" / "events.csv")
    records = pd.read_csv(council / "truth" / "records.csv", dtype={"source_key": str})
    first_day = records.groupby(["source", "source_key"])["day"].transform("min")
    records = records.assign(first_day=first_day)
    # a change of address is "a person's current UPRN changes in a trusted source" (issue 6)
    trusted = {s.name for s in cfg.sources if s.trust >= cfg.events.min_trust}
    pattern = deceased_pattern(cfg.events.deceased_reasons)
    person_of = records.drop_duplicates(["source", "source_key"], keep="last").set_index(["source", "source_key"])["person_id"]
    told_death: set[int] = set()
    named: set[tuple[int, str]] = set()
    with_ids: set[tuple[str, str]] = set()  # rows that arrived with both a date of birth and a NINO
    for src in cfg.sources:
        if src.kind != "person":
            continue
        rows = _change_rows(council, src)
        if rows.empty:
            continue
        if {"date_of_birth", "nino"} <= set(src.fields):
            held = rows
            if src.table:  # and the records as they stand in the source now (day-0 records too)
                cols = [src.key, src.fields["date_of_birth"], src.fields["nino"]]
                held = pd.concat([rows[cols], pd.read_sql_table(src.table, src.url, columns=cols)])
            both = held[src.fields["date_of_birth"]].notna() & held[src.fields["nino"]].notna()
            with_ids.update((src.name, str(k)) for k in held.loc[both, src.key])
        pids = pd.Series(list(zip([src.name] * len(rows), rows[src.key]))).map(person_of).to_numpy()
        if src.trust >= cfg.events.min_trust:
            dead = pd.Series(False, index=rows.index)
            if "date_of_death" in src.fields:
                dead |= rows[src.fields["date_of_death"]].notna()
            for attr in ("end_reason", "status"):
                col = src.attributes.get(attr)
                if col in rows:
                    dead |= rows[col].fillna("").map(lambda v: bool(pattern.search(v)))
            told_death.update(int(p) for p in pids[dead.to_numpy()] if pd.notna(p))
        name_cols = [src.fields[f] for f in ("last_name", "full_name") if f in src.fields]
        text = rows[name_cols].fillna("").agg(" ".join, axis=1).str.upper()
        named.update((int(p), t) for p, t in zip(pids, text) if pd.notna(p))
    how = []
    for e in events.itertuples(index=False):
        if e.event_type == "move":
            if pd.isna(e.old_uprn):
                how.append("arrival")
                continue
            if pd.isna(e.new_uprn):
                how.append("left_area")
                continue
            mine = records[records["person_id"] == e.person_id]
            at_new = mine[(mine["uprn"] == e.new_uprn) & (mine["day"] >= e.day)]
            trusted_new = at_new[at_new["source"].isin(trusted)]
            if at_new.empty:
                how.append("unrevealed")
            elif (mine["first_day"] >= e.day).all():
                how.append("unknown_person")  # no source held the person before: to the hub, an arrival
            elif trusted_new.empty:
                how.append("told_untrusted")  # only a source not trusted for where people live was told
            elif (trusted_new["first_day"] < e.day).any():
                how.append("inplace")
            else:
                new_keys = set(zip(trusted_new["source"], trusted_new["source_key"]))
                others = mine[[k not in new_keys for k in zip(mine["source"], mine["source_key"])]]
                carries_ids = any(k in with_ids for k in new_keys)
                linkable = carries_ids and any(k in with_ids for k in zip(others["source"], others["source_key"]))
                how.append("new_linkable" if linkable else "new_unlinkable")
        elif e.event_type == "death":
            how.append("recorded" if e.person_id in told_death else "unrevealed")
        elif e.event_type == "marriage":
            if e.old_last_name == e.new_last_name:
                how.append("same_name")
            else:
                seen = any(p == e.person_id and str(e.new_last_name).upper() in t for p, t in named if p == e.person_id)
                how.append("recorded" if seen else "unrevealed")
        else:
            how.append("")
    return events.assign(how=how)


REVEALED = {"change_of_address": ("inplace", "new_linkable", "new_unlinkable"), "change_of_name": ("recorded",),
            "death": ("recorded",)}
# before 7 Dec "revealed" also counted a move told only to an untrusted source, or of a person no source held before
TOLD_ANY = {"change_of_address": REVEALED["change_of_address"] + ("told_untrusted", "unknown_person"),
            "change_of_name": ("recorded",), "death": ("recorded",)}
LINKABLE = {"change_of_address": ("inplace", "new_linkable"), "change_of_name": ("recorded",), "death": ("recorded",)}
IN_TRUTH = {"change_of_address": ("inplace", "new_linkable", "new_unlinkable", "told_untrusted", "unknown_person",
                                  "unrevealed"),
            "change_of_name": ("recorded", "unrevealed"), "death": ("recorded", "unrevealed")}


def score_events(council: Path, days: int) -> dict:
    """Precision against every true event of the type; recall against all, against those the sources reveal,
    and against those revealed with evidence the matcher may link (see ``revealed_events``)."""
    config_path = council / "hub.yaml"
    cfg = load_config(config_path)
    engine = open_hub(cfg.hub)
    truth = pd.read_csv(council / "truth" / "records.csv", dtype={"source_key": str})
    truth = truth.sort_values("day").drop_duplicates(["source", "source_key"], keep="last")[["source", "source_key", "person_id"]]
    true_events = revealed_events(council)
    true_events = true_events[true_events["event_type"].isin(EVENT_OF)]
    true_events = true_events.assign(hub_type=true_events["event_type"].map(EVENT_OF))
    mapping = golden_to_true(engine, truth)
    with Session(engine) as s:
        rows = s.execute(select(ChangeEvent.event_type, ChangeEvent.person_id, ChangeEvent.run_id, ChangeEvent.source,
                                ChangeEvent.payload)
                         .where(ChangeEvent.event_type.in_(list(EVENT_OF.values())))).all()
    detected = pd.DataFrame(rows, columns=["hub_type", "golden", "run_id", "source", "payload"])
    detected["person_id"] = detected["golden"].map(mapping)
    # A golden person retired since (every record deleted at its source) has no records left to say who it was:
    # take the true person of the record the event names as its evidence.
    truth_of = dict(zip(zip(truth["source"], truth["source_key"]), truth["person_id"]))
    by_evidence = detected["payload"].map(lambda pl: truth_of.get((((pl or {}).get("evidence") or {}).get("source"),
                                                                   ((pl or {}).get("evidence") or {}).get("source_key"))))
    unmapped = detected["person_id"].isna()
    detected.loc[unmapped, "person_id"] = by_evidence[unmapped]
    out = {}
    for kind in EVENT_OF.values():
        d = detected[detected["hub_type"] == kind]
        t = true_events[true_events["hub_type"] == kind]
        det_keys = list(zip(d["person_id"], d["hub_type"]))
        res: dict = {"detected": len(det_keys), "by_how": t["how"].value_counts().to_dict()}
        every = set(zip(t.loc[t["how"].isin(IN_TRUTH[kind]), "person_id"], t.loc[t["how"].isin(IN_TRUTH[kind]), "hub_type"]))
        correct = sum(k in every for k in det_keys)
        res["correct"] = correct
        res["precision"] = correct / len(det_keys) if det_keys else None
        wrong = d[np.array([k not in every for k in det_keys], dtype=bool)]
        res["wrong"] = [{"golden": int(g), "true_person": None if pd.isna(p) else int(p), "evidence": (pl or {}).get("evidence")}
                        for g, p, pl in zip(wrong["golden"], wrong["person_id"], wrong["payload"])][:20]
        for label, hows in (("all", IN_TRUTH[kind]), ("told_any", TOLD_ANY[kind]), ("revealed", REVEALED[kind]),
                            ("linkable", LINKABLE[kind])):
            sub = t[t["how"].isin(hows)]
            keys = set(zip(sub["person_id"], sub["hub_type"]))
            found = len(keys & set(det_keys))
            res[f"true_{label}"] = len(keys)
            res[f"recall_{label}"] = found / len(keys) if keys else None
        undetected = np.array([k not in set(det_keys) for k in zip(t["person_id"], t["hub_type"])], dtype=bool)
        for label, hows in (("linkable", LINKABLE[kind]), ("revealed", REVEALED[kind])):
            missed = t[t["how"].isin(hows).to_numpy() & undetected]
            res[f"missed_{label}"] = missed[["day", "person_id", "how"]].to_dict(orient="records")[:20]
        out[kind] = res
    out["move_evidence"] = _score_move_evidence(engine, truth, true_events)
    out["mapped_by_evidence"] = int((unmapped & detected["person_id"].notna()).sum())
    coa = detected[detected["hub_type"] == "change_of_address"]
    by_steward = coa["payload"].map(lambda pl: "steward_decision" in ((pl or {}).get("evidence") or {}))
    out["change_of_address"]["steward_evidence"] = int(by_steward.sum())
    moves = [(g, ((pl or {}).get("before") or {}).get("uprn"), ((pl or {}).get("after") or {}).get("uprn"))
             for g, pl in zip(coa["golden"], coa["payload"])]
    out["change_of_address"]["repeated_moves"] = len(moves) - len(set(moves))  # same person, same from/to twice
    return out


def _score_move_evidence(engine, truth: pd.DataFrame, true_events: pd.DataFrame) -> dict:
    """Review tasks opened as move evidence: how many pair two records of one true person, and which moves."""
    with Session(engine) as s:
        rows = s.execute(select(MatchPair.record_id_l, MatchPair.record_id_r).where(MatchPair.rule == "move_evidence")).all()
        keys = dict(s.execute(select(SourceRecord.id, SourceSystem.name + ":" + SourceRecord.source_key)
                              .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)).all())
    person = dict(zip(truth["source"] + ":" + truth["source_key"], truth["person_id"]))
    same = [(person.get(keys.get(a)), person.get(keys.get(b))) for a, b in rows]
    right = {p for p, q in same if p is not None and p == q}
    name_only = true_events[(true_events["hub_type"] == "change_of_address") & (true_events["how"] == "new_unlinkable")]
    return {"pairs": len(rows), "same_true_person": sum(p is not None and p == q for p, q in same),
            "name_only_moves": int(name_only["person_id"].nunique()),
            "name_only_moves_with_evidence": len(right & set(name_only["person_id"]))}


def touch_fraction(council: Path, fraction: float, seed: int = 0, stamp: str = "2099-01-01 00:00:00") -> int:
    """Change the phone (or name case) of ``fraction`` of person rows in each SQLite source, bumping updated_at
    to ``stamp`` (a later day needs a later stamp: the extract takes rows changed after its watermark)."""
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
    parser.add_argument("--score-only", action="store_true", help="score an already-built council in --out")
    parser.add_argument("--steward", choices=("none", "oracle"), default="none",
                        help="oracle: a perfect steward works every queue after each day's run (see the module doc)")
    parser.add_argument("--steward-error", type=float, default=0.0, help="fraction of steward decisions made wrong")
    args = parser.parse_args()
    from synthetic import SynthSettings, apply_day, write_council

    if args.score_only:
        print(json.dumps(score_events(args.out, args.days), indent=2, default=str))
        return
    t = time.perf_counter()
    write_council(args.out, SynthSettings(people=args.people, days=0 if args.touch else args.days, seed=args.seed))
    report: dict = {"people": args.people, "seed": args.seed, "steward": args.steward,
                    "steward_error": args.steward_error, "synth_s": round(time.perf_counter() - t, 1)}
    steward = args.steward == "oracle"
    rng = np.random.default_rng(args.seed)
    report["day0"] = run_once(args.out / "hub.yaml", full=True, properties=steward)
    if args.touch:
        report["rows_changed"] = touch_fraction(args.out, args.touch)
        report["incremental"] = run_once(args.out / "hub.yaml", full=False)
    else:
        report["days"] = []
        report["steward_days"] = []
        engine = open_hub(load_config(args.out / "hub.yaml").hub)
        last_task, last_event = 0, 0
        for day in range(0, args.days + 1):
            if day:
                apply_day(args.out, day)
                report["days"].append(run_once(args.out / "hub.yaml", full=False, properties=steward)["total"])
            if not steward:
                continue
            row: dict = {"day": day, "opened": _opened_since(engine, last_task), "run_events": _events_since(engine, last_event)}
            last_event = _max_event(engine)
            t = time.perf_counter()
            row["steward"] = oracle_steward(args.out, day, error_rate=args.steward_error, rng=rng)
            row["steward_s"] = round(time.perf_counter() - t, 1)
            row["steward_events"] = _events_since(engine, last_event)
            last_event = _max_event(engine)
            row["queue_after"] = _queue_counts(engine)
            last_task = row["queue_after"]["max_id"]
            report["steward_days"].append(row)
            print(json.dumps(row, default=str), file=sys.stderr, flush=True)
        report["events"] = score_events(args.out, args.days)
        if steward:
            report["steward_total"] = dict(sum((Counter(r["steward"]) for r in report["steward_days"]), Counter()))
            report["opened_total"] = dict(sum((Counter(r["opened"]) for r in report["steward_days"]), Counter()))
    print(json.dumps(report, indent=2, default=lambda v: round(v, 2) if isinstance(v, float) else str(v)))


if __name__ == "__main__":
    main()
