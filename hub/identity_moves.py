"""Move evidence for stewards: a new record at one address while a record with the same name just closed at another."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.survivorship_status import record_status
from schemas import SourceRecord, SourceSystem
from schemas.columns import Band, PairFrame, PersonRecord
from schemas.config import HubConfig

MOVE_RULE = "move_evidence"
MOVE_WINDOW = dt.timedelta(days=90)  # a closure older than this says nothing about today's new record
MAX_CANDIDATES = 3  # a common name closing in several places is no evidence at all


def _names(frame: pd.DataFrame) -> pd.DataFrame:
    from matching import standardise_people

    cols = [PersonRecord.unique_id, "source", "title", "first_name", "middle_names", "last_name", "full_name"]
    std = standardise_people(frame[[c for c in cols if c in frame]].reset_index(drop=True))
    return pd.DataFrame({"unique_id": std[PersonRecord.unique_id].astype(str), "first": std["first_name"],
                         "last": std["last_name"]}).dropna(subset=["first", "last"])


def move_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                        existing: pd.DataFrame, *, now: dt.datetime) -> pd.DataFrame:
    """Review-band pairs between a record that starts a new golden person and a recently closed record of
    another person with the same standardised first and last name at another UPRN.

    Name and address alone never prove it is the same person (a false merge is the worst failure), so this
    is never an auto link: it opens a review task that says "maybe a move". A steward who accepts it merges
    the two, and the next run raises the change of address.

    Args:
        records: the linking stage's live person records (``unique_id, source, uprn``, names, ``last_changed``).
        clusters: this run's ``unique_id, cluster_id``.
        existing: the golden memberships before this run (``unique_id, cluster_id``).
    """
    empty = pd.DataFrame(columns=list(PairFrame.COLUMNS))
    known = set(existing["unique_id"])
    cl = clusters.set_index("unique_id")["cluster_id"]
    fresh_clusters = clusters.groupby("cluster_id")["unique_id"].agg(lambda ids: not (set(ids) & known))
    starts = records[~records[PersonRecord.unique_id].isin(known)
                     & records[PersonRecord.unique_id].map(cl).map(fresh_clusters).fillna(False).astype(bool)
                     & records[PersonRecord.uprn].notna()]
    since = pd.Timestamp(now - MOVE_WINDOW)
    since = since.tz_localize("UTC") if since.tzinfo is None else since
    recent = records[records[PersonRecord.unique_id].isin(known) & records[PersonRecord.uprn].notna()
                     & (pd.to_datetime(records["last_changed"], utc=True) >= since)]
    if starts.empty or recent.empty:
        return empty
    new_names = _names(starts)
    # Standardise only records that could share a surname with a new one (a cheap token filter first).
    surnames = set(new_names["last"].str.upper().str.replace(r"[^A-Z]", "", regex=True))
    text = recent.get("last_name", pd.Series("", index=recent.index)).fillna("") + " " + \
        recent.get("full_name", pd.Series("", index=recent.index)).fillna("")
    tokens = text.str.upper().str.replace(r"[^A-Z ]", "", regex=True).str.split().explode()
    recent = recent.loc[tokens[tokens.isin(surnames)].index.unique()]
    if recent.empty:
        return empty
    old_names = _names(recent)
    cand = new_names.merge(old_names, on=["first", "last"], suffixes=("_new", "_old"))
    uprn = records.set_index(PersonRecord.unique_id)[PersonRecord.uprn]
    cand = cand[cand["unique_id_new"].map(uprn) != cand["unique_id_old"].map(uprn)]
    if cand.empty:
        return empty
    ids = [int(i) for i in cand["unique_id_old"].unique()]
    rows = session.execute(select(SourceRecord.id, SourceSystem.name, SourceSystem.trust, SourceRecord.deleted,
                                  SourceRecord.attributes, SourceRecord.date_of_death, SourceRecord.last_changed)
                           .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                           .where(SourceRecord.id.in_(ids))).all()
    status = record_status(pd.DataFrame(rows, columns=["id", "source", "trust", "deleted", "attributes", "date_of_death",
                                                       "last_changed"]), config, today=now.date())
    # closed for a move, not because the person died; from a source trusted for life events
    closed = status[~status["live"] & status["trusted"] & status["deceased_on"].isna()]["id"].astype(str)
    cand = cand[cand["unique_id_old"].isin(set(closed))]
    cand = cand[cand.groupby("unique_id_new")["unique_id_old"].transform("size") <= MAX_CANDIDATES]
    if cand.empty:
        return empty
    a, b = cand["unique_id_new"].to_numpy(dtype=object), cand["unique_id_old"].to_numpy(dtype=object)
    first = cand["unique_id_new"].astype(int).to_numpy() < cand["unique_id_old"].astype(int).to_numpy()
    return pd.DataFrame({PairFrame.unique_id_l: np.where(first, a, b), PairFrame.unique_id_r: np.where(first, b, a),
                         PairFrame.match_weight: 0.0, PairFrame.match_probability: 0.0,
                         PairFrame.band: Band.REVIEW, PairFrame.rule: MOVE_RULE}).drop_duplicates(
        [PairFrame.unique_id_l, PairFrame.unique_id_r])


def with_move_evidence(pairs: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs plus move-evidence pairs; a pair the matcher already put in a band keeps its own verdict."""
    if evidence.empty:
        return pairs
    key = lambda f: list(zip(f[PairFrame.unique_id_l].astype(str), f[PairFrame.unique_id_r].astype(str)))  # noqa: E731
    banded = pairs[pairs[PairFrame.band] != Band.NONE]
    both_ways = set(key(banded)) | {(r, l) for l, r in key(banded)}
    extra = evidence[[k not in both_ways for k in key(evidence)]]
    return pd.concat([pairs, extra], ignore_index=True) if len(extra) else pairs
