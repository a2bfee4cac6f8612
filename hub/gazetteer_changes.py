"""Gazetteer changes that matter to source systems: a UPRN retired or deleted in a reload becomes a change event to every holder.

The hub keeps the state in which it last saw each UPRN (``gazetteer_seen``). After a reload, a UPRN that
was live and is now historical (logical status 8) or gone (BLPU state 4, "no longer exists"), or that
has been deleted from the gazetteer, produces one ``uprn_retired`` event for every source system holding
it, with its successors: explicit successor records when the gazetteer has them (AddressBase record 30),
else live UPRNs new since the last look that are its children (a house split into flats) or carry its
approved address (demolished and rebuilt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from hub.outbox import PendingEvent, write_events
from schemas import GoldenPerson, HubState, Lpi, Property, Residence, SourceRecord, SourceSystem
from schemas.base import utcnow
from schemas.columns import Band
from schemas.property import GazetteerSeen

GAZETTEER_STATE_KEY = "gazetteer_file"  # written by hub.reference when a gazetteer file is loaded
STATE_KEY = "gazetteer_changes"
HISTORICAL = 8
GONE_BLPU_STATE = 4
CHUNK = 500
BATCH = 20_000


@dataclass
class GazetteerChangeSummary:
    """What one look at the gazetteer found."""

    skipped: bool = False  # the same gazetteer file was already examined
    seeded: bool = False  # first look: the state was recorded, nothing to compare with
    retired: int = 0
    deleted: int = 0
    with_successor: int = 0
    events: int = 0
    retired_uprns: list[int] = field(default_factory=list)


def _current(session: Session) -> pd.DataFrame:
    props = pd.DataFrame(session.execute(select(Property.uprn, Property.logical_status, Property.blpu_state,
                                                Property.parent_uprn)).all(),
                         columns=["uprn", "logical_status", "blpu_state", "parent_uprn"])
    lpis = pd.DataFrame(session.execute(select(Lpi.uprn, Lpi.address, Lpi.lpi_key)
                                        .where(Lpi.logical_status == 1, Lpi.kind == "lpi")).all(),
                        columns=["uprn", "address", "lpi_key"])
    first = lpis.sort_values(["uprn", "lpi_key"]).drop_duplicates("uprn")[["uprn", "address"]]
    return props.merge(first, on="uprn", how="left")


def _seen(session: Session) -> pd.DataFrame:
    return pd.DataFrame(session.execute(select(GazetteerSeen.uprn, GazetteerSeen.logical_status, GazetteerSeen.blpu_state,
                                               GazetteerSeen.parent_uprn, GazetteerSeen.address, GazetteerSeen.seen_at)).all(),
                        columns=["uprn", "logical_status", "blpu_state", "parent_uprn", "address", "seen_at"])


def _retired(frame: pd.DataFrame, suffix: str = "") -> pd.Series:
    return (frame[f"logical_status{suffix}"] == HISTORICAL) | (frame[f"blpu_state{suffix}"] == GONE_BLPU_STATE)


def find_retirements(seen: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """UPRNs live when last seen and now retired or deleted: ``uprn, change, before_*, after_*``.

    Examples:
        >>> seen = pd.DataFrame({"uprn": [1, 2, 3], "logical_status": [1, 1, 8], "blpu_state": [2, 2, 4],
        ...     "parent_uprn": [None] * 3, "address": ["A", "B", "C"]})
        >>> cur = pd.DataFrame({"uprn": [1, 3], "logical_status": [8, 8], "blpu_state": [4, 4],
        ...     "parent_uprn": [None] * 2, "address": [None, None]})
        >>> find_retirements(seen, cur)[["uprn", "change"]].values.tolist()
        [[1, 'retired'], [2, 'deleted']]
    """
    m = seen.merge(current, on="uprn", how="left", suffixes=("", "_now"), indicator=True)
    was_live = ~_retired(m)
    deleted = was_live & (m["_merge"] == "left_only")
    retired = was_live & (m["_merge"] == "both") & _retired(m, "_now")
    out = m[deleted | retired].copy()
    out["change"] = ["deleted" if d else "retired" for d in deleted[deleted | retired]]
    return out.sort_values("uprn").reset_index(drop=True)


def find_successors(retired: pd.DataFrame, seen: pd.DataFrame, current: pd.DataFrame,
                    explicit: dict[int, list[int]] | None = None) -> dict[int, list[int]]:
    """Successor UPRNs per retired UPRN: explicit ones, else new live children or new live UPRNs at the same address."""
    explicit = explicit or {}
    new = current[~current["uprn"].isin(seen["uprn"]) & ~_retired(current)]
    by_parent = {int(k): sorted(int(u) for u in g) for k, g in
                 new.dropna(subset=["parent_uprn"]).groupby("parent_uprn")["uprn"]}
    norm = new.assign(key=new["address"].fillna("").astype(str).str.upper().str.split().str.join(" "))
    by_address = {k: sorted(int(u) for u in g) for k, g in norm[norm["key"] != ""].groupby("key")["uprn"]}
    out: dict[int, list[int]] = {}
    for r in retired.itertuples(index=False):
        uprn = int(r.uprn)
        key = " ".join(str(r.address or "").upper().split())
        found = explicit.get(uprn) or by_parent.get(uprn) or (by_address.get(key) if key else None) or []
        out[uprn] = sorted(set(int(u) for u in found))
    return out


def holders(session: Session, uprns: list[int]) -> tuple[dict[int, dict[str, list[str]]], dict[int, list[int]]]:
    """For each UPRN, the source keys per source system holding it, and the golden persons living there now."""
    records: dict[int, dict[str, list[str]]] = {}
    persons: dict[int, list[int]] = {}
    for start in range(0, len(uprns), CHUNK):
        part = uprns[start : start + CHUNK]
        rows = session.execute(
            select(SourceSystem.name, SourceRecord.source_key, SourceRecord.uprn, SourceRecord.matched_uprn, SourceRecord.address_band)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceRecord.deleted.is_(False),
                   or_(SourceRecord.uprn.in_(part), SourceRecord.matched_uprn.in_(part)))).all()
        for name, key, held, matched, band in rows:
            linked = {held} | ({matched} if band == Band.AUTO else set())
            for u in linked & set(part):
                records.setdefault(int(u), {}).setdefault(name, []).append(key)
        for pid, u in session.execute(select(Residence.person_id, Residence.uprn)
                                      .join(GoldenPerson, GoldenPerson.person_id == Residence.person_id)
                                      .where(Residence.uprn.in_(part), Residence.to_date.is_(None),
                                             GoldenPerson.status == "active")):
            persons.setdefault(int(u), []).append(int(pid))
    return records, persons


def _save_seen(session: Session, seen: pd.DataFrame, current: pd.DataFrame, now: dt.datetime) -> None:
    cols = ["uprn", "logical_status", "blpu_state", "parent_uprn", "address"]
    m = current[cols].merge(seen[cols], on="uprn", how="outer", suffixes=("", "_old"), indicator=True)
    gone = m.loc[m["_merge"] == "right_only", "uprn"].astype(int).tolist()
    fresh = m[m["_merge"] == "left_only"]
    both = m[m["_merge"] == "both"]
    diff = pd.Series(False, index=both.index)
    for c in cols[1:]:
        diff |= both[c].astype(object).where(both[c].notna(), None) != both[f"{c}_old"].astype(object).where(both[f"{c}_old"].notna(), None)
    changed = both[diff]

    def rows(frame: pd.DataFrame) -> list[dict]:
        return [{"uprn": int(r.uprn), "logical_status": _int(r.logical_status), "blpu_state": _int(r.blpu_state),
                 "parent_uprn": _int(r.parent_uprn), "address": None if pd.isna(r.address) else r.address, "seen_at": now}
                for r in frame.itertuples(index=False)]

    for start in range(0, len(gone), CHUNK):
        session.execute(delete(GazetteerSeen).where(GazetteerSeen.uprn.in_(gone[start : start + CHUNK])))
    changed_rows = rows(changed)
    for start in range(0, len(changed_rows), BATCH):
        session.execute(update(GazetteerSeen), changed_rows[start : start + BATCH])
    fresh_rows = rows(fresh)
    for start in range(0, len(fresh_rows), BATCH):
        session.execute(insert(GazetteerSeen), fresh_rows[start : start + BATCH])


def _int(v: object) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _plain(row: pd.Series, suffix: str) -> dict[str, int | None]:
    return {"logical_status": _int(row[f"logical_status{suffix}"]), "blpu_state": _int(row[f"blpu_state{suffix}"])}


def propagate_gazetteer_changes(session: Session, *, run_id: int | None, successors: dict[int, list[int]] | None = None,
                                force: bool = False, now: dt.datetime | None = None) -> GazetteerChangeSummary:
    """Compare the gazetteer with the hub's last look at it and write ``uprn_retired`` events, in the caller's transaction.

    Skips the comparison when the gazetteer file loaded is the one already examined (unless ``force``).
    """
    now = now or utcnow()
    summary = GazetteerChangeSummary()
    loaded = session.get(HubState, GAZETTEER_STATE_KEY)
    fingerprint = (loaded.value or {}).get("sha256") if loaded else None
    mine = session.get(HubState, STATE_KEY)
    if not force and fingerprint is not None and mine is not None and mine.value.get("sha256") == fingerprint:
        summary.skipped = True
        return summary
    seen, current = _seen(session), _current(session)
    if seen.empty:
        summary.seeded = True
    else:
        retired = find_retirements(seen, current)
        summary.retired = int((retired["change"] == "retired").sum())
        summary.deleted = int((retired["change"] == "deleted").sum())
        summary.retired_uprns = [int(u) for u in retired["uprn"]]
        succ = find_successors(retired, seen, current, successors)
        summary.with_successor = sum(1 for s in succ.values() if s)
        records, persons = holders(session, summary.retired_uprns)
        events = []
        for _, r in retired.iterrows():
            uprn = int(r["uprn"])
            if uprn not in records:
                continue  # nobody holds it: nothing to tell
            payload = {"uprn": uprn, "change": r["change"], "before": _plain(r, ""),
                       "after": None if r["change"] == "deleted" else _plain(r, "_now"),
                       "successors": succ.get(uprn, []), "records": records[uprn], "persons": sorted(persons.get(uprn, [])),
                       "evidence": {"gazetteer_sha256": fingerprint}}
            events.append(PendingEvent(f"uprn_retired:{uprn}:{pd.Timestamp(r['seen_at']).isoformat()}", "uprn_retired",
                                       None, payload, sorted(records[uprn]), source="gazetteer", uprn=uprn))
        summary.events = write_events(session, events, run_id=run_id)
    _save_seen(session, seen, current, now)
    value = {"sha256": fingerprint, "examined_at": now.isoformat()}
    if mine is None:
        session.add(HubState(key=STATE_KEY, value=value, updated_at=now))
    else:
        mine.value, mine.updated_at = value, now
    return summary
