"""Golden properties: property records cross-referenced to UPRNs, attributes by survivorship with lineage, linkage figures.

The gazetteer is the master of property: a golden property *is* a UPRN. Departmental property records
(valuation list, business rates, housing stock...) are linked to it and contribute attributes (council
tax band, rateable value, tenure...) chosen per attribute by the survivorship rules used for people.

A nightly pass chooses attributes again only for the UPRNs whose records changed: a record linked, re-linked or
unlinked, or changed at its source since the last pass started (``hub.pass_marks``). Every UPRN is chosen again
on a full rebuild, on the first pass, and when anything every property depends on changed: the survivorship
rules, a source's trust, or the gazetteer loaded (its fingerprint).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Row, Select, Text, and_, case, cast, delete, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from hub.pass_marks import changed_since, remember_pass
from hub.property_queue import QueueSummary, active_address_decisions, decided_hash, refresh_queue
from hub.reference import STATE_KEY as GAZETTEER_STATE_KEY
from hub.survivorship import ADDRESS_UNIT, choose_attributes
from schemas import DqMetric, HubState, Lpi, Property, Residence, SourceRecord, SourceSystem
from schemas.base import utcnow
from schemas.columns import Band
from schemas.config import HubConfig
from schemas.property import DqFinding, GoldenPropertyAttribute, PropertyXref

CHUNK = 500
MANY = 20_000  # more keys than this are cheaper to find in one read of the whole table than in chunks
LINKAGE_METRICS = ("uprn_linked_rate", "approved_address_rate", "alternative_address_rate", "historical_address_rate",
                   "unmatched_rate")
LPI_STATUS = {1: "approved", 3: "alternative", 6: "provisional", 8: "historical"}
HISTORICAL = 8
STATE_KEY = "golden_properties"


class PropertyError(Exception):
    """A golden-property read or stage that cannot be carried out; names the UPRN or source record."""


class PropertyNotFound(PropertyError):
    """No property with that UPRN in the hub's gazetteer."""


@dataclass
class PropertySummary:
    """What one golden-property pass did."""

    records: int = 0
    linked: int = 0
    xref_changed: int = 0
    attributes_changed: int = 0
    golden_properties: int = 0
    uprns_chosen: int = 0  # UPRNs whose attributes were chosen again (every linked UPRN on a full pass)
    queue: QueueSummary = field(default_factory=QueueSummary)
    linkage: dict[str, dict[str, float]] = field(default_factory=dict)


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _rows(session: Session, stmt: Select) -> list[Row]:
    """All rows of a column query, through Core: the ORM's per-row work is wasted on plain columns (pending
    changes are flushed first, as the session would)."""
    session.flush()
    return session.connection().execute(stmt).all()


def _rows_of(session: Session, stmt: Select, key: Any, wanted: list[int] | None) -> list[Row]:
    """Rows of ``stmt`` whose ``key`` is in ``wanted`` (all rows when ``None``): read in chunks when they are few,
    else all read at once and filtered (the first column must be ``key``)."""
    if wanted is None:
        return _rows(session, stmt)
    if len(wanted) > MANY:
        keep = set(wanted)
        return [r for r in _rows(session, stmt) if r[0] in keep]
    return [r for part in _chunks(sorted(wanted)) for r in _rows(session, stmt.where(key.in_(part)))]


def load_property_records(session: Session, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every live property record with its address resolution and source; ``fresh`` when it changed at its source
    after ``since`` (every record when ``None``). Attributes are read by :func:`load_attribute_inputs`."""
    fresh = (SourceRecord.last_changed > since) if since is not None else true()
    cols = [SourceRecord.id, SourceSystem.name.label("source"), SourceSystem.trust, SourceRecord.source_key,
            SourceRecord.uprn.label("held_uprn"), SourceRecord.matched_uprn, SourceRecord.address_band,
            SourceRecord.address_score, SourceRecord.address_reason, SourceRecord.address_hash, SourceRecord.address,
            SourceRecord.postcode, fresh.label("fresh")]
    stmt = (select(*cols).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .where(SourceRecord.kind == "property", SourceRecord.deleted.is_(False)))
    frame = pd.DataFrame(_rows(session, stmt), columns=[c.key for c in cols])
    frame["fresh"] = frame["fresh"].astype(bool)
    return frame


def load_attribute_inputs(session: Session, record_ids: list[int] | None = None) -> pd.DataFrame:
    """``id, last_changed, attributes`` (decoded) of the given live property records, or of every one."""
    cols = [SourceRecord.id, SourceRecord.last_changed, cast(SourceRecord.attributes, Text).label("attributes")]
    stmt = select(*cols).where(SourceRecord.kind == "property", SourceRecord.deleted.is_(False))
    frame = pd.DataFrame(_rows_of(session, stmt, SourceRecord.id, record_ids), columns=[c.key for c in cols])
    frame["attributes"] = pd.Series(json_documents(frame["attributes"].tolist()), index=frame.index, dtype=object)
    return frame


def json_documents(texts: list[str | None]) -> list[Any]:
    """JSON texts (None for SQL NULL) decoded in one pass: one parse of them all is several times faster than one each.

    Examples:
        >>> json_documents(['{"band": "C"}', None, "null", "[1, 2.5]"])
        [{'band': 'C'}, None, None, [1, 2.5]]
    """
    return json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")


def plan_links(records: pd.DataFrame, steward_uprn: dict[int, int]) -> pd.DataFrame:
    """Each linked record's UPRN and link kind: ``steward`` (a binding decision), ``held`` (the source's UPRN) or ``matched``.

    Examples:
        >>> recs = pd.DataFrame({"id": [1, 2, 3], "held_uprn": [10, None, None], "matched_uprn": [10, 20, 30],
        ...     "address_band": ["auto", "auto", "review"], "address_score": [1.0, 0.995, 0.9]})
        >>> plan_links(recs, {3: 31})[["source_record_id", "uprn", "link"]].values.tolist()
        [[1, 10, 'held'], [2, 20, 'matched'], [3, 31, 'steward']]
    """
    auto = records["matched_uprn"].notna() & (records["address_band"] == Band.AUTO)
    out = records.loc[auto, ["id", "matched_uprn", "held_uprn", "address_score"]].copy()
    out["link"] = (out["held_uprn"] == out["matched_uprn"]).map({True: "held", False: "matched"})
    chosen = records["id"].isin(steward_uprn)
    forced = records.loc[chosen, ["id"]].assign(matched_uprn=records.loc[chosen, "id"].map(steward_uprn),
                                               address_score=1.0, link="steward")
    out = pd.concat([out[~out["id"].isin(steward_uprn)], forced], ignore_index=True).sort_values("id", kind="stable")
    return pd.DataFrame({"source_record_id": out["id"].astype("int64").to_numpy(),
                         "uprn": out["matched_uprn"].astype("int64").to_numpy(), "link": out["link"].to_numpy(),
                         "score": out["address_score"].astype(float).to_numpy()})


def units_at_parent(session: Session, records: pd.DataFrame, links: pd.DataFrame) -> set[int]:
    """Records linked (not by a steward) to a building that holds other properties while their address names a unit.

    A flat or unit linked only to its parent building is the custodian's question, not a link: the unit is
    missing from the gazetteer or the record names it in a way the matcher could not place.
    """
    candidates = links[links["link"] != "steward"]
    # every building that holds other properties (far fewer than the linked UPRNs, so read them all at once)
    parents = set(session.scalars(select(Property.parent_uprn).where(Property.parent_uprn.is_not(None)).distinct()))
    at_parent = candidates[candidates["uprn"].isin(parents)]
    if at_parent.empty:
        return set()
    from gazetteer import parse_addresses  # pure parser; only needed when a record sits on a parent building

    texts = records.set_index("id").loc[at_parent["source_record_id"], "address"].fillna("")
    sao = parse_addresses(texts.reset_index(drop=True))["sao_key"].fillna("")
    return {int(rid) for rid, key in zip(at_parent["source_record_id"], sao) if key}


def _sync_xref(session: Session, links: pd.DataFrame, now: dt.datetime) -> tuple[int, set[int]]:
    """Bring ``property_xref`` in line with ``links`` (only rows that changed are written).

    Returns the number of rows written or removed, and every UPRN that gained or lost a record.
    """
    existing = pd.DataFrame(_rows(session, select(PropertyXref.source_record_id, PropertyXref.uprn, PropertyXref.link)),
                            columns=["source_record_id", "uprn_old", "link_old"])
    merged = links.merge(existing, on="source_record_id", how="outer", indicator=True)
    gone = merged.loc[merged["_merge"] == "right_only", "source_record_id"].astype(int).tolist()
    fresh = merged[merged["_merge"] == "left_only"]
    both = merged[merged["_merge"] == "both"]
    changed = both[(both["uprn"] != both["uprn_old"]) | (both["link"] != both["link_old"])]
    for part in _chunks(gone):
        session.execute(delete(PropertyXref).where(PropertyXref.source_record_id.in_(part)))
    rows = [{"source_record_id": int(r.source_record_id), "uprn": int(r.uprn), "link": r.link,
             "score": None if pd.isna(r.score) else float(r.score), "linked_at": now}
            for r in pd.concat([fresh, changed]).itertuples(index=False)]
    for part in _chunks([r["source_record_id"] for r in rows]):
        session.execute(delete(PropertyXref).where(PropertyXref.source_record_id.in_(part)))
    if rows:
        session.execute(insert(PropertyXref), rows)
    moved = merged[(merged["_merge"] != "both") | merged["source_record_id"].isin(changed["source_record_id"])]
    uprns = {int(u) for u in pd.concat([moved["uprn"], moved["uprn_old"]]).dropna()}
    return len(gone) + len(rows), uprns


def attribute_frame(records: pd.DataFrame, links: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Linked records as survivorship input: ``record_id, cluster_id`` (the UPRN), trust, recency and one column per attribute."""
    linked = records.merge(links[["source_record_id", "uprn"]], left_on="id", right_on="source_record_id")
    if linked.empty:
        return pd.DataFrame(columns=["record_id", "cluster_id", "trust", "recency"]), ()
    attrs = pd.DataFrame.from_records([a if isinstance(a, dict) else {} for a in linked["attributes"]], index=linked.index)
    attrs = attrs.drop(columns=[c for c in attrs.columns if c in ADDRESS_UNIT or c.startswith("_")], errors="ignore")
    attrs = attrs.mask(attrs.map(lambda v: v is None or (isinstance(v, str) and not v.strip())))
    names = tuple(sorted(attrs.columns))
    frame = pd.concat([pd.DataFrame({"record_id": linked["id"].astype("int64"), "cluster_id": linked["uprn"].astype("int64"),
                                     "trust": linked["trust"], "recency": pd.to_datetime(linked["last_changed"], utc=True)}),
                       attrs], axis=1)
    return frame, names


def choose_property_attributes(frame: pd.DataFrame, names: tuple[str, ...], rules: dict[str, str]) -> pd.DataFrame:
    """Long form of the surviving attributes: ``uprn, attribute, value, source_record_id, rule``."""
    if frame.empty or not names:
        return pd.DataFrame(columns=["uprn", "attribute", "value", "source_record_id", "rule"])
    chosen = choose_attributes(frame, names, rules)
    parts = []
    for name in names:
        part = chosen[[name, f"{name}__record_id", f"{name}__rule"]].dropna(subset=[f"{name}__record_id"])
        parts.append(pd.DataFrame({"uprn": part.index.astype("int64"), "attribute": name,
                                   "value": part[name].map(_text).to_numpy(),
                                   "source_record_id": part[f"{name}__record_id"].astype("int64").to_numpy(),
                                   "rule": part[f"{name}__rule"].to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sync_attributes(session: Session, chosen: pd.DataFrame, now: dt.datetime, uprns: set[int] | None = None) -> int:
    """Write changed golden attributes (keeping ``chosen_at`` of unchanged ones: lineage says *when*).

    ``chosen`` holds the attributes of every linked UPRN, or only of ``uprns`` when given: then only those UPRNs'
    stored attributes are compared (and removed when no longer chosen).
    """
    cols = [GoldenPropertyAttribute.uprn, GoldenPropertyAttribute.id, GoldenPropertyAttribute.attribute,
            GoldenPropertyAttribute.value, GoldenPropertyAttribute.source_record_id]
    stored = _rows_of(session, select(*cols), GoldenPropertyAttribute.uprn, None if uprns is None else list(uprns))
    existing = {(uprn, attribute): (row_id, value, rid) for uprn, row_id, attribute, value, rid in stored}
    changed, fresh = [], []
    for uprn, attribute, value, rid, rule in zip(chosen["uprn"].tolist(), chosen["attribute"].tolist(),
                                                 chosen["value"].tolist(), chosen["source_record_id"].tolist(),
                                                 chosen["rule"].tolist()):
        if value is not None and value != value:  # NaN: no value
            value = None
        old = existing.pop((uprn, attribute), None)
        if old is None:
            fresh.append({"uprn": uprn, "attribute": attribute, "value": value, "source_record_id": rid, "rule": rule,
                          "chosen_at": now})
        elif value != old[1] or rid != old[2]:
            changed.append({"id": old[0], "value": value, "source_record_id": rid, "rule": rule, "chosen_at": now})
    gone = sorted(row_id for row_id, _, _ in existing.values())
    for part in _chunks(gone):
        session.execute(delete(GoldenPropertyAttribute).where(GoldenPropertyAttribute.id.in_(part)))
    if changed:
        session.execute(update(GoldenPropertyAttribute), changed)
    if fresh:  # in (uprn, attribute) order, as new ids have always been given
        session.execute(insert(GoldenPropertyAttribute), sorted(fresh, key=lambda r: (r["uprn"], r["attribute"])))
    return len(gone) + len(changed) + len(fresh)


def linkage_figures(session: Session) -> dict[str, dict[str, float]]:
    """Per source, GeoPlace-style: share of live records linked to a UPRN, via an approved, alternative or historical address, unmatched.

    A record is linked when its address resolved to a UPRN in the auto band (held by the source, matched or
    chosen by a steward). It counts as historical when the match went through a historical address or the
    property itself is historical (logical status 8), alternative when it went through an alternative address.
    Shares are rounded to four places.

    The database counts records and linked records per source, and returns only the few linked records that
    may be historical or alternative, which are then told apart here, by the words of their match reason.
    """
    linked = and_(SourceRecord.matched_uprn.is_not(None), SourceRecord.address_band == Band.AUTO)
    totals = (select(SourceSystem.name, func.count(), func.sum(case((linked, 1), else_=0)))
              .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
              .where(SourceRecord.deleted.is_(False)).group_by(SourceSystem.name))
    # SQL only narrows, Python decides: SQL's lower() may fold non-ASCII letters unlike Python's, but none folds to
    # a letter of these words (tests/hub/test_property_equivalence.py), so no record Python would count is left out
    reason = func.lower(SourceRecord.address_reason)
    historical = select(Property.uprn).where(Property.logical_status == HISTORICAL)
    maybe_special = (select(SourceSystem.name, SourceRecord.address_reason, SourceRecord.matched_uprn)
                     .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
                     .where(SourceRecord.deleted.is_(False), linked,
                            or_(reason.contains("historical"), reason.contains("alternative"),
                                SourceRecord.matched_uprn.in_(historical))))
    counts = {name: {"records": int(n), "linked": int(k or 0), "historical": 0, "alternative": 0}
              for name, n, k in session.execute(totals)}
    special = session.execute(maybe_special).all()
    historical_uprns = set(session.scalars(historical)) if special else set()
    for name, why, uprn in special:
        why = (why or "").lower()
        if "historical" in why or uprn in historical_uprns:
            counts[name]["historical"] += 1
        elif "alternative" in why:
            counts[name]["alternative"] += 1
    out = {}
    for source in sorted(counts):
        c = counts[source]
        shares = {"uprn_linked_rate": c["linked"], "historical_address_rate": c["historical"],
                  "alternative_address_rate": c["alternative"],
                  "approved_address_rate": c["linked"] - c["historical"] - c["alternative"],
                  "unmatched_rate": c["records"] - c["linked"]}
        rounded = np.round(np.array([shares[m] for m in LINKAGE_METRICS], dtype="float64") / c["records"], 4)  # as pandas
        out[source] = {**{m: float(v) for m, v in zip(LINKAGE_METRICS, rounded)}, "records": float(c["records"])}
    return out


def write_linkage_metrics(session: Session, figures: dict[str, dict[str, float]], *, run_id: int | None) -> None:
    """Store the linkage figures as DQ metrics (one row per source and measure)."""
    rows = [{"run_id": run_id, "source": src, "metric": m, "field": "uprn", "value": vals[m]}
            for src, vals in figures.items() for m in LINKAGE_METRICS]
    if rows:
        session.execute(insert(DqMetric), rows)


def property_rules(config: HubConfig) -> dict[str, str]:
    """Survivorship rules for property attributes (``property_survivorship`` in hub.yaml; source trust by default)."""
    return dict(getattr(config, "property_survivorship", None) or {})


def _inputs_fingerprint(session: Session, config: HubConfig) -> str:
    """What every golden property depends on besides its own records: survivorship rules, trust, the gazetteer."""
    gazetteer = session.get(HubState, GAZETTEER_STATE_KEY)
    trust = sorted((name, trust) for name, trust in session.execute(select(SourceSystem.name, SourceSystem.trust)))
    text = json.dumps({"rules": property_rules(config), "trust": trust,
                       "gazetteer": gazetteer.value.get("sha256") if gazetteer is not None else None}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def link_properties(engine: Engine, config: HubConfig, *, run_id: int | None,
                    matcher_factory: Callable[[], object] | None = None, now: dt.datetime | None = None,
                    full: bool = False) -> PropertySummary:
    """Cross-reference property records to UPRNs, choose golden attributes, refresh the custodian queue, measure linkage.

    Attributes are chosen again for every linked UPRN when ``full``, else only where records changed (see the module).
    """
    started = utcnow()
    now = now or started
    summary = PropertySummary()
    with Session(engine) as session, session.begin():
        fingerprint = _inputs_fingerprint(session, config)
        since = None if full else changed_since(session, STATE_KEY, fingerprint)
        records = load_property_records(session, since)
        summary.records = len(records)
        decisions = active_address_decisions(session)
        hashes = dict(zip(records["id"].astype(int), records["address_hash"]))
        steward_uprn = {rid: int(d.uprn) for rid, d in decisions.items()
                        if d.uprn is not None and decided_hash(d) == hashes.get(rid)}
        links = plan_links(records, steward_uprn)
        unit_at_parent = units_at_parent(session, records, links)
        links = links[~links["source_record_id"].isin(unit_at_parent)]
        summary.linked = len(links)
        summary.xref_changed, relinked = _sync_xref(session, links, now)
        if since is None:
            touched, scope = None, links
        else:
            fresh = records.loc[records["fresh"], "id"]
            touched = relinked | set(links.loc[links["source_record_id"].isin(fresh), "uprn"].astype(int))
            scope = links[links["uprn"].isin(touched)]
        ids = None if touched is None else scope["source_record_id"].astype(int).tolist()
        inputs = records.merge(load_attribute_inputs(session, ids), on="id")
        frame, names = attribute_frame(inputs, scope)
        chosen = choose_property_attributes(frame, names, property_rules(config))
        summary.attributes_changed = _sync_attributes(session, chosen, now, touched)
        summary.uprns_chosen = int(scope["uprn"].nunique())
        summary.golden_properties = int(links["uprn"].nunique())
        summary.queue = refresh_queue(session, records, set(links["source_record_id"].astype(int)),
                                      matcher_factory=matcher_factory, parent_only=unit_at_parent, now=now)
        summary.linkage = linkage_figures(session)
        write_linkage_metrics(session, summary.linkage, run_id=run_id)
        remember_pass(session, STATE_KEY, started, fingerprint)
    return summary


def property_view(session: Session, uprn: int) -> dict[str, Any]:
    """Everything the hub knows about one UPRN: the gazetteer's view, golden attributes with lineage, linked records.

    Raises:
        PropertyNotFound: the UPRN is not in the hub's gazetteer.
    """
    prop = session.get(Property, uprn)
    if prop is None:
        raise PropertyNotFound(f"UPRN {uprn} is not in the gazetteer")
    lpis = session.scalars(select(Lpi).where(Lpi.uprn == uprn).order_by(Lpi.logical_status, Lpi.lpi_key)).all()
    attrs = session.execute(
        select(GoldenPropertyAttribute, SourceRecord.source_key, SourceSystem.name)
        .outerjoin(SourceRecord, SourceRecord.id == GoldenPropertyAttribute.source_record_id)
        .outerjoin(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(GoldenPropertyAttribute.uprn == uprn).order_by(GoldenPropertyAttribute.attribute)).all()
    linked = session.execute(
        select(PropertyXref, SourceRecord.source_key, SourceSystem.name)
        .join(SourceRecord, SourceRecord.id == PropertyXref.source_record_id)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .where(PropertyXref.uprn == uprn).order_by(SourceSystem.name, SourceRecord.source_key)).all()
    children = session.scalars(select(Property.uprn).where(Property.parent_uprn == uprn).order_by(Property.uprn)).all()
    residents = session.scalar(select(func.count(func.distinct(Residence.person_id)))
                               .where(Residence.uprn == uprn, Residence.to_date.is_(None)))
    findings = session.scalars(select(DqFinding).where(DqFinding.uprn == uprn, DqFinding.status == "open")).all()
    return {
        "uprn": prop.uprn, "parent_uprn": prop.parent_uprn, "children": list(children),
        "classification": prop.classification, "blpu_state": prop.blpu_state, "logical_status": prop.logical_status,
        "coordinates": {"easting": prop.easting, "northing": prop.northing, "latitude": prop.latitude,
                        "longitude": prop.longitude},
        "postcode": prop.postcode,
        "addresses": [{"address": l.address, "status": LPI_STATUS.get(l.logical_status, l.logical_status), "kind": l.kind,
                       "postcode": l.postcode, "usrn": l.usrn} for l in lpis],
        "attributes": {a.attribute: {"value": a.value, "source": src, "source_key": key, "source_record_id": a.source_record_id,
                                     "rule": a.rule, "chosen_at": a.chosen_at.isoformat() if a.chosen_at else None}
                       for a, key, src in attrs},
        "records": [{"source": src, "source_key": key, "link": x.link, "score": x.score} for x, key, src in linked],
        "current_residents": int(residents or 0),
        "findings": [{"check": f.check_name, "records": f.records, "detail": f.detail, "first_seen": f.first_seen.isoformat()}
                     for f in findings],
    }
