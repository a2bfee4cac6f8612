"""Golden persons: persistent IDs, survivorship with lineage, versions, residence history and change events."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from hub.identity import NEW, IdPlan, plan_ids
from hub.identity_moves import moves_completed_by_closure
from hub.outbox import PendingEvent, write_events
from hub.survivorship import choose_attributes, without_placeholders
from hub.survivorship_address import KEPT, MOVED, choose_address
from hub.survivorship_name import choose_last_name, fill_name_parts, is_change_of_name, names_the_right_way_round
from hub.survivorship_status import END_REASON, STATUS, record_status
from schemas import (
    AttributeLineage,
    AttributeOverride,
    GoldenPerson,
    GoldenPersonVersion,
    Residence,
    SourceRecord,
    SourceSystem,
    Xref,
)
from schemas.base import utcnow
from schemas.columns import Band
from schemas.config import HubConfig

GOLDEN_FIELDS = ("title", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death",
                 "nino", "email", "phone", "uprn", "address", "postcode")
CHOSEN = ("title", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death",
          "nino", "email", "phone", "address")
ID_CHUNK = 500


@dataclass
class GoldenSummary:
    """What one golden-record pass did."""

    created: int = 0
    updated: int = 0
    merged: int = 0
    split: int = 0
    retired: int = 0
    unchanged: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)


def _chunks(values: list, size: int = ID_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_scope_records(session: Session, record_ids: list[int]) -> pd.DataFrame:
    """Records in scope with what survivorship needs: trust, recency and the resolved UPRN."""
    cols = [SourceRecord.id.label("record_id"), SourceSystem.name.label("source"), SourceSystem.trust,
            SourceRecord.source_key, SourceRecord.last_changed, SourceRecord.deleted, SourceRecord.uprn.label("source_uprn"),
            SourceRecord.matched_uprn, SourceRecord.address_band, SourceRecord.address_score, SourceRecord.attributes,
            SourceRecord.full_name, *[getattr(SourceRecord, f) for f in GOLDEN_FIELDS if f != "uprn"]]
    rows = []
    for part in _chunks(record_ids):
        stmt = select(*cols).join(SourceSystem, SourceSystem.id == SourceRecord.source_id).where(SourceRecord.id.in_(part))
        rows.extend(session.execute(stmt).all())
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    trusted_match = frame["matched_uprn"].where(frame["address_band"] == Band.AUTO)
    frame["uprn"] = frame["source_uprn"].where(frame["source_uprn"].notna(), trusted_match).astype("Int64")
    frame["recency"] = pd.to_datetime(frame["last_changed"], utc=True)
    return frame


def name_use(session: Session, keys: set[str]) -> pd.DataFrame:
    """``as_first, as_last`` by name key: how many person records of the hub write each of ``keys`` (upper-case
    letters, :func:`hub.survivorship_name.name_key`) as their whole first name and as their surname. Records that
    hold only a full name are not counted."""
    counts = pd.DataFrame(0, index=sorted(keys), columns=["as_first", "as_last"])
    for column, part in (("as_first", SourceRecord.first_name), ("as_last", SourceRecord.last_name)):
        written = func.upper(func.trim(part))
        for chunk in _chunks(sorted(keys)):
            for key, n in session.execute(select(written, func.count()).where(written.in_(chunk)).group_by(written)):
                counts.loc[key, column] = n
    return counts


def _current_golden(session: Session, person_ids: list[int]) -> dict[int, GoldenPerson]:
    found: dict[int, GoldenPerson] = {}
    for part in _chunks(person_ids):
        for person in session.scalars(select(GoldenPerson).where(GoldenPerson.person_id.in_(part))):
            found[person.person_id] = person
    return found


def _overrides(session: Session, person_ids: list[int]) -> dict[int, dict[str, str | None]]:
    found: dict[int, dict[str, str | None]] = defaultdict(dict)
    for part in _chunks(person_ids):
        for o in session.scalars(select(AttributeOverride).where(AttributeOverride.person_id.in_(part))):
            found[o.person_id][o.attribute] = o.value
    return found


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    return int(v) if hasattr(v, "item") and not isinstance(v, str) else v


def snapshot(person: GoldenPerson) -> dict[str, Any]:
    """A golden person's attributes as plain data (for versions, events and the API)."""
    return {f: getattr(person, f) for f in GOLDEN_FIELDS}


def apply_clusters(session: Session, config: HubConfig, clusters: pd.DataFrame, *, run_id: int | None,
                   now: dt.datetime | None = None, vacated: Iterable[int] = ()) -> GoldenSummary:
    """Turn person clusters into golden persons in the caller's transaction.

    Args:
        clusters: ``record_id, cluster_id`` for every live person record in scope. Scope must be
            closed: every live record of any golden person touched is in it (the linking stage
            guarantees this).
        vacated: golden persons that held records since deleted at their source; any of them that no
            cluster holds now is retired (its ID is never reused, and reading it says so).
    """
    now = now or utcnow()
    summary = GoldenSummary()
    live_ids = [int(i) for i in clusters["record_id"]]
    prior = _prior_xref(session, live_ids)
    plan = plan_ids(clusters, prior)
    plan.retired |= set(vacated) - set(plan.cluster_ids.values()) - set(plan.merged)
    records = without_placeholders(fill_name_parts(load_scope_records(session, live_ids)))
    records = record_status(records.merge(clusters, on="record_id"), config)
    # A date of death counts only from a trusted source, or from a trusted record closed because its person died.
    records["date_of_death"] = records["deceased_on"]
    was = prior.drop_duplicates("record_id").set_index("record_id")["uprn"].astype("Int64")
    before_uprn = records["record_id"].map(was).astype("Int64")
    is_new = ~records["record_id"].isin(was.index)
    # "fresh": new, or stating another UPRN than when last linked; "changed": new, or changed since last linked
    records["fresh"] = (is_new | (records["uprn"].notna() & (records["uprn"] != before_uprn).fillna(True))).astype(bool)
    linked_at = pd.to_datetime(records["record_id"].map(prior.drop_duplicates("record_id").set_index("record_id")["linked_at"]),
                               utc=True)
    records["is_new"] = is_new
    records["changed"] = (is_new | (records["recency"] > linked_at).fillna(False)).astype(bool)
    rules = {a: config.survivorship_rule(a) for a in CHOSEN if a in config.survivorship}
    sources_of = records.groupby("cluster_id")["source"].agg(lambda s: sorted(set(s))).to_dict()
    record_info = records.set_index("record_id")[["source", "source_key"]].to_dict(orient="index")

    new_clusters = [c for c, pid in plan.cluster_ids.items() if pid == NEW]
    if new_clusters:
        created = session.scalars(insert(GoldenPerson).returning(GoldenPerson.person_id, sort_by_parameter_order=True),
                                  [{"status": "active", "version": 0, "created_at": now, "updated_at": now}
                                   for _ in new_clusters]).all()
        for cluster_id, person_id in zip(new_clusters, created):
            plan.cluster_ids[cluster_id] = person_id
    person_ids = sorted(set(plan.cluster_ids.values()) | set(plan.merged) | plan.retired)
    golden = _current_golden(session, person_ids)
    overrides = _overrides(session, person_ids)
    known = {c: golden[p] for c, p in plan.cluster_ids.items() if golden[p].version > 0}
    where = _address_before_merge(known, plan, golden, records)  # whose address the person had, cluster by cluster
    current_uprn = pd.Series({c: g.uprn for c, g in where.items() if g.uprn is not None}, dtype="Int64")
    # a closure arriving now completes a move the person's records already date (see the function)
    records["fresh"] = records["fresh"] | moves_completed_by_closure(records, current_uprn, config, today=now.date())
    # a record written surname first ("BRUCE HELEN") speaks of its person in the right order
    records = names_the_right_way_round(records, pd.DataFrame(
        [(c, g.first_name, g.last_name) for c, g in known.items()], columns=["cluster_id", "first_name", "last_name"]),
        name_use=lambda keys: name_use(session, keys))
    current_name = pd.Series({c: g.last_name for c, g in known.items() if g.last_name is not None}, dtype=object)
    current_text = pd.Series({c: g.address for c, g in where.items() if g.uprn is None and g.address}, dtype=object)
    chosen = (choose_attributes(records, tuple(a for a in CHOSEN if a not in ("address", "last_name")), rules)
              .join(choose_address(records, current_uprn, config.survivorship.get("address"), prior_text=current_text))
              .join(choose_last_name(records, current_name, config.survivorship.get("last_name"))))
    trusted_record = (records.set_index("record_id")["trusted"] & records.set_index("record_id")["live"]).to_dict()
    reasons = records.set_index("record_id")["attributes"].map(
        lambda a: (a.get(END_REASON) or a.get(STATUS)) if isinstance(a, dict) else None).to_dict()
    events: list[PendingEvent] = []

    for absorbed, survivor in plan.merged.items():
        person = golden[absorbed]
        if person.status != "merged" or person.redirect_to != survivor:
            person.status, person.redirect_to, person.updated_at = "merged", survivor, now
            session.execute(update(GoldenPerson).where(GoldenPerson.redirect_to == absorbed).values(redirect_to=survivor))
            session.execute(delete(AttributeLineage).where(AttributeLineage.person_id == absorbed))
            summary.merged += 1
            cluster = next(c for c, p in plan.cluster_ids.items() if p == survivor)
            events.append(PendingEvent(f"merge:{absorbed}:{survivor}", "merge", survivor,
                                       {"survivor": survivor, "absorbed": absorbed}, sources_of.get(cluster, [])))
    for person_id in plan.retired:
        person = golden[person_id]
        if person.status == "active":
            person.status, person.updated_at = "retired", now
            summary.retired += 1

    lineage_rows, version_rows, residence_close, residence_open = [], [], [], []
    for cluster_id, person_id in plan.cluster_ids.items():
        person = golden[person_id]
        row = chosen.loc[cluster_id]
        before = snapshot(person) if person.version > 0 else None
        after = {f: _value(row.get(f)) for f in GOLDEN_FIELDS}
        lived = snapshot(where[cluster_id]) if before is not None and cluster_id in where else before
        if lived is not None and lived.get("uprn") is not None and row.get("address__rule") not in (MOVED, KEPT) \
                and not trusted_record.get(_value(row.get("address__record_id")), False):
            # Nothing states the current address any more and only an untrusted source states another: keep it.
            after.update({f: lived.get(f) for f in ("uprn", "address", "postcode")})
        for attr, value in overrides.get(person_id, {}).items():
            after[attr] = value
        is_new = person.version == 0
        if person.status != "active":
            person.status, person.redirect_to = "active", None
        if not is_new and before == after:
            summary.unchanged += 1
            continue
        for f, v in after.items():
            setattr(person, f, v)
        person.version += 1
        person.updated_at = now
        change = "created" if is_new else "updated"
        if cluster_id in plan.split_from:
            change = "split"
        version_rows.append({"person_id": person_id, "version": person.version, "valid_from": now,
                             "attributes": after, "run_id": run_id, "change": change})
        for attr in CHOSEN:
            rid = row.get(f"{attr}__record_id")
            rule = "override" if attr in overrides.get(person_id, {}) else row.get(f"{attr}__rule") or "trust"
            lineage_rows.append({"person_id": person_id, "attribute": attr,
                                 "value": None if after.get(attr) is None else str(after.get(attr)),
                                 "source_record_id": None if pd.isna(rid) else int(rid), "rule": rule, "chosen_at": now})
        subs = sources_of.get(cluster_id, [])
        if before is None or before.get("uprn") != after.get("uprn"):
            if before is not None:
                residence_close.append(person_id)
            if after.get("uprn") is not None:
                rid = row.get("address__record_id")
                residence_open.append({"person_id": person_id, "uprn": after["uprn"], "from_date": now,
                                       "source_record_id": None if pd.isna(rid) else int(rid)})
        if is_new:
            if cluster_id in plan.split_from:
                old = plan.split_from[cluster_id]
                summary.split += 1
                events.append(PendingEvent(f"split:{old}:{person_id}", "split", person_id,
                                           {"from": old, "new": person_id}, subs))
            else:
                summary.created += 1
                events.append(PendingEvent(f"new:{person_id}", "new_person", person_id,
                                           {"after": _public(after)}, subs, uprn=after.get("uprn")))
            continue
        summary.updated += 1
        events.extend(_attribute_events(person_id, person.version, before, after, row, record_info, subs, reasons,
                                        lived=lived))

    if version_rows:
        closing = [r["person_id"] for r in version_rows]
        for part in _chunks(closing):
            session.execute(update(GoldenPersonVersion).where(GoldenPersonVersion.person_id.in_(part),
                                                              GoldenPersonVersion.valid_to.is_(None)).values(valid_to=now))
        session.execute(insert(GoldenPersonVersion), version_rows)
    if lineage_rows:
        touched = sorted({r["person_id"] for r in lineage_rows})
        for part in _chunks(touched):
            session.execute(delete(AttributeLineage).where(AttributeLineage.person_id.in_(part)))
        session.execute(insert(AttributeLineage), lineage_rows)
    for part in _chunks(residence_close):
        session.execute(update(Residence).where(Residence.person_id.in_(part), Residence.to_date.is_(None)).values(to_date=now))
    if residence_open:
        session.execute(insert(Residence), residence_open)
    _write_xref(session, records, plan.cluster_ids, now)
    summary.events = write_events(session, events, run_id=run_id)
    for e in events:
        summary.event_counts[e.event_type] = summary.event_counts.get(e.event_type, 0) + 1
    return summary


def _prior_xref(session: Session, record_ids: list[int]) -> pd.DataFrame:
    person_ids: set[int] = set()
    for part in _chunks(record_ids):
        person_ids.update(session.scalars(select(Xref.person_id).where(Xref.source_record_id.in_(part))))
    rows = []
    for part in _chunks(sorted(person_ids)):
        rows.extend(session.execute(select(Xref.source_record_id, Xref.person_id, Xref.uprn, Xref.linked_at)
                                    .where(Xref.person_id.in_(part))).all())
    return pd.DataFrame(rows, columns=["record_id", "person_id", "uprn", "linked_at"])


def _public(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v is not None}


def _address_before_merge(known: dict[object, GoldenPerson], plan: IdPlan, golden: dict[int, GoldenPerson],
                          records: pd.DataFrame) -> dict[object, GoldenPerson]:
    """Per cluster, the golden person whose current address the merged person had: the survivor, unless the merge
    brings no news (no live, trusted record newly stating a UPRN), no live record of a trusted source states the
    survivor's UPRN and one states the UPRN of a person it absorbs.

    A steward who joins a council tax account closed in 2018 to a resident makes the 2018 person the survivor when
    its ID is older; the resident's address, stated by live records, is still where they live. Keeping the 2018
    address would send letters to a house they left years ago, and calling the resident's own address a change
    of address would tell every source a move that never happened. With news (a new account, move evidence a
    steward accepted) the survivor's address stays the one the news is weighed against, unless the survivor already
    lives where the news says: the new account joined the survivor first (it shared the survivor's way of writing
    the name), and the person it is now known to be, absorbed here, lived elsewhere. The move is from there, and
    the sources that hold the absorbed person's records must hear it.
    """
    live = records[records["live"].astype(bool) & records["uprn"].notna()]
    # where a person lives is what trusted sources state: a service request names where a problem was
    trusted = live[live["trusted"].astype(bool)]
    stated = set(zip(trusted["cluster_id"], trusted["uprn"].astype("int64")))
    fresh = trusted[trusted["fresh"].astype(bool)]
    news = set(fresh["cluster_id"])
    told = set(zip(fresh["cluster_id"], fresh["uprn"].astype("int64")))
    cluster_of = {pid: c for c, pid in plan.cluster_ids.items()}
    where = dict(known)
    for absorbed, survivor in plan.merged.items():
        cluster, other = cluster_of.get(survivor), golden.get(absorbed)
        if cluster not in where or other is None or other.uprn is None:
            continue
        mine = where[cluster].uprn
        if cluster in news:
            if mine is not None and (cluster, int(mine)) in told and (cluster, int(other.uprn)) not in told \
                    and where[cluster] is known.get(cluster):
                where[cluster] = other
            continue
        if (mine is None or (cluster, int(mine)) not in stated) and (cluster, int(other.uprn)) in stated:
            where[cluster] = other
    return where


def _attribute_events(person_id: int, version: int, before: dict, after: dict, row: pd.Series,
                      record_info: dict, subs: list[str], reasons: dict[int, Any], *,
                      lived: dict | None = None) -> list[PendingEvent]:
    """Change of address, name and death, each naming the source that told us and the evidence. ``lived``: the
    golden state whose address the person had before this change (``before`` unless a merge brought it)."""
    out = []
    lived = lived if lived is not None else before
    checks = (
        ("change_of_address", "address", ("uprn", "address", "postcode"),
         (lived.get("uprn") is not None and lived.get("uprn") != after.get("uprn")) or row.get("address__rule") == MOVED),
        ("change_of_name", "last_name", ("title", "first_name", "last_name"),
         is_change_of_name(before, after)),
        ("death", "date_of_death", ("date_of_death",), before.get("date_of_death") is None and after.get("date_of_death") is not None),
    )
    for event_type, attr, fields, happened in checks:
        if not happened:
            continue
        rid = row.get(f"{attr}__record_id")
        info = record_info.get(int(rid)) if rid is not None and not pd.isna(rid) else None
        told_by = info["source"] if info else None
        evidence = {"source": told_by, "source_key": info["source_key"] if info else None, "rule": row.get(f"{attr}__rule")}
        if event_type == "death" and info and reasons.get(int(rid)):
            evidence["closure_reason"] = reasons[int(rid)]  # the record closed because its person died
        was = lived if event_type == "change_of_address" else before  # where the person lived, a merge's too
        payload = {"before": {f: was.get(f) for f in fields}, "after": {f: after.get(f) for f in fields},
                   "evidence": evidence}
        out.append(PendingEvent(f"{event_type}:{person_id}:v{version}", event_type, person_id, payload,
                                [s for s in subs if s != told_by], source=told_by, uprn=after.get("uprn")))
    return out


def _write_xref(session: Session, records: pd.DataFrame, cluster_ids: dict[object, int], now: dt.datetime) -> None:
    ids = [int(i) for i in records["record_id"]]
    for part in _chunks(ids):
        session.execute(delete(Xref).where(Xref.source_record_id.in_(part)))
    sizes = records.groupby("cluster_id")["record_id"].transform("size")
    # A record with no direct scored link of its own is a singleton, or a member kept by earlier links/decisions.
    fallback = pd.Series("member", index=records.index).where(sizes > 1, "singleton")
    band = records["link_band"].where(records["link_band"].notna(), fallback) if "link_band" in records else fallback
    score = records["link_score"] if "link_score" in records else pd.Series(None, index=records.index, dtype=float)
    rows = [{"source_record_id": int(rid), "person_id": cluster_ids[cid],
             "uprn": None if pd.isna(uprn) else int(uprn), "link_band": b,
             "link_score": None if pd.isna(sc) else float(sc), "linked_at": now}
            for rid, cid, uprn, b, sc in zip(records["record_id"], records["cluster_id"], records["uprn"], band, score)]
    if rows:
        session.execute(insert(Xref), rows)


def drop_deleted_records(session: Session, record_ids: list[int]) -> None:
    """Forget cross-references of source records deleted at their source (their history stays in versions)."""
    for part in _chunks(record_ids):
        session.execute(delete(Xref).where(Xref.source_record_id.in_(part)))


def orphaned_persons(session: Session) -> set[int]:
    """Active golden persons that hold no source record (all of theirs were deleted at source)."""
    held = select(Xref.person_id).where(Xref.person_id == GoldenPerson.person_id).exists()
    return set(session.scalars(select(GoldenPerson.person_id).where(GoldenPerson.status == "active", ~held)))


def resolve_person_id(session: Session, person_id: int) -> GoldenPerson | None:
    """Follow merge redirects from any golden ID, old or current, to the live golden person."""
    seen: set[int] = set()
    person = session.get(GoldenPerson, person_id)
    while person is not None and person.redirect_to is not None and person.person_id not in seen:
        seen.add(person.person_id)
        person = session.get(GoldenPerson, person.redirect_to)
    return person


def golden_as_at(session: Session, person_id: int, when: dt.datetime) -> dict[str, Any] | None:
    """A golden person's attributes as they stood at ``when`` (``None`` if it did not exist yet)."""
    person = resolve_person_id(session, person_id)
    ids = {person_id} | ({person.person_id} if person else set())
    version = session.scalar(
        select(GoldenPersonVersion)
        .where(GoldenPersonVersion.person_id.in_(ids), GoldenPersonVersion.valid_from <= when,
               (GoldenPersonVersion.valid_to.is_(None)) | (GoldenPersonVersion.valid_to > when))
        .order_by(GoldenPersonVersion.valid_from.desc()).limit(1))
    return dict(version.attributes, person_id=version.person_id, version=version.version) if version else None
