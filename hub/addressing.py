"""Resolving every source record's address to a UPRN with the gazetteer matcher (only records whose address changed).

An incremental pass reads only the records that can have a new address: those never resolved, and those changed
at their source since the last pass started (``hub.pass_marks``). Nothing but ingest writes a record's address,
postcode or held UPRN, and ingest stamps every change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from hub.pass_marks import changed_since, remember_pass
from hub.property_queue import binding_uprns
from schemas import Property, SourceRecord
from schemas.base import utcnow
from schemas.columns import AddressMatchFrame, Band
from schemas.config import HubConfig

BATCH = 20_000
STATE_KEY = "resolved_addresses"


@dataclass
class AddressSummary:
    """Outcome of an address-resolution pass."""

    considered: int = 0
    auto: int = 0
    review: int = 0
    none: int = 0
    held_uprn: int = 0

    @property
    def match_rate(self) -> float:
        total = self.auto + self.review + self.none + self.held_uprn
        return (self.auto + self.held_uprn) / total if total else 0.0


def address_hash(address: object, postcode: object, uprn: object) -> str:
    """Fingerprint of what an address match was made on, so unchanged addresses are not matched again."""
    text = f"{address or ''}|{postcode or ''}|{uprn or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def resolve_addresses(engine: Engine, config: HubConfig, matcher_factory: Callable[[], object], *,
                      full: bool = False, progress: Callable[[int], None] | None = None) -> AddressSummary:
    """Match the addresses of new or changed records; a UPRN the source holds is kept when the gazetteer has it.

    ``matcher_factory`` builds the gazetteer matcher lazily: a run in which no address changed never
    loads the gazetteer.
    """
    summary = AddressSummary()
    started = utcnow()
    with Session(engine) as session, session.begin():
        since = None if full else changed_since(session, STATE_KEY)
        stmt = (select(SourceRecord.id, SourceRecord.address, SourceRecord.postcode, SourceRecord.uprn,
                       SourceRecord.address_hash).where(SourceRecord.deleted.is_(False)))
        if since is not None:
            stmt = stmt.where(or_(SourceRecord.address_hash.is_(None), SourceRecord.last_changed > since))
        rows = session.execute(stmt).all()
        known_uprns = None
    frame = pd.DataFrame(rows, columns=["id", "address", "postcode", "uprn", "address_hash"])
    if frame.empty:
        _remember(engine, started)
        return summary
    frame["new_hash"] = [address_hash(a, p, u) for a, p, u in zip(frame["address"], frame["postcode"], frame["uprn"])]
    todo = frame if full else frame[frame["new_hash"] != frame["address_hash"]]
    summary.considered = len(todo)
    if todo.empty:
        _remember(engine, started)
        return summary
    # A steward's address decision binds while the record's address is the one decided on.
    with Session(engine) as session:
        bound = binding_uprns(session, dict(zip(todo["id"].astype(int), todo["new_hash"])))
    steward = todo[todo["id"].astype(int).isin(bound)]
    todo = todo.drop(index=steward.index)
    held = todo[todo["uprn"].notna()]
    if len(held):
        with Session(engine) as session:
            known_uprns = set()
            ids = [int(u) for u in held["uprn"].unique()]
            for start in range(0, len(ids), 500):
                known_uprns.update(session.scalars(select(Property.uprn).where(Property.uprn.in_(ids[start : start + 500]))))
        held = held[held["uprn"].astype("int64").isin(known_uprns)]
    to_match = todo.drop(index=held.index)
    updates = [{"id": int(r.id), "matched_uprn": int(r.uprn), "address_score": 1.0, "address_band": Band.AUTO,
                "address_reason": "UPRN held by the source and present in the gazetteer", "address_hash": r.new_hash}
               for r in held.itertuples(index=False)]
    summary.held_uprn = len(updates)
    updates += [{"id": int(r.id), "matched_uprn": bound[int(r.id)], "address_score": 1.0, "address_band": Band.AUTO,
                 "address_reason": "chosen by a steward", "address_hash": r.new_hash}
                for r in steward.itertuples(index=False)]
    summary.auto += len(steward)
    if len(to_match):
        matcher = matcher_factory()
        for start in range(0, len(to_match), BATCH):
            part = to_match.iloc[start : start + BATCH]
            result = matcher.match(part[["id", "address", "postcode"]], id_col="id", address_col="address",
                                   postcode_col="postcode")
            merged = part[["id", "new_hash"]].merge(result, left_on="id", right_on=AddressMatchFrame.id, how="left",
                                                    suffixes=("", "_m"))
            for r in merged.itertuples(index=False):
                band = r.band if isinstance(r.band, str) else Band.NONE
                setattr(summary, band, getattr(summary, band) + 1)
                updates.append({"id": int(r.id), "matched_uprn": None if pd.isna(r.uprn) else int(r.uprn),
                                "address_score": None if pd.isna(r.score) else float(r.score), "address_band": band,
                                "address_reason": r.reason if isinstance(r.reason, str) else None,
                                "address_hash": r.new_hash})
            if progress:
                progress(len(part))
    with Session(engine) as session, session.begin():
        for start in range(0, len(updates), BATCH):
            session.execute(update(SourceRecord), updates[start : start + BATCH])
        remember_pass(session, STATE_KEY, started)
    return summary


def _remember(engine: Engine, started: dt.datetime) -> None:
    with Session(engine) as session, session.begin():
        remember_pass(session, STATE_KEY, started)
