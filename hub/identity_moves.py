"""Move evidence for stewards: a new record at one address while a record with the same name just closed at another.

Sources tell the two halves of a move in either order: the new account may open days before the old one is closed.
So the evidence is looked for both ways: a record starting a new golden person is paired with a recently closed
record of the same name (:func:`new_record_evidence_pairs`), and a record closing now is paired with a record of the
same name that started, by its source's own dates, within ``MOVE_WINDOW`` of the closure
(:func:`closure_evidence_pairs`). Often nothing closes at all: the resident told one department (a new council tax
account) and every other system still holds the old address. A new record of a trusted source whose name one
other person in the hub holds, or a few do, at another address, is then put to a steward too, once per holder
(:func:`unclosed_evidence_pairs`): the question "tell us once" exists to ask. A person whose own records state
another middle initial or date of birth holds no such name, and a middle initial that one of a few holders states
singles that one out, as does the household the new record arrives with (:mod:`hub.identity_households`).

A record "starts" a golden person when it arrived in this run in a cluster of its own, or when it arrived recently
(within ``MOVE_WINDOW``) as a person of its own and only now has a UPRN (an address steward resolved its address).
Names are compared as sources write them: an initial or a slipped letter in the first name, a slipped letter in the
surname when the first name is exact, or the two names written in the other order; a middle initial or a date of
birth that both records hold and that differ rule a pair out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from hub.identity_households import companions, origins, recent_residences, singled_out_by_household
from hub.survivorship_status import END_DATE, record_status
from matching.arrays import isin
from matching.names import is_transposition, nickname_pair_keys, related_names
from schemas import Run, SourceRecord, SourceSystem
from schemas.columns import Band, PairFrame, PersonRecord
from schemas.config import HubConfig
from schemas.validators import parse_dates

START_DATE = "start_date"  # attribute a source maps under `attributes:` (liable from, tenancy start, claim start)

MOVE_RULE = "move_evidence"
MOVE_WINDOW = dt.timedelta(days=90)  # a closure older than this says nothing about today's new record
MAX_CANDIDATES = 3  # a common name closing in several places is no evidence at all
MAX_HOLDERS = 3  # a new record asks about each of at most this many holders of its name; more: none, unless singled out
MAX_NAMESAKES = 5  # a middle initial may single out one of at most this many persons holding a name
FIRST_NAME_SIMILARITY = 0.8  # first names at least this alike (OSA) may be one person's written two ways
NAME_CHUNK = 1_000  # new records compared with the hub's names at a time (bounds memory, not the result)
BACKLOG_STARTS = 5_000  # more new persons than this in one run: a backlog (a newly connected source), not a day's moves


def name_table(standardised: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, first, last, middle, dob`` of standardised records with both names ("Mac" written "Mc"):
    ``middle`` is the first middle initial and ``dob`` the date of birth, each None where the record has none."""
    last = standardised["last_name"].astype("string").str.replace(r"^mac(?=[a-z])", "mc", regex=True, case=False)
    none = pd.Series(None, index=standardised.index, dtype=object)
    middle = standardised["middle_names"].astype("string").str[:1] if "middle_names" in standardised else none
    dob = standardised["date_of_birth"] if "date_of_birth" in standardised else none
    table = pd.DataFrame({"unique_id": standardised[PersonRecord.unique_id].astype(str),
                          "first": standardised["first_name"], "last": last,
                          "middle": middle.astype(object).where(middle.notna(), None),
                          "dob": dob.astype(object).where(dob.notna(), None)})
    return table.dropna(subset=["first", "last"])


def first_names_agree(a: object, b: object) -> bool:
    """Two standardised first names that may be one person's: equal, an initial and a name it begins, one slip
    apart (OSA similarity at least ``FIRST_NAME_SIMILARITY``: "dnucan"/"duncan", "georgie"/"george"), two
    neighbouring letters swapped in a short name, which that similarity cannot allow ("jcak"/"jack": one slip in
    four letters, while "john"/"joan" are two names), or a name and its nickname ("alec"/"alexander", from the
    ``nicknames`` package's list: one department writes the name a resident gives, another the one on a form).

    Examples:
        >>> [first_names_agree(a, b) for a, b in [("john", "john"), ("j", "john"), ("dnucan", "duncan"),
        ...                                       ("george", "georgie"), ("jcak", "jack"), ("alec", "alexander"),
        ...                                       ("john", "jane"), ("john", "joan"), ("j", "k")]]
        [True, True, True, True, True, True, False, False, False]
    """
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return OSA.normalized_similarity(a, b) >= FIRST_NAME_SIMILARITY or is_transposition(a, b) or _nicknames(a, b)


def _nicknames(a: str, b: str) -> bool:
    """``a`` and ``b`` are a name and its nickname, either way round (:func:`matching.names.related_names`)."""
    return b in related_names(a) or a in related_names(b)


def surnames_agree(a: object, b: object) -> bool:
    """Two standardised surnames one slip apart (OSA similarity at least ``FIRST_NAME_SIMILARITY``), both at
    least four letters: "dnucan"/"duncan", not "lee"/"lea"."""
    return isinstance(a, str) and isinstance(b, str) and min(len(a), len(b)) >= 4 \
        and OSA.normalized_similarity(a, b) >= FIRST_NAME_SIMILARITY


def _agreeing_first_names(a: pd.Series, b: pd.Series) -> np.ndarray:
    """:func:`first_names_agree` over two aligned columns, vectorised."""
    x, y = a.astype("string").fillna(""), b.astype("string").fillna("")
    exact = (x == y).to_numpy() & (x != "").to_numpy()
    short = (x.str.len() == 1) | (y.str.len() == 1)
    initial = short.to_numpy() & (x.str[:1] == y.str[:1]).to_numpy() & (x != "").to_numpy() & (y != "").to_numpy()
    both_long = ~short.to_numpy() & (x != "").to_numpy() & (y != "").to_numpy()
    similar = np.zeros(len(x), dtype=bool)
    if both_long.any():
        xs, ys = x[both_long].tolist(), y[both_long].tolist()
        distance = process.cpdist(xs, ys, scorer=OSA.distance)
        longer = np.maximum(x[both_long].str.len().to_numpy(dtype=float), y[both_long].str.len().to_numpy(dtype=float))
        score = 1 - distance / longer  # OSA.normalized_similarity, from the one distance computed
        swapped = np.fromiter((d == 1 and is_transposition(p, q) for p, q, d in zip(xs, ys, distance)), dtype=bool,
                              count=len(xs))
        similar[both_long] = (score >= FIRST_NAME_SIMILARITY) | swapped | _nickname_pairs(xs, ys)
    return exact | initial | similar


def _nickname_pairs(xs: list[str], ys: list[str]) -> np.ndarray:
    """:func:`_nicknames` of each aligned pair, with one nickname lookup per distinct name (a nightly run compares
    a day's new records with every record of their surnames: hundreds of thousands of pairs, a few thousand names)."""
    codes, uniques = pd.factorize(pd.Series(xs + ys, dtype=object))
    related = nickname_pair_keys(np.asarray(uniques, dtype=object))
    return isin(codes[: len(xs)].astype(np.int64) * len(uniques) + codes[len(xs) :], related)


def _slipped_surnames(a: pd.Series, b: pd.Series) -> np.ndarray:
    """:func:`surnames_agree` (and not equal) over two aligned columns, vectorised."""
    x, y = a.astype("string").fillna(""), b.astype("string").fillna("")
    ok = ((x.str.len() >= 4) & (y.str.len() >= 4) & (x != y)).to_numpy()
    out = np.zeros(len(x), dtype=bool)
    if ok.any():
        out[ok] = process.cpdist(x[ok].tolist(), y[ok].tolist(), scorer=OSA.normalized_similarity) >= FIRST_NAME_SIMILARITY
    return out


def _same_person_names(left: pd.DataFrame, right: pd.DataFrame, suffixes: tuple[str, str], *,
                       chunk: int = NAME_CHUNK) -> pd.DataFrame:
    """:func:`_names_that_agree`, ``chunk`` left records at a time: a newly connected source can bring tens of
    thousands of new records in one run, each meeting a thousand or more records of its surname."""
    if len(left) <= chunk:
        return _names_that_agree(left, right, suffixes)
    parts = [_names_that_agree(left.iloc[i : i + chunk], right, suffixes)
             for i in range(0, len(left), chunk)]
    found = [part for part in parts if len(part)]
    return pd.concat(found, ignore_index=True) if found else parts[0]


def _names_that_agree(left: pd.DataFrame, right: pd.DataFrame, suffixes: tuple[str, str]) -> pd.DataFrame:
    """Pairs of ``left`` and ``right`` records whose names may be one person's, each with its ``tier``:

    0. the same first and last name (a first name, not an initial: "M LINDSAY" says little about "M LINDSAY");
    1. the same surname and first names that agree (:func:`first_names_agree`: an initial, one slip);
    2. the two names in the other order ("BUCKLEY BRADLEY" for Bradley Buckley);
    3. the same first name and surnames one slip apart (:func:`surnames_agree`).

    Every agreeing pair is returned with its tier (callers keep each record's best tier among the candidates they
    may pair, :func:`_best_tier`). Middle initials or dates of birth that both records hold and that differ rule a
    pair out.
    """
    x, y = suffixes
    a, b = f"first{x}", f"first{y}"
    same_last = left.merge(right, on="last", suffixes=suffixes)
    same_last = same_last[_agreeing_first_names(same_last[a], same_last[b])]
    same_last = same_last.assign(**{f"last{x}": same_last["last"], f"last{y}": same_last["last"]}).drop(columns="last")
    same_last["tier"] = np.where((same_last[a] == same_last[b]) & (same_last[a].str.len() > 1), 0, 1)
    found = [same_last]
    slip = left.merge(right, on="first", suffixes=suffixes)
    slip = slip[_slipped_surnames(slip[f"last{x}"], slip[f"last{y}"])]
    found.append(slip.assign(**{a: slip["first"], b: slip["first"]}).drop(columns="first").assign(tier=3))
    swapped = left.merge(right.rename(columns={"first": "last", "last": "first"}), on=["first", "last"],
                         suffixes=suffixes)
    swapped = swapped[swapped["first"] != swapped["last"]]
    found.append(swapped.assign(**{a: swapped["first"], b: swapped["last"], f"last{x}": swapped["last"],
                                   f"last{y}": swapped["first"]}).drop(columns=["first", "last"]).assign(tier=2))
    found = [f for f in found if len(f)]
    if not found:
        return same_last
    cand = pd.concat(found, ignore_index=True)
    for field in ("middle", "dob"):
        p, q = f"{field}{x}", f"{field}{y}"
        if p in cand and q in cand:
            cand = cand[cand[p].isna() | cand[q].isna() | (cand[p] == cand[q])]
    if cand.empty:
        return cand
    return cand.sort_values("tier", kind="stable").drop_duplicates([f"unique_id{x}", f"unique_id{y}"])


def _best_tier(cand: pd.DataFrame, key: str) -> pd.DataFrame:
    """Each ``key`` record's candidates of the best tier it has, among those its caller may pair: the person's own
    records, or records at the same address, must not crowd out a candidate elsewhere written another way."""
    if cand.empty:
        return cand
    return cand[cand["tier"] == cand.groupby(key)["tier"].transform("min")]


def _names(frame: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Standardised names of ``frame``'s records: looked up in ``table`` (every record's, see :func:`name_table`)
    when given, else standardised here."""
    if table is not None:
        return table[table["unique_id"].isin(frame[PersonRecord.unique_id].astype(str))]
    from matching import standardise_people

    cols = [PersonRecord.unique_id, "source", "title", "first_name", "middle_names", "last_name", "full_name",
            "date_of_birth"]
    return name_table(standardise_people(frame[[c for c in cols if c in frame]].reset_index(drop=True)))


def _mates(ids: set[str], clusters: pd.DataFrame) -> set[str]:
    """``ids`` and every other record of their persons in ``clusters`` (``unique_id, cluster_id``)."""
    uid = clusters["unique_id"].astype(str)
    return ids | set(uid[clusters["cluster_id"].isin(set(clusters.loc[uid.isin(ids), "cluster_id"]))])


def _persons_names(records: pd.DataFrame, asked: pd.DataFrame, clusters: pd.DataFrame,
                   names: pd.DataFrame | None) -> pd.DataFrame:
    """Names (:func:`name_table` rows) that each of ``asked``'s records answers to: its own and those of its
    person's other records in ``clusters``, each row under the asked record's ``unique_id``. An account written
    "SMITH, PAL" closes; the roll entry of the same person says PAUL SMITH."""
    own = _names(asked, names)
    uid = clusters["unique_id"].astype(str)
    asked_ids = asked[PersonRecord.unique_id].astype(str)
    held = clusters.assign(unique_id=uid)[uid.isin(set(asked_ids))][["unique_id", "cluster_id"]]
    mates = clusters.assign(unique_id=uid)[clusters["cluster_id"].isin(set(held["cluster_id"]))]
    if not mates["cluster_id"].duplicated().any():  # a person of one record lends no other name
        return own
    their = _names(records[records[PersonRecord.unique_id].astype(str).isin(set(mates["unique_id"]))], names)
    lent = their.merge(mates.rename(columns={"unique_id": "mate"}), left_on="unique_id", right_on="mate") \
        .drop(columns="unique_id").merge(held, on="cluster_id")
    lent = lent[lent["mate"] != lent["unique_id"]]
    return pd.concat([own, lent[own.columns]], ignore_index=True).drop_duplicates()


def _name_filter(frame: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Records whose last or full name holds a token that may be the surname of one of ``names`` (its surname, a
    slip of it, or its first name for names written the other way round): a cheap filter before standardising."""
    text = frame.get("last_name", pd.Series("", index=frame.index)).fillna("") + " " + \
        frame.get("full_name", pd.Series("", index=frame.index)).fillna("")
    tokens = text.str.upper().str.replace(r"[^A-Z ]", "", regex=True).str.split().explode()
    tokens = tokens.str.replace(r"^MAC(?=[A-Z])", "MC", regex=True)
    wanted = set(names["last"].str.upper().str.replace(r"[^A-Z]", "", regex=True)) \
        | set(names["first"].str.upper().str.replace(r"[^A-Z]", "", regex=True))
    vocabulary = [t for t in tokens.dropna().unique() if len(t) >= 4]
    long = [w for w in wanted if len(w) >= 4]
    near: set[str] = set()
    if vocabulary and long:
        close = process.cdist(long, vocabulary, scorer=OSA.normalized_similarity, score_cutoff=FIRST_NAME_SIMILARITY)
        near = {vocabulary[j] for j in np.flatnonzero((close > 0).any(axis=0))}
    return frame.loc[tokens[tokens.isin(wanted | near)].index.unique()]


def _status(session: Session, config: HubConfig, ids: list[int], now: dt.datetime) -> pd.DataFrame:
    """``record_status`` of the given records, with their start and end dates (ISO, from mapped attributes)."""
    rows = []
    for start in range(0, len(ids), 500):
        rows.extend(session.execute(select(SourceRecord.id, SourceSystem.name, SourceSystem.trust, SourceRecord.deleted,
                                           SourceRecord.attributes, SourceRecord.date_of_death, SourceRecord.last_changed)
                                    .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                                    .where(SourceRecord.id.in_(ids[start : start + 500]))).all())
    frame = pd.DataFrame(rows, columns=["id", "source", "trust", "deleted", "attributes", "date_of_death", "last_changed"])
    status = with_dates(record_status(frame, config, today=now.date()), config, today=now.date())
    status["id"] = status["id"].astype(str)
    return status


def with_dates(records: pd.DataFrame, config: HubConfig, *, today: dt.date) -> pd.DataFrame:
    """``records`` (with ``source`` and ``attributes``) plus their start and end dates (``START_DATE``,
    ``END_DATE``: timestamps, NaT where the source does not date them), parsed in each source's date format."""
    out_frame = records.copy()
    formats = {s.name: s.date_format for s in config.sources}
    for attr in (START_DATE, END_DATE):
        raw = records["attributes"].map(lambda a, k=attr: a.get(k) if isinstance(a, dict) else None)
        out = pd.Series(None, index=records.index, dtype=object)
        for source, idx in records.groupby("source").groups.items():
            out.loc[idx] = parse_dates(raw.loc[idx], date_format=formats.get(source), today=today)[0]
        out_frame[attr] = pd.to_datetime(out, errors="coerce")
    return out_frame


def moves_completed_by_closure(records: pd.DataFrame, prior_uprn: pd.Series, config: HubConfig, *,
                               today: dt.date) -> pd.Series:
    """Live records that a closure arriving in this run shows to be a move, as a mask over ``records``.

    A person's new account often joins them before the old one is closed (a steward accepts the pair, or the
    matcher links it while the old account is still live), so the new address is not news on the day it joins.
    When a trusted record at the person's current UPRN then closes (not for a death), a live trusted record of the
    same person at another UPRN whose source dates its start within ``MOVE_WINDOW`` of that closure is where they
    moved. A record that arrived already closed is no news (the hub did not see it close).

    Args:
        records: a run's records in scope with ``record_id, cluster_id, source, attributes, uprn, live, trusted,
            deceased_on, changed, is_new``.
        prior_uprn: each cluster's current UPRN before this run.
    """
    out = pd.Series(False, index=records.index)
    prior = records["cluster_id"].map(prior_uprn).astype("Int64")
    closing = (~records["live"].astype(bool) & records["trusted"].astype(bool) & records["deceased_on"].isna()
               & records["changed"].astype(bool) & ~records["is_new"].astype(bool)
               & (records["uprn"].astype("Int64") == prior).fillna(False).astype(bool))
    if not closing.any():
        return out
    clusters = set(records.loc[closing, "cluster_id"])
    scope = with_dates(records[records["cluster_id"].isin(clusters)], config, today=today)
    ends = scope.loc[closing.reindex(scope.index, fill_value=False) & scope[END_DATE].notna(), ["cluster_id", END_DATE]]
    if ends.empty:
        return out
    live = scope[scope["live"].astype(bool) & scope["trusted"].astype(bool) & scope["uprn"].notna()
                 & scope[START_DATE].notna()
                 & (scope["uprn"].astype("Int64") != scope["cluster_id"].map(prior_uprn).astype("Int64")).fillna(True)]
    cand = live.assign(_row=live.index).merge(ends, on="cluster_id", suffixes=("", "_closed"))
    near = (cand[START_DATE] - cand[f"{END_DATE}_closed"]).abs() <= pd.Timedelta(MOVE_WINDOW)
    out.loc[cand.loc[near.to_numpy(), "_row"].unique()] = True
    return out


def _uprn_of(records: pd.DataFrame) -> pd.Series:
    """Each record's UPRN by ``unique_id`` (without copying the whole frame, as ``set_index`` would)."""
    return pd.Series(records[PersonRecord.uprn].to_numpy(), index=pd.Index(records[PersonRecord.unique_id]))


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
    """Review-band pairs that say "maybe a move", found every way: :func:`new_record_evidence_pairs` (with its
    fallback :func:`unclosed_evidence_pairs`) and, when ``records`` carry the linking stage's ``linked_hash`` and
    ``new_linked_hash`` (what changed in this run), :func:`closure_evidence_pairs`. ``standardised`` (the matcher's
    standardised records, when the caller has them) saves standardising names again."""
    names = name_table(standardised) if standardised is not None else None
    changed: set[str] = set()
    if {"linked_hash", "new_linked_hash"} <= set(records.columns):
        changed = set(records.loc[records["linked_hash"] != records["new_linked_hash"], PersonRecord.unique_id])
    found = new_record_evidence_pairs(session, config, records, clusters, existing, now=now, names=names,
                                      changed=changed)
    if changed:
        later = closure_evidence_pairs(session, config, records, clusters, changed, now=now, names=names)
        if len(later):
            found = later if found.empty else pd.concat([found, later], ignore_index=True).drop_duplicates(
                [PairFrame.unique_id_l, PairFrame.unique_id_r])
    return found


def starting_records(session: Session, records: pd.DataFrame, clusters: pd.DataFrame, existing: pd.DataFrame, *,
                     now: dt.datetime, changed: set[str] | None = None) -> pd.DataFrame:
    """Records with a UPRN that start a golden person: new in this run in a cluster of only new records, or (among
    ``changed``) still a person of their own and first seen within ``MOVE_WINDOW``, after the hub's first load (an
    address steward has just given a new account the UPRN it arrived without). Records of the first load are never
    news, however recently it ran: they are the backlog, not today's moves."""
    known = pd.Index(existing["unique_id"].astype(str)).unique()
    cl = clusters.set_index("unique_id")["cluster_id"]
    uid = records[PersonRecord.unique_id]
    is_known = known.get_indexer(uid) >= 0
    has_uprn = records[PersonRecord.uprn].notna().to_numpy()
    new = ~is_known & uid.map(cl).map(_fresh_clusters(clusters, known)).fillna(False).astype(bool).to_numpy()
    late = np.zeros(len(records), dtype=bool)
    if changed:
        sizes = clusters["cluster_id"].value_counts()
        alone = (uid.map(cl).map(sizes) == 1).to_numpy()
        maybe = records[is_known & has_uprn & alone & uid.isin(changed).to_numpy()]
        since = _window_start(session, now) if len(maybe) else None
        if since is not None:
            recent = _record_ids_where(session, [int(i) for i in maybe[PersonRecord.unique_id]],
                                       SourceRecord.first_seen >= since)
            late = uid.isin(recent).to_numpy()
    return records[(new | late) & has_uprn]


def joining_records(session: Session, records: pd.DataFrame, clusters: pd.DataFrame, existing: pd.DataFrame, *,
                    now: dt.datetime) -> pd.DataFrame:
    """Records with a UPRN, new in this run, that joined a person the hub first met within ``MOVE_WINDOW`` (after its
    first load): a second record of a recent arrival may state what the first did not, such as a middle initial."""
    known = pd.Index(existing["unique_id"].astype(str)).unique()
    cl = clusters.set_index("unique_id")["cluster_id"]
    uid = records[PersonRecord.unique_id]
    in_fresh = uid.map(cl).map(_fresh_clusters(clusters, known))
    joined_known_person = (in_fresh == False).to_numpy()  # noqa: E712 (NaN, a record in no cluster, is not joined)
    joined = (known.get_indexer(uid) < 0) & records[PersonRecord.uprn].notna().to_numpy() & joined_known_person
    since = _window_start(session, now) if joined.any() else None
    if since is None:
        return records.iloc[:0]
    young = _met_since(session, clusters, set(uid[joined].map(cl)), known, since)
    return records[joined & uid.map(cl).isin(young).to_numpy()]


def _fresh_clusters(clusters: pd.DataFrame, known: pd.Index) -> pd.Series:
    """Per cluster of this run: True when it holds no record known before the run."""
    held_before = pd.Series(known.get_indexer(clusters["unique_id"]) >= 0, index=clusters.index)
    return ~held_before.groupby(clusters["cluster_id"]).any()


def _window_start(session: Session, now: dt.datetime) -> dt.datetime | None:
    """Records first seen at or after this are recent arrivals: ``MOVE_WINDOW`` before ``now``, and never before the
    run after the hub's first load (None before there is one)."""
    after_first_load = _after_first_load(session)
    if after_first_load is None:
        return None
    since = (now - MOVE_WINDOW).replace(tzinfo=None) if now.tzinfo else now - MOVE_WINDOW
    return max(since, after_first_load.replace(tzinfo=None))


def _met_since(session: Session, clusters: pd.DataFrame, cluster_ids: set, known: pd.Index,
               since: dt.datetime) -> set:
    """Those of ``cluster_ids`` whose records held before this run were all first seen at or after ``since``."""
    mates = clusters[clusters["cluster_id"].isin(cluster_ids) & clusters["unique_id"].isin(known)]
    if mates.empty or len(mates) > BACKLOG_STARTS:
        return set()
    recent = _record_ids_where(session, [int(i) for i in mates["unique_id"]], SourceRecord.first_seen >= since)
    all_recent = mates["unique_id"].astype(str).isin(recent).groupby(mates["cluster_id"]).all()
    return set(all_recent[all_recent].index)


def _after_first_load(session: Session) -> dt.datetime | None:
    """When the run after the hub's first successful one started (None before there is one): records first seen
    earlier are the first load's backlog, whatever kind of run loaded them."""
    first_ok = session.scalar(select(func.min(Run.started_at)).where(Run.status == "ok"))
    if first_ok is None:
        return None
    return session.scalar(select(func.min(Run.started_at)).where(Run.started_at > first_ok))


def new_record_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                              existing: pd.DataFrame, *, now: dt.datetime,
                              names: pd.DataFrame | None = None, changed: set[str] | None = None) -> pd.DataFrame:
    """Review-band pairs between a record that starts a golden person (:func:`starting_records`), or joins one met
    within ``MOVE_WINDOW`` (:func:`joining_records`), and a recently closed record of another person with the same
    name at another UPRN (when both sources date them, closed within ``MOVE_WINDOW`` of the new record's start); a
    record with no such closure falls back to :func:`unclosed_evidence_pairs`. A run with more than
    ``BACKLOG_STARTS`` starts brings a backlog: no evidence.

    Name and address alone never prove it is the same person (a false merge is the worst failure), so this
    is never an auto link: it opens a review task that says "maybe a move". A steward who accepts it merges
    the two and, in the same transaction, raises the change of address (``hub.stewardship.accept_pair``).

    Args:
        records: the linking stage's live person records (``unique_id, source, uprn``, names, ``last_changed``).
        clusters: this run's ``unique_id, cluster_id``.
        existing: the golden memberships before this run (``unique_id, cluster_id``).
        names: every record's standardised names (:func:`name_table`), or None to standardise them here.
        changed: ids of the records new or changed in this run.
    """
    empty = pd.DataFrame(columns=list(PairFrame.COLUMNS))
    starts = starting_records(session, records, clusters, existing, now=now, changed=changed)
    joiners = joining_records(session, records, clusters, existing, now=now)
    # Evidence is for a day's arrivals: a backlog (a newly connected source) is not today's moves, would flood the
    # queue and cost minutes to compare, as the hub's first load would.
    if (starts.empty and joiners.empty) or len(starts) + len(joiners) > BACKLOG_STARTS:
        return empty
    # A joiner asks too: the person it joins may have begun with a record that dates nothing (a service request),
    # so the closure elsewhere, when it came, found no dated start to pair with; the joiner's own start date does.
    arrivals = pd.concat([starts, joiners], ignore_index=True) if len(joiners) else starts
    closed_pairs = _closed_evidence(session, config, records, arrivals, existing, clusters, names, now=now)
    answered = set(closed_pairs["unique_id_new"]) if len(closed_pairs) else set()
    unclosed = unclosed_evidence_pairs(session, config, records, clusters,
                                       starts[~starts[PersonRecord.unique_id].isin(answered)], now=now, names=names,
                                       joiners=joiners[~joiners[PersonRecord.unique_id].isin(answered)])
    found = [f for f in (closed_pairs, unclosed) if len(f)]
    if not found:
        return empty
    return _pair_frame(pd.concat(found, ignore_index=True), "unique_id_new", "unique_id_old")


def _closed_evidence(session: Session, config: HubConfig, records: pd.DataFrame, starts: pd.DataFrame,
                     existing: pd.DataFrame, clusters: pd.DataFrame, names: pd.DataFrame | None, *,
                     now: dt.datetime) -> pd.DataFrame:
    """``unique_id_new, unique_id_old`` of starts (or joiners) and recently closed records of the same name
    elsewhere, among records ``existing`` before this run (one that arrives already closed tells of no move today),
    and never of the person the new record is in (``clusters``: this run's). A closed record answers to its
    person's names (:func:`_persons_names`)."""
    empty = pd.DataFrame(columns=["unique_id_new", "unique_id_old"])
    known = set(existing["unique_id"].astype(str))
    is_known = records[PersonRecord.unique_id].isin(known) & ~records[PersonRecord.unique_id].isin(
        set(starts[PersonRecord.unique_id]))
    since = pd.Timestamp(now - MOVE_WINDOW)
    since = since.tz_localize("UTC") if since.tzinfo is None else since
    recent = records[is_known & records[PersonRecord.uprn].notna()
                     & (pd.to_datetime(records["last_changed"], utc=True) >= since)]
    if recent.empty:
        return empty
    new_names = _names(starts, names)
    if names is None:  # standardise only records whose person could share a name with a new one (a token filter)
        uid = PersonRecord.unique_id
        pool = records[records[uid].isin(_mates(set(recent[uid]), existing))]
        recent = recent[recent[uid].isin(_mates(set(_name_filter(pool, new_names)[uid]), existing))]
        if recent.empty:
            return empty
    cand = _same_person_names(new_names, _persons_names(records, recent, existing, names), ("_new", "_old"))
    if cand.empty:
        return empty
    uprn = _uprn_of(records)
    cand = cand[cand["unique_id_new"].map(uprn) != cand["unique_id_old"].map(uprn)]
    cl = clusters.set_index("unique_id")["cluster_id"]
    cand = cand[cand["unique_id_new"].map(cl) != cand["unique_id_old"].map(cl)]
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
    begun = _status(session, config, [int(i) for i in cand["unique_id_new"].unique()], now).set_index("id")[START_DATE]
    gap = (cand["unique_id_new"].map(begun) - cand["unique_id_old"].map(closed.set_index("id")[END_DATE])).abs()
    cand = _best_tier(cand[gap.isna() | (gap <= pd.Timedelta(MOVE_WINDOW))], "unique_id_new")
    cand = cand[cand.groupby("unique_id_new")["unique_id_old"].transform("size") <= MAX_CANDIDATES]
    return cand[["unique_id_new", "unique_id_old"]]


def unclosed_evidence_pairs(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                            starts: pd.DataFrame, *, now: dt.datetime, names: pd.DataFrame | None = None,
                            joiners: pd.DataFrame | None = None) -> pd.DataFrame:
    """``unique_id_new, unique_id_old``: a start from a trusted source whose name at most ``MAX_HOLDERS`` other
    golden persons hold, in live records none of which is at the start's UPRN, paired with each holder's best-named
    record: one question per holder.

    Nothing closed: the resident told one department. The start's middle initial may single one holder out
    (:func:`_middle_initial_singles_out`), or its household may (:func:`_narrowed_by_household`: a household member
    who arrived a few days earlier is then asked about too); otherwise each of a few holders is worth a steward's
    question ("is the new council tax payer Dawn MacLeod either of the two on the roll?"), and a name held more
    widely is no evidence at all. Never an auto link.

    Household members who arrived earlier, and ``joiners`` (:func:`joining_records`), ask only about one holder
    singled out (by household, or by a middle initial among several holders): anything else their first record
    could already have asked.
    """
    empty = pd.DataFrame(columns=["unique_id_new", "unique_id_old"])
    joiners = joiners if joiners is not None else starts.iloc[:0]
    if starts.empty and joiners.empty:
        return empty
    both = pd.concat([starts, joiners], ignore_index=True) if len(joiners) else starts
    begun = _status(session, config, [int(i) for i in both[PersonRecord.unique_id]], now)
    trusted = set(begun.loc[begun["trusted"] & begun["live"], "id"])
    starts = starts[starts[PersonRecord.unique_id].isin(trusted)]
    joiners = joiners[joiners[PersonRecord.unique_id].isin(trusted)]
    if starts.empty and joiners.empty:
        return empty
    arrivals = _arrived_with(session, config, records, clusters, starts, now=now) if len(starts) else starts.iloc[:0]
    askers = pd.concat([f for f in (starts, arrivals, joiners) if len(f)], ignore_index=True)
    cand = _name_holders(records, clusters, askers, names)
    if cand.empty:
        return empty
    uprn = _uprn_of(records)
    holders = cand.groupby("unique_id_new")["cluster_old"].nunique()
    cand = _middle_initial_singles_out(cand)
    joining = cand["unique_id_new"].isin(set(joiners[PersonRecord.unique_id]))
    left = cand.groupby("unique_id_new")["cluster_old"].transform("nunique")
    singled = (cand["unique_id_new"].map(holders) >= 2) & (left == 1)
    cand = cand[~joining | singled]
    cand = _narrowed_by_household(session, records, clusters, cand, askers, set(arrivals[PersonRecord.unique_id]),
                                  names, now=now)
    # a few other persons hold the name (a start's own question); exactly one for anyone else
    holding = cand.groupby("unique_id_new")["cluster_old"].transform("nunique")
    own = cand["unique_id_new"].isin(set(starts[PersonRecord.unique_id]))
    cand = cand[(holding == 1) | (own & (holding <= MAX_HOLDERS))]
    if cand.empty:
        return empty
    # ... and nothing of any of theirs is at the new address already (that is a household, not a move)
    members = clusters[clusters["cluster_id"].isin(set(cand["cluster_old"]))]
    at = set(zip(members["cluster_id"], members["unique_id"].map(uprn)))
    there = pd.Series([(c, u) in at for c, u in zip(cand["cluster_old"], cand["unique_id_new"].map(uprn))],
                      index=cand.index, dtype=bool)
    cand = cand[~there.groupby(cand["unique_id_new"]).transform("any")]
    if cand.empty:
        return empty
    status = _status(session, config, [int(i) for i in cand["unique_id_old"].unique()], now).set_index("id")
    cand = cand[cand["unique_id_old"].map(status["live"]).fillna(False).astype(bool)
                & cand["unique_id_old"].map(uprn).notna().to_numpy()]
    cand = cand.assign(_trusted=cand["unique_id_old"].map(status["trusted"]).fillna(False).astype(bool))
    cand = cand.sort_values(["unique_id_new", "tier", "_trusted", "unique_id_old"], ascending=[True, True, False, True])
    return cand.drop_duplicates(["unique_id_new", "cluster_old"])[["unique_id_new", "unique_id_old"]]


def _arrived_with(session: Session, config: HubConfig, records: pd.DataFrame, clusters: pd.DataFrame,
                  starts: pd.DataFrame, *, now: dt.datetime) -> pd.DataFrame:
    """Records of a trusted source, live, that arrived recently (first seen within ``MOVE_WINDOW``, after the hub's
    first load) at a start's UPRN and are still persons of their own: a household member who moved in with the
    start, told to another department a few days earlier (:mod:`hub.identity_households`)."""
    uid = records[PersonRecord.unique_id]
    places = set(starts[PersonRecord.uprn].dropna())
    sizes = clusters["cluster_id"].value_counts()
    alone = uid.map(clusters.set_index("unique_id")["cluster_id"]).map(sizes) == 1
    near = records[records[PersonRecord.uprn].isin(places) & ~uid.isin(set(starts[PersonRecord.unique_id])) & alone]
    since = _window_start(session, now) if len(near) else None
    if since is None:
        return near.iloc[:0]
    ids = [int(i) for i in near[PersonRecord.unique_id]]
    near = near[near[PersonRecord.unique_id].isin(_record_ids_where(session, ids, SourceRecord.first_seen >= since))]
    if near.empty:
        return near
    status = _status(session, config, [int(i) for i in near[PersonRecord.unique_id]], now)
    return near[near[PersonRecord.unique_id].isin(set(status.loc[status["trusted"] & status["live"], "id"]))]


def _narrowed_by_household(session: Session, records: pd.DataFrame, clusters: pd.DataFrame, cand: pd.DataFrame,
                           askers: pd.DataFrame, arrivals: set[str], names: pd.DataFrame | None, *,
                           now: dt.datetime) -> pd.DataFrame:
    """``cand`` with each new record's holders narrowed by the household it arrives with
    (:func:`hub.identity_households.singled_out_by_household`)."""
    if cand.empty:
        return cand
    uprn = pd.to_numeric(_uprn_of(records), errors="coerce")
    cl = clusters.set_index("unique_id")["cluster_id"]

    def placed(ids: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({"unique_id": ids.to_numpy(), "uprn": ids.map(uprn).to_numpy(),
                             "cluster": ids.map(cl).to_numpy()}).dropna(subset=["uprn"])

    ask = placed(askers[PersonRecord.unique_id].astype(str))
    near = placed(records.loc[records[PersonRecord.unique_id].map(uprn).isin(set(ask["uprn"])), PersonRecord.unique_id])
    pairs = companions(ask, near)
    moved_from = recent_residences(session, [int(i) for i in pairs["unique_id_comp"].unique()], now - MOVE_WINDOW)
    held_twice = _namesakes_of(records, clusters, pairs[pairs["unique_id_comp"].isin(set(moved_from["unique_id"]))],
                               names)
    members = clusters[clusters["cluster_id"].isin(set(cand["cluster_old"]) | set(pairs["cluster_comp"])
                                                   | set(held_twice["cluster_old"]))]
    homes = pd.DataFrame({"cluster_old": members["cluster_id"].to_numpy(),
                          "uprn": members["unique_id"].map(uprn).to_numpy()}).dropna().drop_duplicates()
    came_from = origins(pairs, moved_from, cand, homes, held_twice)
    return singled_out_by_household(cand, came_from, homes, arrivals, max_namesakes=MAX_NAMESAKES)


def _namesakes_of(records: pd.DataFrame, clusters: pd.DataFrame, pairs: pd.DataFrame,
                  names: pd.DataFrame | None) -> pd.DataFrame:
    """``unique_id_new, cluster_old``: for each companion in ``pairs`` (as ``unique_id_new``), the other persons
    holding its name (:func:`_name_holders`): the hub may hold the companion twice, and the address the other holds
    is then one the household came from."""
    ids = set(pairs["unique_id_comp"])
    held = _name_holders(records, clusters, records[records[PersonRecord.unique_id].isin(ids)], names) if ids else None
    if held is None or held.empty:
        return pd.DataFrame({"unique_id_new": pd.Series(dtype=object), "cluster_old": pd.Series(dtype=object)})
    return held[["unique_id_new", "cluster_old"]].drop_duplicates()


def _name_holders(records: pd.DataFrame, clusters: pd.DataFrame, asked: pd.DataFrame,
                  names: pd.DataFrame | None) -> pd.DataFrame:
    """Name candidates (``unique_id_new, unique_id_old, cluster_new, cluster_old, tier``, names) of ``asked``'s
    records: records of other persons holding the name, at each asked record's best tier, without the persons
    their own records rule out (:func:`_without_contradicted_holders`). The two names written the other way round
    ("ARCHIE, WOOD" for Archie Wood) and, worse, a slip in the surname beside the same full first name
    ("CHARLOTTE HAMILTJN") count only when nobody holds the name better: each asks about one holder at most, and
    never without a steward."""
    empty = pd.DataFrame(columns=["unique_id_new", "unique_id_old", "cluster_new", "cluster_old", "tier"])
    mine = _names(asked, names)
    others = records[~records[PersonRecord.unique_id].isin(set(asked[PersonRecord.unique_id]))]
    if names is None:
        others = _name_filter(others, mine)
    if others.empty:
        return empty
    cand = _same_person_names(mine, _names(others, names), ("_new", "_old"))
    cand = cand[(cand["tier"] < 3) | (cand["first_new"].str.len() > 1)]  # "J SMYTH" says little of J Smith
    if cand.empty:
        return empty
    cl = clusters.set_index("unique_id")["cluster_id"]
    cand = cand.assign(cluster_new=cand["unique_id_new"].map(cl), cluster_old=cand["unique_id_old"].map(cl))
    cand = cand[cand["cluster_new"] != cand["cluster_old"]]
    if cand.empty:
        return empty
    held = clusters[clusters["cluster_id"].isin(set(cand["cluster_old"]))]
    held = _names(records[records[PersonRecord.unique_id].isin(set(held["unique_id"]))], names).assign(
        cluster_id=lambda t: t["unique_id"].map(cl))
    # a person ruled out by its own records must not crowd out a holder of a worse tier
    return _best_tier(_without_contradicted_holders(cand, held), "unique_id_new")


def _without_contradicted_holders(cand: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """Drop holders of a start's name who are someone else by their own records: a person some of whose records
    state a middle initial (or a date of birth), none of them the start's; or a person held by an initial ("mr l
    quinn") whose records that write a first name in full all write one that disagrees with the start's (Liam, for
    Lisa Quinn). A pair is ruled out by its two records already; this rules out the person when the pair's own
    record is the one that is silent."""
    cand = _without_initials_named_otherwise(cand, held)
    for field in ("middle", "dob"):
        mine = cand[f"{field}_new"]
        stated = held.dropna(subset=[field])
        if stated.empty or mine.isna().all():
            continue
        agreeing = set(zip(stated["cluster_id"], stated[field]))
        contradicted = mine.notna() & cand["cluster_old"].isin(set(stated["cluster_id"])) & ~pd.Series(
            [(c, v) in agreeing for c, v in zip(cand["cluster_old"], mine)], index=cand.index, dtype=bool)
        cand = cand[~contradicted]
    return cand


def _without_initials_named_otherwise(cand: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """``cand`` without the pairs whose holder's record gives only an initial where the start gives a first name,
    when the holder's person writes a first name in full in other records and none of those agrees with the start's
    (:func:`first_names_agree`)."""
    weak = cand[(cand["first_old"].str.len() == 1) & (cand["first_new"].str.len() > 1)]
    stated = held.loc[held["first"].str.len() > 1, ["cluster_id", "first"]].drop_duplicates()
    if weak.empty or stated.empty:
        return cand
    named = weak[["first_new", "cluster_old"]].assign(_row=np.arange(len(weak))).merge(
        stated, left_on="cluster_old", right_on="cluster_id")
    if named.empty:
        return cand
    agrees = pd.Series(_agreeing_first_names(named["first_new"], named["first"]), index=named.index)
    some = agrees.groupby(named["_row"]).any()
    return cand.drop(index=weak.index[some[~some].index.to_numpy()])


def _middle_initial_singles_out(cand: pd.DataFrame) -> pd.DataFrame:
    """Keep, for a start that holds a middle initial, only the holder of its name whose records state that same
    initial, when exactly one of at most ``MAX_NAMESAKES`` persons does: "Gemma A Thomson" beside one Gemma Anne
    Thomson and three Gemma Thomsons whose middle names no source holds. (A holder whose initial differs is out
    already.) Otherwise the candidates stand as they are."""
    if cand.empty or "middle_new" not in cand:
        return cand
    agrees = cand["middle_new"].notna() & (cand["middle_new"] == cand["middle_old"])
    persons = cand.groupby("unique_id_new")["cluster_old"].transform("nunique")
    agreeing = cand["cluster_old"].where(agrees).groupby(cand["unique_id_new"]).transform("nunique")
    singled = (agreeing == 1) & (persons <= MAX_NAMESAKES)
    holder = cand["cluster_old"].where(agrees).groupby(cand["unique_id_new"]).transform("first")
    return cand[~singled | (cand["cluster_old"] == holder)]


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
    # The hub saw it close: a record that arrived closed and changed only in how its address resolves (an address
    # steward's answer) tells of a move before the hub's time.
    ends = ends[ends["id"].isin(_record_ids_where(session, [int(i) for i in ends["id"]],
                                                  SourceRecord.last_changed > SourceRecord.first_seen))]
    closing = closing[closing[PersonRecord.unique_id].isin(set(ends["id"]))]
    if closing.empty:
        return empty
    old_names = _persons_names(records, closing, clusters, names)
    others = records[has_uprn & ~records[PersonRecord.unique_id].isin(set(closing[PersonRecord.unique_id]))]
    if names is None:
        others = _name_filter(others, old_names)
    if others.empty:
        return empty
    cand = _same_person_names(old_names, _names(others, names), ("_old", "_new"))
    uprn = _uprn_of(records)
    cl = clusters.set_index("unique_id")["cluster_id"]
    cand = cand[(cand["unique_id_new"].map(uprn) != cand["unique_id_old"].map(uprn))
                & (cand["unique_id_new"].map(cl) != cand["unique_id_old"].map(cl))]
    if cand.empty:
        return empty
    starts = _status(session, config, [int(i) for i in cand["unique_id_new"].unique()], now)
    starts = starts[starts["live"] & starts[START_DATE].notna()].set_index("id")[START_DATE]
    ended = ends.set_index("id")[END_DATE]
    gap = (cand["unique_id_new"].map(starts) - cand["unique_id_old"].map(ended)).abs()
    cand = _best_tier(cand[gap.notna() & (gap <= pd.Timedelta(MOVE_WINDOW))], "unique_id_old")
    cand = cand[cand.groupby("unique_id_old")["unique_id_new"].transform("size") <= MAX_CANDIDATES]
    if cand.empty:
        return empty
    return _pair_frame(cand, "unique_id_new", "unique_id_old")


def _record_ids_where(session: Session, ids: list[int], condition: ColumnElement[bool]) -> set[str]:
    """Those of ``ids`` (source record ids) whose record meets ``condition``, as text, 500 ids per query."""
    out: set[str] = set()
    for start in range(0, len(ids), 500):
        out.update(str(i) for i in session.scalars(select(SourceRecord.id).where(
            SourceRecord.id.in_(ids[start : start + 500]), condition)))
    return out


def with_move_evidence(pairs: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs plus move-evidence pairs; a pair the matcher already put in a band keeps its own verdict and
    score. A review-band pair of its own that no rule decided ("RAYMOND K MCKAY" newly at one address, Raymond
    Kenneth McKay on the roll at another) is the same question, so it says so: accepting it moves the person."""
    if evidence.empty:
        return pairs
    key = lambda f: list(zip(f[PairFrame.unique_id_l].astype(str), f[PairFrame.unique_id_r].astype(str)))  # noqa: E731
    told = set(key(evidence))
    told |= {(r, l) for l, r in told}
    plain_review = (pairs[PairFrame.band] == Band.REVIEW).to_numpy() & \
        pairs[PairFrame.rule].fillna("").eq("").to_numpy() & np.array([k in told for k in key(pairs)], dtype=bool)
    if plain_review.any():
        pairs = pairs.copy()
        pairs.loc[plain_review, PairFrame.rule] = MOVE_RULE
    banded = pairs[pairs[PairFrame.band] != Band.NONE]
    both_ways = set(key(banded)) | {(r, l) for l, r in key(banded)}
    extra = evidence[[k not in both_ways for k in key(evidence)]]
    return pd.concat([pairs, extra], ignore_index=True) if len(extra) else pairs


def move_starts_on_merge(session: Session, config: HubConfig, side_a: set[int], side_b: set[int], *,
                      now: dt.datetime) -> set[int]:
    """Records that start a move when a steward joins ``side_a`` and ``side_b`` (records of two golden persons).

    A steward who accepts an ordinary review pair says the two sides are one person; their records say whether that
    person moved. The live records returned are news to the person (:func:`hub.stewardship.accept_pair` raises the
    change of address):

    - a record of a trusted source on one side closed (not for a death) and a live record of a trusted source on the
      other side, at another UPRN, starting within ``MOVE_WINDOW`` of that closure, which the hub saw happen (the
      record changed after the hub first saw it);
    - nothing closed: a live record of a trusted source on one side, at a UPRN no live trusted record of the other
      side states, that arrived recently (:func:`_window_start`: after the hub's first load, within
      ``MOVE_WINDOW``) and after every live trusted record of the other side. A new tenancy beside the roll entry
      at the old address: the other side's records are the older word on where the person lives.

    A duplicate closed years before its namesake's new account started, one that arrived closed, or two records
    the hub has held since its first load, is a correction, not a move: nothing is returned.
    """
    ids = sorted(side_a | side_b)
    if not side_a or not side_b:
        return set()
    status = _status(session, config, ids, now)
    facts = {rid: (uprn, changed, seen) for rid, uprn, changed, seen in session.execute(select(
        SourceRecord.id,
        func.coalesce(SourceRecord.uprn, case((SourceRecord.address_band == Band.AUTO, SourceRecord.matched_uprn),
                                              else_=None)),
        SourceRecord.last_changed > SourceRecord.first_seen, SourceRecord.first_seen).where(SourceRecord.id.in_(ids)))}
    status["uprn"] = status["id"].astype(int).map(lambda i: facts[i][0])
    status["seen_to_change"] = status["id"].astype(int).map(lambda i: bool(facts[i][1]))
    status["first_seen"] = pd.to_datetime(status["id"].astype(int).map(lambda i: facts[i][2]), utc=True)
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
    return out | _unclosed_move_starts(session, status, now=now)


def _unclosed_move_starts(session: Session, status: pd.DataFrame, *, now: dt.datetime) -> set[int]:
    """The "nothing closed" half of :func:`move_starts_on_merge`: of ``status`` (both sides' records, with ``side``,
    ``uprn`` and ``first_seen``), the live trusted records that arrived recently, after every live trusted record of
    the other side, at a UPRN none of those states."""
    stating = status[status["live"] & status["trusted"] & status["uprn"].notna()]
    since = _window_start(session, now) if len(stating) else None
    if since is None:
        return set()
    out: set[int] = set()
    for side in ("a", "b"):
        mine, theirs = stating[stating["side"] == side], stating[stating["side"] != side]
        if mine.empty or theirs.empty:
            continue
        news = mine[(mine["first_seen"] >= pd.Timestamp(since, tz="UTC")) & (mine["first_seen"] > theirs["first_seen"].max())
                    & ~mine["uprn"].isin(set(theirs["uprn"]))]
        out |= set(news["id"].astype(int))
    return out
