"""Person linkage stage: score changed records against the hub, honour stewards' decisions, cluster, update golden persons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, String, func, insert, select, update
from sqlalchemy.orm import Session

from hub.frames import read_frame
from hub.golden import GoldenSummary, apply_clusters, drop_deleted_records, orphaned_persons
from hub.identity_links import identifier_links, kept_memberships
from hub.identity_moves import MOVE_RULE, move_evidence_pairs, with_move_evidence
from schemas import MatchPair, ReviewTask, Run, SourceRecord, SourceSystem, StewardDecision, Xref
from schemas.base import utcnow
from schemas.columns import Band, PairFrame, PersonRecord
from schemas.config import HubConfig

if TYPE_CHECKING:
    from matching import MatchResult

# ``matching.link_people``'s signature: another engine (the Spark option) may score a full rebuild in its place.
Linker = Callable[..., "MatchResult"]

MATCH_FIELDS = ("title", "first_name", "middle_names", "last_name", "full_name", "date_of_birth", "nino",
                "email", "phone", "address", "postcode")
CHUNK = 500


@dataclass
class LinkSummary:
    """What the linkage stage did."""

    records: int = 0
    changed: int = 0
    deleted: int = 0
    pairs_scored: int = 0
    auto_pairs: int = 0
    review_pairs: int = 0
    review_tasks_opened: int = 0
    standardised: int = 0  # records standardised afresh (the others were reused from the cache)
    move_evidence: int = 0  # review pairs opened as possible moves (closed at one UPRN, same name new at another)
    clusters_in_scope: int = 0
    blocking: dict[str, int] = field(default_factory=dict)
    golden: GoldenSummary = field(default_factory=GoldenSummary)


def linked_hash(content_hash: str, address_hash: str | None) -> str:
    """What a record's link was computed on: its content and its resolved address."""
    return f"{content_hash[:32]}{(address_hash or '')[:32]}"


def load_person_records(session: Session) -> pd.DataFrame:
    """Every live person record as the matcher's input (``unique_id`` is the record id as text)."""
    # linked_hash() of every record, computed by the database (two fewer 64-character columns to read)
    new_linked_hash = (func.substr(SourceRecord.content_hash, 1, 32, type_=String)
                       + func.substr(func.coalesce(SourceRecord.address_hash, ""), 1, 32, type_=String)).label("new_linked_hash")
    cols = [SourceRecord.id, SourceSystem.name.label("source"), new_linked_hash,
            SourceRecord.linked_hash, SourceRecord.uprn.label("source_uprn"), SourceRecord.matched_uprn,
            SourceRecord.address_band, SourceRecord.last_changed, *[getattr(SourceRecord, f) for f in MATCH_FIELDS]]
    cols.append(Xref.person_id)  # the golden person holding it (None for a record not linked yet)
    stmt = (select(*cols).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .outerjoin(Xref, Xref.source_record_id == SourceRecord.id)
            .where(SourceRecord.deleted.is_(False), SourceRecord.kind == "person"))
    frame = read_frame(session, stmt, datetime_columns=["last_changed"])
    trusted = frame["matched_uprn"].where(frame["address_band"] == Band.AUTO)
    uprn = pd.to_numeric(frame["source_uprn"].where(frame["source_uprn"].notna(), trusted)).astype("Int64")
    frame[PersonRecord.uprn] = uprn.astype("string").astype(object).where(uprn.notna(), None)
    frame[PersonRecord.unique_id] = frame["id"].astype(str)
    return frame


def steward_constraints(session: Session) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Must-link and cannot-link record pairs from active steward decisions (they bind every run)."""
    must, cannot = set(), set()
    for d in session.scalars(select(StewardDecision).where(StewardDecision.active.is_(True),
                                                           StewardDecision.action.in_(("accept", "reject", "split")))):
        if d.record_id_l is None or d.record_id_r is None:
            continue
        pair = tuple(sorted((str(d.record_id_l), str(d.record_id_r))))
        (must if d.action == "accept" else cannot).add(pair)
    return must, cannot


def existing_clusters(records: pd.DataFrame) -> pd.DataFrame:
    """Current golden memberships (``unique_id, cluster_id``) of the live records (:func:`load_person_records`):
    incremental runs grow them, never unpick them."""
    held = records[records["person_id"].notna()]
    return pd.DataFrame({"unique_id": held[PersonRecord.unique_id].to_numpy(dtype=object),
                         "cluster_id": ("p" + held["person_id"].astype("int64").astype(str)).to_numpy(dtype=object)})


def _latest_model(session: Session) -> dict[str, Any] | None:
    return session.scalar(select(Run.model).where(Run.model.is_not(None), Run.status == "ok").order_by(Run.id.desc()).limit(1))


def link_people_stage(engine: Engine, config: HubConfig, *, run_id: int | None, full: bool = False,
                      now: dt.datetime | None = None, linker: Linker | None = None) -> LinkSummary:
    """Link new and changed person records and bring golden persons up to date, in one transaction.

    ``linker`` scores a full rebuild in place of the local engine (the Spark option); whatever scores, the pairs,
    review tasks and golden persons are written here, so the hub store stays the system of record. Incremental
    runs always score locally: their work is proportional to the change.
    """
    from hub.standardised_cache import cache_dir, standardise_with_cache
    from matching import Constraints, FellegiSunterModel, MatchSettings, link_people
    from matching.standardise import STANDARDISED_FLAG
    from matching.standardise_memo import DIGEST

    link = linker if (linker is not None and full) else link_people

    now = now or utcnow()
    summary = LinkSummary()
    with Session(engine) as session, session.begin():
        records = load_person_records(session)
        summary.records = len(records)
        changed = records if full else records[records["linked_hash"] != records["new_linked_hash"]]
        deleted_ids = [rid for (rid,) in session.execute(
            select(Xref.source_record_id).join(SourceRecord, SourceRecord.id == Xref.source_record_id)
            .where(SourceRecord.deleted.is_(True)))]
        summary.changed, summary.deleted = len(changed), len(deleted_ids)
        if changed.empty and not deleted_ids:
            return summary
        affected_persons = set()
        for start in range(0, len(deleted_ids), CHUNK):
            affected_persons.update(session.scalars(select(Xref.person_id).where(
                Xref.source_record_id.in_(deleted_ids[start : start + CHUNK]))))
        drop_deleted_records(session, deleted_ids)
        affected_persons |= orphaned_persons(session)  # and any a crashed or older run left without records

        must, cannot = steward_constraints(session)
        current = None if full else existing_clusters(records)
        if current is not None:  # people move and change names: see hub.identity_links
            # Every existing membership is pinned (the matcher's chain checks cross pairs, and a record that moved
            # no longer matches its old siblings on its own), unless identities conflict.
            must |= kept_memberships(records, set(current["unique_id"]), current, cannot)
            must |= identifier_links(records, set(changed[PersonRecord.unique_id]), current, cannot)
        settings = MatchSettings(auto_threshold=config.thresholds.auto_merge, review_threshold=config.thresholds.review,
                                 deduplicated_sources=tuple(s.name for s in config.sources if s.deduplicated))
        stored_model = None if full else _latest_model(session)
        model = FellegiSunterModel.from_dict(stored_model) if stored_model else None
        labelled = _labelled_pairs(session)
        inputs = records[[PersonRecord.unique_id, "source", PersonRecord.uprn, *MATCH_FIELDS]]
        standardised = None
        if link is link_people:  # another engine standardises in its own way
            standardised, summary.standardised = standardise_with_cache(cache_dir(config), inputs,
                                                                        extra_columns=settings.extra_id_columns)
            inputs = standardised.drop(columns=[DIGEST])
            inputs.attrs[STANDARDISED_FLAG] = True
        new_ids = None if full else set(changed[PersonRecord.unique_id])
        result = link(inputs, settings=settings, constraints=Constraints(frozenset(must), frozenset(cannot)),
                      model=model, new_ids=new_ids, labelled_pairs=labelled, existing_clusters=current)
        report = result.blocking_report
        summary.blocking = {str(r): int(n) for r, n in zip(report["rule"], report["candidate_pairs"])}
        pairs = result.pairs
        summary.pairs_scored = len(pairs)
        if run_id is not None:
            session.execute(update(Run).where(Run.id == run_id).values(model=result.model.to_dict()))

        clusters = result.clusters.rename(columns={"unique_id": "uid"})
        clusters["record_id"] = clusters["uid"].astype(int)
        if full:
            scope = clusters
        else:
            touched = set(changed["id"].astype(int))
            kept = pairs[pairs[PairFrame.band] != Band.NONE]
            touched |= set(kept[PairFrame.unique_id_l].astype(int)) | set(kept[PairFrame.unique_id_r].astype(int))
            persons = set(affected_persons)
            touched_list = sorted(touched)
            for start in range(0, len(touched_list), CHUNK):
                persons.update(session.scalars(select(Xref.person_id).where(
                    Xref.source_record_id.in_(touched_list[start : start + CHUNK]))))
            person_list = sorted(persons)
            for start in range(0, len(person_list), CHUNK):
                touched.update(session.scalars(select(Xref.source_record_id).where(
                    Xref.person_id.in_(person_list[start : start + CHUNK]))))
            scope_clusters = set(clusters.loc[clusters["record_id"].isin(touched), "cluster_id"])
            scope = clusters[clusters["cluster_id"].isin(scope_clusters)]
        summary.clusters_in_scope = scope["cluster_id"].nunique()
        best = _best_link(pairs, scope)
        scope = scope.merge(best, on="record_id", how="left")
        summary.golden = apply_clusters(session, config, scope[["record_id", "cluster_id", "link_band", "link_score"]],
                                        run_id=run_id, now=now, vacated=affected_persons)
        if current is not None:  # incremental runs: new records that may be people who moved (review only)
            evidence = move_evidence_pairs(session, config, records, result.clusters, current, now=now,
                                           standardised=standardised)
            summary.move_evidence = len(evidence)
            pairs = with_move_evidence(pairs, evidence)
        summary.auto_pairs, summary.review_pairs, summary.review_tasks_opened = _store_pairs(
            session, pairs, clusters, cannot, run_id)
        updates = [{"id": int(r.id), "linked_hash": r.new_linked_hash} for r in changed.itertuples(index=False)]
        for start in range(0, len(updates), 20_000):
            session.execute(update(SourceRecord), updates[start : start + 20_000])
    return summary


def _best_link(pairs: pd.DataFrame, scope: pd.DataFrame) -> pd.DataFrame:
    """Each record's strongest auto link inside its cluster (for the xref's band and score)."""
    if pairs.empty:
        return pd.DataFrame({"record_id": pd.Series(dtype=int), "link_band": pd.Series(dtype=object),
                             "link_score": pd.Series(dtype=float)})
    cl = scope.set_index("record_id")["cluster_id"]
    both = pd.concat([
        pairs[[PairFrame.unique_id_l, PairFrame.unique_id_r, PairFrame.match_probability, PairFrame.band]]
        .rename(columns={PairFrame.unique_id_l: "a", PairFrame.unique_id_r: "b"}),
        pairs[[PairFrame.unique_id_r, PairFrame.unique_id_l, PairFrame.match_probability, PairFrame.band]]
        .rename(columns={PairFrame.unique_id_r: "a", PairFrame.unique_id_l: "b"}),
    ])
    both["a"], both["b"] = both["a"].astype(int), both["b"].astype(int)
    both = both[both["a"].isin(cl.index) & both["b"].isin(cl.index)]
    both = both[both["a"].map(cl) == both["b"].map(cl)]
    best = both.sort_values(PairFrame.match_probability, ascending=False).drop_duplicates("a")
    return pd.DataFrame({"record_id": best["a"], "link_band": best[PairFrame.band],
                         "link_score": best[PairFrame.match_probability]})


def _labelled_pairs(session: Session) -> pd.DataFrame | None:
    rows = session.execute(select(StewardDecision.record_id_l, StewardDecision.record_id_r, StewardDecision.action)
                           .where(StewardDecision.active.is_(True), StewardDecision.action.in_(("accept", "reject")),
                                  StewardDecision.record_id_l.is_not(None), StewardDecision.record_id_r.is_not(None))).all()
    if not rows:
        return None
    return pd.DataFrame({"unique_id_l": [str(r[0]) for r in rows], "unique_id_r": [str(r[1]) for r in rows],
                         "is_match": [r[2] == "accept" for r in rows]})


def _pair_ids(session: Session, left_ids: list[int]) -> dict[tuple[int, int], int]:
    return {k: v[0] for k, v in _stored_pairs(session, left_ids).items()}


def _stored_pairs(session: Session, left_ids: list[int]) -> dict[tuple[int, int], tuple[int, float, str, str | None]]:
    """``(record_id_l, record_id_r) -> (id, match_weight, band, rule)`` of the stored pairs of these left records."""
    found: dict[tuple[int, int], tuple[int, float, str, str | None]] = {}
    for start in range(0, len(left_ids), CHUNK):
        for pid, a, b, weight, band, rule in session.execute(
                select(MatchPair.id, MatchPair.record_id_l, MatchPair.record_id_r, MatchPair.match_weight,
                       MatchPair.band, MatchPair.rule).where(MatchPair.record_id_l.in_(left_ids[start : start + CHUNK]))):
            found[(a, b)] = (pid, weight, band, rule)
    return found


def _store_pairs(session: Session, pairs: pd.DataFrame, clusters: pd.DataFrame, cannot: set[tuple[str, str]],
                 run_id: int | None) -> tuple[int, int, int]:
    """Keep auto and review pairs; open a review task for every grey-zone or split-apart pair no steward decided."""
    kept = pairs[pairs[PairFrame.band] != Band.NONE].copy()
    if kept.empty:
        return 0, 0, 0
    kept["l"], kept["r"] = kept[PairFrame.unique_id_l].astype(int), kept[PairFrame.unique_id_r].astype(int)
    swap = kept["l"] > kept["r"]
    kept.loc[swap, ["l", "r"]] = kept.loc[swap, ["r", "l"]].values
    expl_cols = [c for c in kept.columns if c.startswith(("w_", "weight_", "gamma_", "level_", "tf_"))]
    rows = [{"record_id_l": r["l"], "record_id_r": r["r"], "match_weight": float(r[PairFrame.match_weight]),
             "match_probability": float(r[PairFrame.match_probability]), "band": r[PairFrame.band],
             "rule": r.get(PairFrame.rule) if isinstance(r.get(PairFrame.rule), str) else None,
             "explanation": {c: _plain(r[c]) for c in expl_cols}, "run_id": run_id}
            for r in kept.to_dict(orient="records")]
    left_ids = sorted(set(kept["l"]))
    stored = _stored_pairs(session, left_ids)
    existing = {k: v[0] for k, v in stored.items()}
    # a pair scored as before (weight, band and rule) is not rewritten: its run_id says when its verdict last changed
    updates = [{"id": stored[k][0], **x} for x in rows
               if (k := (x["record_id_l"], x["record_id_r"])) in stored
               and stored[k][1:] != (x["match_weight"], x["band"], x["rule"])]
    fresh = [x for x in rows if (x["record_id_l"], x["record_id_r"]) not in existing]
    if updates:
        session.execute(update(MatchPair), updates)
    if fresh:
        session.execute(insert(MatchPair), fresh)
        existing = _pair_ids(session, left_ids)
    open_records = session.execute(
        select(ReviewTask.pair_id, MatchPair.record_id_l, MatchPair.record_id_r, MatchPair.rule)
        .join(MatchPair, MatchPair.id == ReviewTask.pair_id).where(ReviewTask.status == "open")).all()
    open_pairs = {pid for pid, _a, _b, _rule in open_records}
    cl = clusters.set_index("record_id")["cluster_id"]
    rejected = {tuple(sorted(int(x) for x in p)) for p in cannot}
    # persons a steward has said are two: a name alone never asks about them again, whichever records it pairs
    apart = {frozenset((cl.get(a), cl.get(b))) for a, b in rejected}
    # persons a move question already asks about: another record of theirs does not ask it twice
    asked = {frozenset((cl.get(a), cl.get(b))) for _pid, a, b, rule in open_records if rule == MOVE_RULE}
    tasks = []
    for x in rows:
        a, b = x["record_id_l"], x["record_id_r"]
        pid = existing[(a, b)]
        if pid in open_pairs or (a, b) in rejected or cl.get(a) == cl.get(b):
            continue
        if x["rule"] == MOVE_RULE and ((persons := frozenset((cl.get(a), cl.get(b)))) in apart or persons in asked):
            continue
        if x["rule"] == MOVE_RULE:
            asked.add(persons)
        tasks.append({"kind": "person_pair", "status": "open", "pair_id": pid, "score": x["match_probability"],
                      "detail": {"band": x["band"], **({"reason": MOVE_RULE} if x["rule"] == MOVE_RULE else {})}})
    if tasks:
        session.execute(insert(ReviewTask), tasks)
    auto = int((kept[PairFrame.band] == Band.AUTO).sum())
    return auto, len(kept) - auto, len(tasks)


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v
