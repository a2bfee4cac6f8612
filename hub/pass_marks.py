"""Where an incremental pass starts reading: the time the last pass of its kind started, kept in ``hub_state``.

Ingest stamps ``last_changed`` on every record it inserts, changes, deletes or brings back, with the same clock
(``schemas.base.utcnow``) as a pass's start. Ingest and a pass never overlap: every step of a run holds the hub's
run lock, and runs take turns. So a record stamped after the last pass started is one that pass did not see.
A pass reads from ``RECHECK`` before that start, so a clock that stepped back a little loses nothing; the price is
reading again what the previous run's ingest stamped just before its pass.

A pass that depends on more than records (rules, trust, the gazetteer) keeps a fingerprint of it: when the
fingerprint differs, there is no mark and the pass reads everything.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from schemas import HubState
from schemas.base import utcnow

RECHECK = dt.timedelta(minutes=10)


def changed_since(session: Session, key: str, fingerprint: str | None = None) -> dt.datetime | None:
    """The time from which the pass ``key`` reads changes; ``None`` when it must read everything (no earlier
    pass, or one made with another ``fingerprint``)."""
    state = session.get(HubState, key)
    value = state.value if state is not None and isinstance(state.value, dict) else {}
    if value.get("fingerprint") != fingerprint:
        return None
    try:
        started = dt.datetime.fromisoformat(str(value["started"]))
    except (KeyError, ValueError):
        return None
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.timezone.utc)
    return started - RECHECK


def remember_pass(session: Session, key: str, started: dt.datetime, fingerprint: str | None = None) -> None:
    """Record that the pass ``key`` started at ``started`` (in the transaction that commits what it wrote)."""
    value = {"started": started.isoformat(), "fingerprint": fingerprint}
    state = session.get(HubState, key)
    if state is None:
        session.add(HubState(key=key, value=value, updated_at=utcnow()))
    else:
        state.value, state.updated_at = value, utcnow()
