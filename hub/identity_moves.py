"""Move evidence for stewards: a new record at one address while a record with the same name just closed at another.

Sources tell the two halves of a move in either order: the new account may open days before the old one is closed.
So the evidence is looked for both ways: a record starting a new golden person is paired with a recently closed
record of the same name (:func:`new_record_evidence_pairs`), and a record closing now is paired with a record of the
same name that started, by its source's own dates, within ``MOVE_WINDOW`` of the closure
(:func:`closure_evidence_pairs`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.survivorship_status import END_DATE, record_status
from schemas import SourceRecord, SourceSystem
from schemas.columns import Band, PairFrame, PersonRecord
from schemas.config import HubConfig
from schemas.validators import parse_dates

START_DATE = "start_date"  # attribute a source maps under `attributes:` (liable from, tenancy start, claim start)

MOVE_RULE = "move_evidence"
MOVE_WINDOW = dt.timedelta(days=90)  # a closure older than this says nothing about today's new record
MAX_CANDIDATES = 3  # a common name closing in several places is no evidence at all
FIRST_NAME_SIMILARITY = 0.8  # first names at least this alike (OSA) may be one person's written two ways


def name_table(standardised: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, first, last`` of standardised records with both names ("Mac" written "Mc")."""
    last = standardised["last_name"].astype("string").str.replace(r"^mac(?=[a-z])", "mc", regex=True, case=False)
    return pd.DataFrame({"unique_id": standardised[PersonRecord.unique_id].astype(str),
                         "first": standardised["first_name"], "last": last}).dropna(subset=["first", "last"])


def first_names_agree(a: object, b: object) -> bool:
    """Two standardised first names that may be one person's: equal, an initial and a name it begins, or one
    slip apart (OSA similarity at least ``FIRST_NAME_SIMILARITY``: "dnucan"/"duncan", "georgie"/"george").

    Examples:
        >>> [first_names_agree(a, b) for a, b in [("john", "john"), ("j", "john"), ("dnucan", "duncan"),
        ...                                       ("george", "georgie"), ("john", "jane"), ("j", "k")]]
        [True, True, True, True, False, False]
    """
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return OSA.normalized_similarity(a, b) >= FIRST_NAME_SIMILARITY


def _same_person_names(left: pd.DataFrame, right: pd.DataFrame, suffixes: tuple[str, str]) -> pd.DataFrame:
    """Pairs of ``left`` and ``right`` records with the same surname and first names that agree
    (:func:`first_names_agree`); a record with a candidate of exactly its own first name keeps only those."""
    cand = left.merge(right, on="last", suffixes=suffixes)
    a, b = f"first{suffixes[0]}", f"first{suffixes[1]}"
    cand = cand[[first_names_agree(x, y) for x, y in zip(cand[a], cand[b])]] if len(cand) else cand
    if cand.empty:
        return cand
    exact = cand[a] == cand[b]
    key = f"unique_id{suffixes[0]}"
    has_exact = exact.groupby(cand[key]).transform("any")
    return cand[exact | ~has_exact]


def _names(frame: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Standardised names of ``frame``'s records: looked up in ``table`` (every record's, see :func:`name_table`)
    when given, else standardised here."""
    if table is not None:
        return table[table["unique_id"].isin(frame[PersonRecord.unique_id].astype(str))]
    from matching import standardise_people

    cols = [PersonRecord.unique_id, "source", "title", "first_name", "middle_names", "last_name", "full_name"]
    return name_table(standardise_people(frame[[c for c in cols if c in frame]].reset_index(drop=True)))


def _surname_filter(frame: pd.DataFrame, surnames: set[str]) -> pd.DataFrame:
    """Records whose last or full name holds one of ``surnames`` (upper case, letters only, Mac written Mc): a cheap
    token filter before standardising names."""
    text = frame.get("last_name", pd.Series("", index=frame.index)).fillna("") + " " + \
        frame.get("full_name", pd.Series("", index=frame.index)).fillna("")
    tokens = text.str.upper().str.replace(r"[^A-Z ]", "", regex=True).str.split().explode()
    tokens = tokens.str.replace(r"^MAC(?=[A-Z])", "MC", regex=True)
    return frame.loc[tokens[tokens.isin(surnames)].index.unique()]


def _status(session: Session, config: HubConfig, ids: list[int], now: dt.datetime) -> pd.DataFrame:
    """``record_status`` of the given records, with their start and end dates (ISO, from mapped attributes)."""
    rows = []
    for start in range(0, len(ids), 500):
        rows.extend(session.execute(select(SourceRecord.id, SourceSystem.name, SourceSystem.trust, SourceRecord.deleted,
                                           SourceRecord.attributes, SourceRecord.date_of_death, SourceRecord.last_changed)
                                    .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                                    .where(SourceRecord.id.in_(ids[start : start + 500]))).all())
    frame = pd.DataFrame(rows, columns=["id", "source", "trust", "deleted", "attributes", "date_of_death", "last_changed"])
    status = record_status(frame, config, today=now.date())
    formats = {s.name: s.date_format for s in config.sources}
    for attr in (START_DATE, END_DATE):
        raw = status["attributes"].map(lambda a, k=attr: a.get(k) if isinstance(a, dict) else None)
        out = pd.Series(None, index=status.index, dtype=object)
        for source, idx in status.groupby("source").groups.items():
            out.loc[idx] = parse_dates(raw.loc[idx], date_format=formats.get(source), today=now.date())[0]
        status[attr] = pd.to_datetime(out, errors="coerce")
    status["id"] = status["id"].astype(str)
    return status


def _pair_frame(cand: pd.DataFrame, a_col: str, b_col: str) -> pd.DataFrame:
    a, b = cand[a_col].to_numpy(dtype=object), cand[b_col].to_numpy(dtype=object)
    first = cand[a_col].astype(int).to_numpy() < cand[b_col].astype(int).to_numpy()
    return pd.DataFrame({PairFrame.unique_id_l: np.where(first, a, b), PairFrame.unique_id_r: np.where(first, b, a),
                         PairFrame.match_weight: 0.0, PairFrame.match_probability: 0.0,
                         PairFrame.band: Band.REVIEW, PairFrame.rule: MOVE_RULE}).drop_duplicates(
        [PairFrame.unique_id_l, PairFrame.unique_id_r])


def move_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                        existing: pd.DataFrame, *, now: dt.datetime,
                        standardised: pd.DataFrame | None = None) -> pd.DataFrame:
    """Review-band pairs that say "maybe a move", found both ways: :func:`new_record_evidence_pairs` and, when
    ``records`` carry the linking stage's ``linked_hash`` and ``new_linked_hash`` (what changed in this run),
    :func:`closure_evidence_pairs`. ``standardised`` (the matcher's standardised records, when the caller has them)
    saves standardising names again."""
    names = name_table(standardised) if standardised is not None else None
    found = new_record_evidence_pairs(session, config, records, clusters, existing, now=now, names=names)
    if {"linked_hash", "new_linked_hash"} <= set(records.columns):
        changed = set(records.loc[records["linked_hash"] != records["new_linked_hash"], PersonRecord.unique_id])
        later = closure_evidence_pairs(session, config, records, clusters, changed, now=now, names=names)
        if len(later):
            found = later if found.empty else pd.concat([found, later], ignore_index=True).drop_duplicates(
                [PairFrame.unique_id_l, PairFrame.unique_id_r])
    return found


def new_record_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                              existing: pd.DataFrame, *, now: dt.datetime,
                              names: pd.DataFrame | None = None) -> pd.DataFrame:
    """Review-band pairs between a record that starts a new golden person and a recently closed record of
    another person with the same standardised first and last name at another UPRN (when both sources date
    them, closed within ``MOVE_WINDOW`` of the new record's start).

    Name and address alone never prove it is the same person (a false merge is the worst failure), so this
    is never an auto link: it opens a review task that says "maybe a move". A steward who accepts it merges
    the two and, in the same transaction, raises the change of address (``hub.stewardship.accept_pair``).

    Args:
        records: the linking stage's live person records (``unique_id, source, uprn``, names, ``last_changed``).
        clusters: this run's ``unique_id, cluster_id``.
        existing: the golden memberships before this run (``unique_id, cluster_id``).
        names: every record's standardised names (:func:`name_table`), or None to standardise them here.
    """
    empty = pd.DataFrame(columns=list(PairFrame.COLUMNS))
    known = pd.Index(existing["unique_id"].astype(str)).unique()
    cl = clusters.set_index("unique_id")["cluster_id"]
    fresh_clusters = ~pd.Series(known.get_indexer(clusters["unique_id"]) >= 0,
                                index=clusters.index).groupby(clusters["cluster_id"]).any()
    is_known = known.get_indexer(records[PersonRecord.unique_id]) >= 0
    starts = records[~is_known
                     & records[PersonRecord.unique_id].map(cl).map(fresh_clusters).fillna(False).astype(bool)
                     & records[PersonRecord.uprn].notna()]
    since = pd.Timestamp(now - MOVE_WINDOW)
    since = since.tz_localize("UTC") if since.tzinfo is None else since
    recent = records[is_known & records[PersonRecord.uprn].notna()
                     & (pd.to_datetime(records["last_changed"], utc=True) >= since)]
    if starts.empty or recent.empty:
        return empty
    new_names = _names(starts, names)
    if names is None:  # standardise only records that could share a surname with a new one (a cheap token filter)
        surnames = set(new_names["last"].str.upper().str.replace(r"[^A-Z]", "", regex=True))
        recent = _surname_filter(recent, surnames)
        if recent.empty:
            return empty
    old_names = _names(recent, names)
    cand = _same_person_names(new_names, old_names, ("_new", "_old"))
    uprn = records.set_index(PersonRecord.unique_id)[PersonRecord.uprn]
    cand = cand[cand["unique_id_new"].map(uprn) != cand["unique_id_old"].map(uprn)]
    if cand.empty:
        return empty
    status = _status(session, config, [int(i) for i in cand["unique_id_old"].unique()], now)
    # closed for a move, not because the person died; from a source trusted for life events
    closed = status[~status["live"] & status["trusted"] & status["deceased_on"].isna()]
    cand = cand[cand["unique_id_old"].isin(set(closed["id"]))]
    if cand.empty:
        return empty
    # When both sources date it, the closure must fall within MOVE_WINDOW of the new record's start: an account
    # closed years ago is not today's move, however recently the hub loaded it.
    starts = _status(session, config, [int(i) for i in cand["unique_id_new"].unique()], now).set_index("id")[START_DATE]
    gap = (cand["unique_id_new"].map(starts) - cand["unique_id_old"].map(closed.set_index("id")[END_DATE])).abs()
    cand = cand[gap.isna() | (gap <= pd.Timedelta(MOVE_WINDOW))]
    cand = cand[cand.groupby("unique_id_new")["unique_id_old"].transform("size") <= MAX_CANDIDATES]
    if cand.empty:
        return empty
    return _pair_frame(cand, "unique_id_new", "unique_id_old")


def closure_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                           changed: set[str], *, now: dt.datetime, names: pd.DataFrame | None = None) -> pd.DataFrame:
    """Review-band pairs between a record of a trusted source that closes in this run (not for a death) and a live
    record of another golden person with the same standardised first and last name at another UPRN whose source
    dates its start within ``MOVE_WINDOW`` of the closure: the new account opened before the old one was closed.

    Args:
        records: the linking stage's live person records (``unique_id, source, uprn``, names).
        clusters: this run's ``unique_id, cluster_id``.
        changed: ids of the records new or changed in this run.
        names: every record's standardised names (:func:`name_table`), or None to standardise them here.
    """
    empty = pd.DataFrame(columns=list(PairFrame.COLUMNS))
    has_uprn = records[PersonRecord.uprn].notna()
    closing = records[records[PersonRecord.unique_id].isin(changed) & has_uprn]
    if closing.empty:
        return empty
    status = _status(session, config, [int(i) for i in closing[PersonRecord.unique_id]], now)
    ends = status[~status["live"] & status["trusted"] & status["deceased_on"].isna() & status[END_DATE].notna()]
    closing = closing[closing[PersonRecord.unique_id].isin(set(ends["id"]))]
    if closing.empty:
        return empty
    old_names = _names(closing, names)
    others = records[has_uprn & ~records[PersonRecord.unique_id].isin(set(closing[PersonRecord.unique_id]))]
    if names is None:
        surnames = set(old_names["last"].str.upper().str.replace(r"[^A-Z]", "", regex=True))
        others = _surname_filter(others, surnames)
    if others.empty:
        return empty
    cand = _same_person_names(old_names, _names(others, names), ("_old", "_new"))
    uprn = records.set_index(PersonRecord.unique_id)[PersonRecord.uprn]
    cl = clusters.set_index("unique_id")["cluster_id"]
    cand = cand[(cand["unique_id_new"].map(uprn) != cand["unique_id_old"].map(uprn))
                & (cand["unique_id_new"].map(cl) != cand["unique_id_old"].map(cl))]
    if cand.empty:
        return empty
    starts = _status(session, config, [int(i) for i in cand["unique_id_new"].unique()], now)
    starts = starts[starts["live"] & starts[START_DATE].notna()].set_index("id")[START_DATE]
    ended = ends.set_index("id")[END_DATE]
    gap = (cand["unique_id_new"].map(starts) - cand["unique_id_old"].map(ended)).abs()
    cand = cand[gap.notna() & (gap <= pd.Timedelta(MOVE_WINDOW))]
    cand = cand[cand.groupby("unique_id_old")["unique_id_new"].transform("size") <= MAX_CANDIDATES]
    if cand.empty:
        return empty
    return _pair_frame(cand, "unique_id_new", "unique_id_old")


def with_move_evidence(pairs: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs plus move-evidence pairs; a pair the matcher already put in a band keeps its own verdict."""
    if evidence.empty:
        return pairs
    key = lambda f: list(zip(f[PairFrame.unique_id_l].astype(str), f[PairFrame.unique_id_r].astype(str)))  # noqa: E731
    banded = pairs[pairs[PairFrame.band] != Band.NONE]
    both_ways = set(key(banded)) | {(r, l) for l, r in key(banded)}
    extra = evidence[[k not in both_ways for k in key(evidence)]]
    return pd.concat([pairs, extra], ignore_index=True) if len(extra) else pairs


def dated_move_starts(session: Session, config: HubConfig, side_a: set[int], side_b: set[int], *,
                      now: dt.datetime) -> set[int]:
    """Records that start a move when a steward joins ``side_a`` and ``side_b`` (records of two golden persons).

    A steward who accepts an ordinary review pair says the two sides are one person; their sources' own dates say
    whether that person moved: a record of a trusted source on one side closed (not for a death) and a live record
    of a trusted source on the other side, at another UPRN, starting within ``MOVE_WINDOW`` of that closure, which
    the hub saw happen (the record changed after the hub first saw it). The live records returned are news to the
    person (:func:`hub.stewardship.accept_pair` raises the change of address). A duplicate closed years before its
    namesake's new account started, or one that arrived closed, is a correction, not a move: nothing is returned.
    """
    ids = sorted(side_a | side_b)
    if not side_a or not side_b:
        return set()
    status = _status(session, config, ids, now)
    facts = {rid: (uprn, changed) for rid, uprn, changed in session.execute(select(
        SourceRecord.id,
        func.coalesce(SourceRecord.uprn, case((SourceRecord.address_band == Band.AUTO, SourceRecord.matched_uprn),
                                              else_=None)),
        SourceRecord.last_changed > SourceRecord.first_seen).where(SourceRecord.id.in_(ids)))}
    status["uprn"] = status["id"].astype(int).map(lambda i: facts[i][0])
    status["seen_to_change"] = status["id"].astype(int).map(lambda i: bool(facts[i][1]))
    status["side"] = status["id"].astype(int).map(lambda i: "a" if i in side_a else "b")
    # The hub saw the closure happen: a record that arrived already closed (a backlog, a newly connected source)
    # tells of a move before the hub's time, and merging its duplicate corrects a record, it moves nobody today.
    closed = status[~status["live"] & status["trusted"] & status["deceased_on"].isna() & status[END_DATE].notna()
                    & status["uprn"].notna() & status["seen_to_change"]]
    starts = status[status["live"] & status["trusted"] & status[START_DATE].notna() & status["uprn"].notna()]
    out: set[int] = set()
    for _, end in closed.iterrows():
        other = starts[(starts["side"] != end["side"]) & (starts["uprn"] != end["uprn"])]
        near = (other[START_DATE] - end[END_DATE]).abs() <= pd.Timedelta(MOVE_WINDOW)
        out |= set(other.loc[near, "id"].astype(int))
    return out
