"""What the stewards' pages show: the review queue, record differences, the match-weight waterfall and household context."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from schemas import GoldenPerson, Lpi, MatchPair, Property, Residence, ReviewTask, SourceRecord, SourceSystem, Xref
from schemas.base import utcnow

COMPARE_FIELDS = ("title", "first_name", "middle_names", "last_name", "full_name", "date_of_birth", "date_of_death",
                  "nino", "email", "phone", "address", "postcode", "uprn")
SORTS = {"score": ReviewTask.score, "age": ReviewTask.created_at, "id": ReviewTask.id}
PAGE = 50


@dataclass(frozen=True)
class QueueFilter:
    """The queue's sort and filters, as parsed from the query string."""

    sort: str = "score"
    order: str = "desc"
    source: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    page: int = 1


def queue(session: Session, f: QueueFilter, *, now: dt.datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """Open person-pair tasks with both records' sources, filtered and sorted; returns (rows, total)."""
    now = now or utcnow()
    left, right = aliased(SourceRecord), aliased(SourceRecord)
    lsys, rsys = aliased(SourceSystem), aliased(SourceSystem)
    stmt = (select(ReviewTask.id, ReviewTask.score, ReviewTask.created_at, MatchPair.match_weight, MatchPair.band,
                   lsys.name.label("source_l"), rsys.name.label("source_r"), left.id.label("record_l"), right.id.label("record_r"))
            .join(MatchPair, MatchPair.id == ReviewTask.pair_id)
            .join(left, left.id == MatchPair.record_id_l).join(right, right.id == MatchPair.record_id_r)
            .join(lsys, lsys.id == left.source_id).join(rsys, rsys.id == right.source_id)
            .where(ReviewTask.status == "open", ReviewTask.kind == "person_pair"))
    if f.source:
        stmt = stmt.where((lsys.name == f.source) | (rsys.name == f.source))
    if f.min_score is not None:
        stmt = stmt.where(ReviewTask.score >= f.min_score)
    if f.max_score is not None:
        stmt = stmt.where(ReviewTask.score <= f.max_score)
    if f.min_age_days is not None:
        stmt = stmt.where(ReviewTask.created_at <= now - dt.timedelta(days=f.min_age_days))
    if f.max_age_days is not None:
        stmt = stmt.where(ReviewTask.created_at >= now - dt.timedelta(days=f.max_age_days))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    key = SORTS.get(f.sort, ReviewTask.score)
    if f.sort == "source":
        key = lsys.name
    ordered = stmt.order_by(key.desc() if f.order == "desc" else key.asc(), ReviewTask.id)
    rows = []
    for r in session.execute(ordered.limit(PAGE).offset((max(f.page, 1) - 1) * PAGE)).all():
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=dt.timezone.utc)
        rows.append({**r._asdict(), "age_days": max((now - created).days, 0)})
    return rows, int(total or 0)


def sources(session: Session) -> list[str]:
    return list(session.scalars(select(SourceSystem.name).order_by(SourceSystem.name)))


def _norm(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().upper() if value is not None else ""


def record_view(session: Session, record_id: int) -> dict[str, Any]:
    """One source record with its source, golden person and fields."""
    rec = session.get(SourceRecord, record_id)
    if rec is None:
        return {"id": record_id, "missing": True, "fields": {}}
    return {"id": rec.id, "missing": False, "source": rec.source_system.name, "source_key": rec.source_key,
            "deleted": rec.deleted, "last_changed": rec.last_changed,
            "person_id": session.scalar(select(Xref.person_id).where(Xref.source_record_id == rec.id)),
            "uprn": rec.uprn if rec.uprn is not None else rec.matched_uprn,
            "fields": {f: getattr(rec, f) for f in COMPARE_FIELDS}}


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field comparison rows: ``same``, ``differs`` or ``missing`` (one side empty)."""
    rows = []
    for f in COMPARE_FIELDS:
        a, b = left["fields"].get(f), right["fields"].get(f)
        if f == "uprn":
            a, b = left.get("uprn"), right.get("uprn")
        if a in (None, "") and b in (None, ""):
            continue
        state = "missing" if a in (None, "") or b in (None, "") else ("same" if _norm(a) == _norm(b) else "differs")
        rows.append({"field": f, "label": f.replace("_", " ").capitalize(), "left": a, "right": b, "state": state})
    return rows


def waterfall(pair: MatchPair, *, width: int = 560, row: int = 26) -> dict[str, Any]:
    """Bars of the match-weight waterfall: prior, each comparison's weight, the total (an inline SVG's geometry)."""
    expl = pair.explanation or {}
    parts = []
    for key, value in expl.items():
        for prefix in ("weight_", "w_"):
            if key.startswith(prefix) and isinstance(value, int | float):
                name = key[len(prefix):]
                parts.append((name, float(value), expl.get(f"gamma_{name}")))
    prior = float(pair.match_weight) - sum(v for _, v, _ in parts)
    steps = [("prior", prior, None), *parts]
    cum, bars = 0.0, []
    for name, value, level in steps:
        bars.append({"label": name.replace("_", " "), "start": cum, "end": cum + value, "value": value,
                     "level": "null" if level == -1 else level})
        cum += value
    bars.append({"label": "total", "start": 0.0, "end": cum, "value": cum, "level": None, "total": True})
    lo = min(0.0, *(min(b["start"], b["end"]) for b in bars))
    hi = max(0.0, *(max(b["start"], b["end"]) for b in bars))
    span = (hi - lo) or 1.0
    label_w, plot_w = 150, width - 150 - 60
    x = lambda v: label_w + (v - lo) / span * plot_w  # noqa: E731 - a local scale
    for i, b in enumerate(bars):
        b["x"], b["w"] = min(x(b["start"]), x(b["end"])), max(abs(x(b["end"]) - x(b["start"])), 1.5)
        b["y"] = 10 + i * row
        b["kind"] = "total" if b.get("total") else ("up" if b["value"] >= 0 else "down")
    return {"bars": bars, "width": width, "height": 20 + len(bars) * row, "zero_x": x(0.0), "row": row,
            "has_detail": bool(parts), "probability": pair.match_probability, "weight": pair.match_weight}


def household(session: Session, uprn: int | None, *, exclude: set[int]) -> dict[str, Any] | None:
    """The property at a UPRN (approved address, classification) and its other current residents."""
    if uprn is None:
        return None
    prop = session.get(Property, uprn)
    address = session.scalar(select(Lpi.address).where(Lpi.uprn == uprn).order_by(Lpi.logical_status, Lpi.lpi_key).limit(1))
    residents = session.execute(
        select(GoldenPerson.person_id, GoldenPerson.first_name, GoldenPerson.last_name, GoldenPerson.date_of_birth)
        .join(Residence, Residence.person_id == GoldenPerson.person_id)
        .where(Residence.uprn == uprn, Residence.to_date.is_(None), GoldenPerson.status == "active",
               GoldenPerson.restricted.is_(False)).order_by(GoldenPerson.person_id).limit(30)).all()
    return {"uprn": uprn, "address": address, "classification": prop.classification if prop else None,
            "parent_uprn": prop.parent_uprn if prop else None,
            "residents": [r._asdict() for r in residents if r.person_id not in exclude]}


def next_task(session: Session, *, after_score: float | None = None, skip: int | None = None) -> int | None:
    """The next open person-pair task in queue order (highest score first)."""
    stmt = select(ReviewTask.id).where(ReviewTask.status == "open", ReviewTask.kind == "person_pair")
    if skip is not None:
        stmt = stmt.where(ReviewTask.id != skip)
    return session.scalar(stmt.order_by(ReviewTask.score.desc(), ReviewTask.id).limit(1))
