"""Reading what the suites validate from the hub store: a source's extract, resolved addresses, golden records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, case, func, or_, select, text, true
from sqlalchemy.orm import Session

from quality.sql_checks import NULL_KINDS, breaks, measured, unjudged
from schemas import ExtractBatch, GoldenPerson, Property, QuarantinedRow, Run, SourceRecord, SourceSystem, Xref
from schemas.columns import PersonRecord
from schemas.config import SourceConfig

# Canonical fields as stored on a source record (address parts are joined into ``address`` at the boundary).
STORED_FIELDS = tuple(f for f in PersonRecord.CANONICAL_FIELDS if f not in PersonRecord.ADDRESS_PART_FIELDS)
MAX_REDIRECT_HOPS = 50
ACTIVE = "active"


@dataclass(frozen=True)
class BatchStats:
    """Reconciliation figures of one source's extract in one run."""

    status: str
    mode: str
    extracted: int
    loaded: int
    quarantined: int
    started_at: dt.datetime | None = None

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.extracted if self.extracted else 0.0


@dataclass
class SourceExtract:
    """The rows of one source loaded in one run, with the batch figures and the fields the source maps."""

    source: str
    run_id: int
    frame: pd.DataFrame
    mapped_fields: tuple[str, ...]
    batch: BatchStats | None
    live_records: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def mapped_fields(cfg: SourceConfig) -> tuple[str, ...]:
    """Stored canonical fields the source fills: its mapped fields, with address parts counted as ``address``."""
    mapped = set(cfg.fields)
    if mapped & set(PersonRecord.ADDRESS_PART_FIELDS):
        mapped.add(PersonRecord.address)
    return tuple(f for f in STORED_FIELDS if f in mapped)


def _source_id(session: Session, name: str) -> int | None:
    return session.scalar(select(SourceSystem.id).where(SourceSystem.name == name))


def source_extract(engine: Engine, cfg: SourceConfig, run_id: int) -> SourceExtract:
    """Rows of ``cfg``'s source loaded (inserted, updated or seen unchanged) in hub run ``run_id``.

    Rows are those whose ``last_seen`` is at or after the start of the run's extract batch. Without a
    batch in that run (the extract never ran) the frame is empty.
    """
    cols = [SourceRecord.id.label("record_id"), SourceRecord.source_key, *[getattr(SourceRecord, f) for f in STORED_FIELDS],
            SourceRecord.matched_uprn, SourceRecord.address_band]
    with Session(engine) as s:
        sid = _source_id(s, cfg.name)
        batch_row = None if sid is None else s.scalar(
            select(ExtractBatch).where(ExtractBatch.source_id == sid, ExtractBatch.run_id == run_id)
            .order_by(ExtractBatch.id.desc()).limit(1))
        batch = None if batch_row is None else BatchStats(
            status=batch_row.status, mode=batch_row.mode, extracted=batch_row.extracted, loaded=batch_row.loaded,
            quarantined=batch_row.quarantined, started_at=batch_row.started_at)
        rows: list = []
        live = 0
        if sid is not None:
            live = s.scalar(select(func.count()).where(SourceRecord.source_id == sid, SourceRecord.deleted.is_(False))) or 0
            if batch is not None:
                rows = s.execute(select(*cols).where(SourceRecord.source_id == sid, SourceRecord.deleted.is_(False),
                                                     SourceRecord.last_seen >= batch_row.started_at)).all()
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    return SourceExtract(source=cfg.name, run_id=run_id, frame=frame, mapped_fields=mapped_fields(cfg),
                         batch=batch, live_records=live)


def address_frame(engine: Engine, source: str) -> pd.DataFrame:
    """Every live record of ``source`` with its address match and whether the UPRNs exist in the gazetteer."""
    matched = Property.__table__.alias("matched_property")
    held = Property.__table__.alias("held_property")
    stmt = (select(SourceRecord.source_key, SourceRecord.address, SourceRecord.postcode, SourceRecord.uprn,
                   SourceRecord.matched_uprn, SourceRecord.address_band, SourceRecord.address_score,
                   matched.c.uprn.label("gazetteer_uprn"), held.c.uprn.label("held_uprn_in_gazetteer"))
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
            .join(matched, matched.c.uprn == SourceRecord.matched_uprn, isouter=True)
            .join(held, held.c.uprn == SourceRecord.uprn, isouter=True)
            .where(SourceSystem.name == source, SourceRecord.deleted.is_(False)))
    with Session(engine) as s:
        rows = s.execute(stmt).all()
    return pd.DataFrame(rows, columns=["source_key", "address", "postcode", "uprn", "matched_uprn", "address_band",
                                       "address_score", "gazetteer_uprn", "held_uprn_in_gazetteer"])


def resolve_redirects(persons: pd.DataFrame) -> pd.DataFrame:
    """Add ``final_id``, ``final_status`` and ``chain_length``: where each ID's redirect chain ends.

    Vectorised hop by hop; a cycle or a chain longer than ``MAX_REDIRECT_HOPS`` ends with status ``cycle``.

    Examples:
        >>> p = pd.DataFrame({"person_id": [1, 2, 3], "status": ["merged", "merged", "active"],
        ...                   "redirect_to": [2, 3, None]})
        >>> resolve_redirects(p)[["final_id", "final_status", "chain_length"]].values.tolist()
        [[3, 'active', 2], [3, 'active', 1], [3, 'active', 0]]
    """
    out = persons.copy()
    redirect = dict(zip(out["person_id"], out["redirect_to"]))
    status = dict(zip(out["person_id"], out["status"]))
    current = out["person_id"].astype("Int64")
    hops = pd.Series(0, index=out.index)
    for _ in range(MAX_REDIRECT_HOPS):
        nxt = current.map(redirect).astype("Float64").astype("Int64")
        moving = nxt.notna()
        if not moving.any():
            break
        current = current.where(~moving, nxt)
        hops = hops + moving.astype(int)
    out["final_id"] = current.astype("Int64")
    out["final_status"] = current.map(status).where(current.map(redirect).isna(), "cycle").fillna("missing")
    out["chain_length"] = hops
    return out


def golden_frames(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Golden persons (with xref counts and where their redirects end) and cross-references (with statuses)."""
    with Session(engine) as s:
        xref_counts = (select(Xref.person_id, func.count().label("xref_count")).group_by(Xref.person_id).subquery())
        persons = s.execute(select(GoldenPerson.person_id, GoldenPerson.status, GoldenPerson.redirect_to,
                                   GoldenPerson.nino, GoldenPerson.date_of_birth, GoldenPerson.date_of_death,
                                   GoldenPerson.postcode, GoldenPerson.uprn,
                                   func.coalesce(xref_counts.c.xref_count, 0).label("xref_count"))
                            .join(xref_counts, xref_counts.c.person_id == GoldenPerson.person_id, isouter=True)).all()
        xrefs = s.execute(select(Xref.source_record_id, Xref.person_id, GoldenPerson.status.label("person_status"),
                                 SourceSystem.name.label("source"), SourceRecord.deleted.label("record_deleted"),
                                 SourceRecord.kind.label("record_kind"), Xref.link_band)
                          .join(GoldenPerson, GoldenPerson.person_id == Xref.person_id, isouter=True)
                          .join(SourceRecord, SourceRecord.id == Xref.source_record_id, isouter=True)
                          .join(SourceSystem, SourceSystem.id == SourceRecord.source_id, isouter=True)).all()
    pframe = pd.DataFrame(persons, columns=["person_id", "status", "redirect_to", "nino", "date_of_birth",
                                            "date_of_death", "postcode", "uprn", "xref_count"])
    pframe["redirect_to"] = pframe["redirect_to"].astype("Int64")
    xframe = pd.DataFrame(xrefs, columns=["source_record_id", "person_id", "person_status", "source",
                                          "record_deleted", "record_kind", "link_band"])
    return resolve_redirects(pframe), xframe


def quarantine_reasons(engine: Engine, *, run_id: int | None = None) -> pd.DataFrame:
    """Quarantined rows counted by source, field and reason (one run, or all runs)."""
    stmt = (select(SourceSystem.name.label("source"), QuarantinedRow.field, QuarantinedRow.reason,
                   func.count().label("rows"))
            .join(SourceSystem, SourceSystem.id == QuarantinedRow.source_id)
            .group_by(SourceSystem.name, QuarantinedRow.field, QuarantinedRow.reason))
    if run_id is not None:
        stmt = stmt.where(QuarantinedRow.run_id == run_id)
    with Session(engine) as s:
        rows = s.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["source", "field", "reason", "rows"])
    return frame.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def runs(engine: Engine) -> pd.DataFrame:
    """The run log: id, kind, status, start and finish."""
    with Session(engine) as s:
        rows = s.execute(select(Run.id, Run.kind, Run.status, Run.started_at, Run.finished_at).order_by(Run.id)).all()
    return pd.DataFrame(rows, columns=["run_id", "kind", "status", "started_at", "finished_at"])


# --- Whole-hub scans for the address and golden gates -------------------------------------------------------------
# The gates validate, with Great Expectations, the rows changed in the run plus every row anywhere in the hub that
# breaks a row-level expectation (found here with SQL), and take whole-hub counts from SQL aggregates. The SQL
# conditions below mirror the expectations of :mod:`quality.suites` one for one: change one, change both.
BANDS = ("auto", "review", "none")
ADDRESS_COLUMNS = ["source_key", "uprn", "matched_uprn", "address_band", "address_score", "gazetteer_uprn"]


def run_started(engine: Engine, run_id: int) -> dt.datetime | None:
    """When hub run ``run_id`` started (None for an unknown run: then every row counts as changed)."""
    with engine.connect() as conn:
        return conn.scalar(select(Run.started_at).where(Run.id == run_id))


@dataclass(frozen=True)
class AddressCounts:
    """Whole-hub address-resolution counts of one source's live records."""

    rows: int = 0
    auto: int = 0
    review: int = 0
    none: int = 0
    unresolved: int = 0  # no band yet
    scored: int = 0  # records with an address score
    held: int = 0  # records holding a UPRN of their own
    held_in_gazetteer: int = 0

    @property
    def banded(self) -> int:
        return self.rows - self.unresolved


def address_counts(engine: Engine) -> dict[str, AddressCounts]:
    """Per source name, the counts behind the UPRN linkage rates, in one scan of the live records."""
    r, p = SourceRecord.__table__, Property.__table__
    band = r.c.address_band
    held_in = select(p.c.uprn).where(p.c.uprn == r.c.uprn).exists()
    sid = (r.c.source_id + 0).label("sid")  # an expression: SQLite would otherwise walk the key index row by row

    def n(cond):  # noqa: ANN001, ANN202 - a SQL condition → its count
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    stmt = (select(sid, func.count(), n(band == "auto"), n(band == "review"), n(band == "none"), n(band.is_(None)),
                   func.count(r.c.address_score), func.count(r.c.uprn), n(r.c.uprn.is_not(None) & held_in))
            .where(r.c.deleted.is_(False)).group_by(sid))
    with engine.connect() as conn:
        names = dict(conn.execute(select(SourceSystem.id, SourceSystem.name)).all())
        rows = conn.execute(stmt).all()
    return {names[row[0]]: AddressCounts(*map(int, row[1:])) for row in rows if row[0] in names}


def address_focus(engine: Engine, since: dt.datetime | None) -> dict[str, pd.DataFrame]:
    """Per source name, its live records changed since ``since`` and every live record breaking an address expectation.

    Columns as :func:`address_frame` without address and postcode (no expectation reads them), in record order.
    One scan of the records for all sources (per-source queries walk the key index row by row).
    """
    r, p = SourceRecord.__table__, Property.__table__
    band = r.c.address_band
    in_gazetteer = select(p.c.uprn).where(p.c.uprn == r.c.matched_uprn).exists()
    broken = (band.not_in(BANDS) | (r.c.address_score < 0) | (r.c.address_score > 1)
              | ((band == "auto") & r.c.matched_uprn.is_(None)))
    # Records whose match is missing from the gazetteer, found through the matched_uprn index (nearly always none).
    missing = select(r.c.id).where(r.c.matched_uprn.is_not(None), ~in_gazetteer).scalar_subquery()
    wanted = broken | ((band == "auto") & r.c.id.in_(missing))
    if since is not None:
        wanted = wanted | (r.c.last_changed >= since)
    gazetteer = case((r.c.matched_uprn.is_not(None) & r.c.id.not_in(missing), r.c.matched_uprn), else_=None)
    with engine.connect() as conn:
        names = dict(conn.execute(select(SourceSystem.id, SourceSystem.name)).all())
        rows = conn.execute(select((r.c.source_id + 0).label("sid"), r.c.source_key, r.c.uprn, r.c.matched_uprn, band,
                                   r.c.address_score, gazetteer)
                            .where(r.c.deleted.is_(False), wanted).order_by(r.c.id)).all()
    frame = pd.DataFrame(rows, columns=["sid", *ADDRESS_COLUMNS])
    return {name: frame.loc[frame["sid"] == sid, ADDRESS_COLUMNS].reset_index(drop=True) for sid, name in names.items()}


# Golden persons as SQL over ``golden_person``: the columns of :func:`golden_frames`'s person frame that
# :func:`quality.suites.golden_person_suite` reads, except ``final_status`` (from :func:`redirect_graph`).
def person_columns() -> dict[str, ColumnElement]:
    g, x = GoldenPerson.__table__, Xref.__table__
    xref_count = select(func.count()).where(x.c.person_id == g.c.person_id).scalar_subquery()
    return {"person_id": g.c.person_id, "status": g.c.status, "redirect_to": g.c.redirect_to, "nino": g.c.nino,
            "date_of_birth": g.c.date_of_birth, "postcode": g.c.postcode, "xref_count": xref_count}


PERSON_KEY, REDIRECT_END = "person_id", "final_status"  # judged outside SQL: a primary key; the redirect graph
# The cross-reference expectations the SQL of :func:`golden_scan` mirrors by hand (a join of the whole xref table
# with source records is too slow to filter row by row, so it finds breaking rows from cheaper counts).
XREF_MIRRORED = frozenset({("ExpectColumnValuesToBeUnique", "source_record_id"),
                           ("ExpectColumnValuesToNotBeNull", "person_status"),
                           ("ExpectColumnValuesToBeInSet", "person_status"),
                           ("ExpectColumnValuesToNotBeNull", "source"),
                           ("ExpectColumnValuesToBeInSet", "record_kind")})


@dataclass(frozen=True)
class GoldenCounts:
    """Whole-hub golden-record counts behind :func:`quality.metrics.golden_counts_metrics`."""

    active: int
    merged: int
    xrefs: int
    active_without_xref: int
    xref_to_inactive: int
    broken_redirects: int


@dataclass
class GoldenScan:
    """What the golden gate validates and measures: the selected golden persons and cross-references (changed in
    the run, breaking an expectation, or redirecting) and whole-hub counts."""

    persons: pd.DataFrame  # columns of person_columns() plus final_status, in person_id order
    person_rows: int  # golden persons in the hub
    person_measured: list[int]  # per person expectation, the whole-hub rows it is measured over
    xrefs: pd.DataFrame  # as golden_frames()[1], selected rows only
    xref_measured: list[int]  # per cross-reference expectation, the whole-hub rows it is measured over
    counts: GoldenCounts
    shared_live: dict[str, tuple[int, int]]  # source → (live records sharing a person with another, live records)


def redirect_graph(conn: Connection) -> pd.DataFrame:
    """Every person that redirects or is redirected to, with where its chain ends (:func:`resolve_redirects`).

    Chains pass only through such persons, so they end here as they would over all persons."""
    g = GoldenPerson.__table__
    redirecting = g.alias("redirecting")
    targets = select(redirecting.c.redirect_to).where(redirecting.c.redirect_to.is_not(None))
    rows = conn.execute(select(g.c.person_id, g.c.status, g.c.redirect_to)
                        .where(g.c.redirect_to.is_not(None) | g.c.person_id.in_(targets))).all()
    frame = pd.DataFrame(rows, columns=["person_id", "status", "redirect_to"])
    frame["redirect_to"] = frame["redirect_to"].astype("Int64")
    return resolve_redirects(frame)


def _golden_persons(conn: Connection, since: dt.datetime | None, expectations: list) -> tuple[pd.DataFrame, list[int],
                                                                                             tuple[int, int, int, int]]:
    """Selected persons (with final_status), per-expectation denominators, and (rows, active, merged, broken
    redirects) of the whole hub. Selected: changed since ``since``, breaking an expectation judged in SQL, or
    redirecting (their chains are judged over the redirect graph; the primary key is unique by construction)."""
    g, columns = GoldenPerson.__table__, person_columns()
    left = {e.column for e in unjudged(expectations, columns)}
    if left - {PERSON_KEY, REDIRECT_END}:
        raise ValueError(f"golden person expectations on {sorted(left)} have no SQL mirror")
    checks = [c for e in expectations if (c := breaks(e, columns)) is not None]
    wanted = or_(g.c.updated_at >= since if since is not None else true(), g.c.redirect_to.is_not(None), *checks)
    counted = {k: v for k, v in columns.items() if k != "xref_count"}  # a count is never null: no subquery per row
    status = g.c.status
    graph = redirect_graph(conn)
    rows, active, merged, *measures = conn.execute(
        select(func.count(), func.count(case((status == ACTIVE, 1))), func.count(case((status == "merged", 1))),
               *[measured(e, counted) for e in expectations]).select_from(g)).one()
    selected = conn.execute(select(*[c.label(k) for k, c in columns.items()]).where(wanted)
                            .order_by(g.c.person_id)).all()
    focus = pd.DataFrame(selected, columns=list(columns))
    focus["redirect_to"] = focus["redirect_to"].astype("Int64")
    ends = dict(zip(graph["person_id"], graph[REDIRECT_END]))
    focus[REDIRECT_END] = [ends.get(p, "missing" if s is None else s) for p, s in zip(focus["person_id"], focus["status"])]
    broken = int((graph["redirect_to"].notna() & (graph[REDIRECT_END] != ACTIVE)).sum())
    return focus, [int(m) for m in measures], (int(rows), int(active), int(merged), broken)


def golden_scan(engine: Engine, since: dt.datetime | None, person_expectations: list,
                xref_expectations: list) -> GoldenScan:
    """Golden persons and cross-references changed since ``since`` or breaking an expectation (persons: of
    ``person_expectations``, :func:`quality.suites.golden_person_suite`; cross-references: of
    ``xref_expectations``, :func:`quality.suites.golden_xref_suite`, mirrored by hand); whole-hub counts."""
    if {(e.kind, e.column) for e in xref_expectations} != XREF_MIRRORED:
        raise ValueError("the golden cross-reference suite changed: update golden_scan and XREF_MIRRORED")
    g, x, r, ss = GoldenPerson.__table__, Xref.__table__, SourceRecord.__table__, SourceSystem.__table__
    inactive = select(g.c.person_id).where(or_(g.c.status != ACTIVE, g.c.status.is_(None)))
    with engine.connect() as conn:
        persons, measures, (rows, active, merged, broken) = _golden_persons(conn, since, person_expectations)
        xref_total = conn.scalar(select(func.count()).select_from(x)) or 0
        # Walked in person order through the xref index: far cheaper than probing persons per cross-reference.
        with_person, with_status = conn.execute(select(func.count(), func.count(g.c.status))
                                                .select_from(x.join(g, g.c.person_id == x.c.person_id))).one()
        # One pass over the linked records: per source, linked records, live ones, live ones sharing their person
        # with another of the source, and linked records that are not persons.
        per_person = (select((r.c.source_id + 0).label("sid"), x.c.person_id, func.count().label("n"),
                             func.sum(case((r.c.deleted.is_(False), 1), else_=0)).label("live"),
                             func.sum(case((r.c.kind != "person", 1), else_=0)).label("odd"))
                      # ``r.id + 0``: SQLite reads the records in order and looks each one's link up, rather than
                      # looking up a record (wide rows, random order) for each link
                      .join(x, x.c.source_record_id == r.c.id + 0).group_by(text("1"), x.c.person_id).subquery())
        per_source = conn.execute(select(per_person.c.sid, func.sum(per_person.c.n),
                                         func.sum(case((per_person.c.live > 1, per_person.c.live), else_=0)),
                                         func.sum(per_person.c.live), func.sum(per_person.c.odd))
                                  .group_by(per_person.c.sid)).all()
        names = dict(conn.execute(select(ss.c.id, ss.c.name)).all())
        with_record = sum(int(n) for _, n, _, _, _ in per_source)
        wanted = x.c.person_id.in_(inactive)  # person_status not active
        if since is not None:
            wanted = wanted | (x.c.linked_at >= since)
        if with_person != xref_total:  # person_status null: some cross-references point at no golden person
            held = g.alias("held_person")
            wanted = wanted | ~select(held.c.person_id).where(held.c.person_id == x.c.person_id).exists()
        odd = r.alias("odd_record")
        suspect = [*([odd.c.kind != "person"] if any(k for *_, k in per_source) else []),
                   *([odd.c.source_id.not_in(select(ss.c.id))] if any(s not in names for s, *_ in per_source) else [])]
        if suspect:  # record_kind not person, or source null: records of an unknown source system
            wanted = wanted | x.c.source_record_id.in_(select(odd.c.id).where(or_(*suspect)))
        if with_record != xref_total:  # source null: some cross-references point at no source record
            held = r.alias("held_record")
            wanted = wanted | ~select(held.c.id).where(held.c.id == x.c.source_record_id).exists()
        xrefs = conn.execute(
            select(x.c.source_record_id, x.c.person_id, g.c.status, ss.c.name, r.c.deleted, r.c.kind, x.c.link_band)
            .join(g, g.c.person_id == x.c.person_id, isouter=True)
            .join(r, r.c.id == x.c.source_record_id, isouter=True)
            .join(ss, ss.c.id == r.c.source_id, isouter=True)
            .where(wanted).order_by(x.c.source_record_id)).all()
    xframe = pd.DataFrame(xrefs, columns=["source_record_id", "person_id", "person_status", "source",
                                         "record_deleted", "record_kind", "link_band"])
    shared = {names[sid]: (int(s), int(lv)) for sid, _, s, lv, _ in per_source if sid in names and lv}
    # Every person without a cross-reference and every cross-reference to an inactive ID breaks an expectation,
    # so it is among the selected rows.
    counts = GoldenCounts(
        active=active, merged=merged, xrefs=int(xref_total),
        active_without_xref=int(((persons["status"] == ACTIVE) & (persons["xref_count"] == 0)).sum()),
        xref_to_inactive=int((xframe["person_status"] != ACTIVE).sum()), broken_redirects=broken)
    # Value checks are measured over present values (record kinds are never null on a record); null checks and the
    # key over every cross-reference.
    present = {"person_status": int(with_status), "record_kind": with_record}
    xref_measures = [int(xref_total) if e.kind in NULL_KINDS else present.get(e.column, int(xref_total))
                     for e in xref_expectations]
    return GoldenScan(persons, rows, measures, xframe, xref_measures, counts, shared)
