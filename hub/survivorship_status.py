"""What a source record says about its person's status: still live at its address, from a trusted source, deceased."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import pandas as pd

from schemas.config import HubConfig
from schemas.validators import parse_dates

END_DATE = "end_date"  # attribute names a source maps under `attributes:` (as the property checks read them)
STATUS = "status"
END_REASON = "end_reason"
ENDED_STATUSES = frozenset({"closed", "ended", "inactive", "terminated", "cancelled", "canceled", "deleted", "former"})


def _attr(attributes: pd.Series, name: str) -> pd.Series:
    return attributes.map(lambda a: a.get(name) if isinstance(a, dict) else None)


def deceased_pattern(reasons: Iterable[str]) -> re.Pattern[str]:
    """One case-blind pattern matching any of ``reasons`` as a whole word or phrase.

    Examples:
        >>> bool(deceased_pattern(["deceased", "died"]).search("Tenant DECEASED"))
        True
        >>> bool(deceased_pattern(["died"]).search("Undied"))
        False
    """
    words = sorted({r.strip().lower() for r in reasons if r.strip()}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def _end_dates(frame: pd.DataFrame, date_formats: dict[str, str | None], today: dt.date) -> pd.Series:
    """Each record's mapped end date (ISO), parsed in its source's declared format; future dates are None."""
    raw = _attr(frame["attributes"], END_DATE)
    out = pd.Series(None, index=frame.index, dtype=object)
    for source, idx in frame.groupby("source").groups.items():
        iso, _bad = parse_dates(raw.loc[idx], date_format=date_formats.get(source), today=today)
        out.loc[idx] = iso
    return out


def record_status(frame: pd.DataFrame, config: HubConfig, *, today: dt.date | None = None) -> pd.DataFrame:
    """Add ``live``, ``trusted`` and ``deceased_on`` to records (``source, trust, deleted, attributes,
    date_of_death, last_changed``).

    - ``live``: not deleted at source, no mapped end date on or before today, no ``status`` saying it ended,
      no closure reason saying the person died. An ended record says where its person *was*.
    - ``trusted``: the source's trust is at least ``events.min_trust``.
    - ``deceased_on``: for trusted records only, the recorded date of death, else the end date of a
      record closed for a reason in ``events.deceased_reasons`` (else the day the hub saw the closure).

    Examples:
        >>> from schemas.config import parse_config
        >>> from pathlib import Path
        >>> cfg = parse_config({"hub": "sqlite://", "gazetteer": {"path": "g"}, "events": {"min_trust": 2},
        ...     "sources": [{"name": "ct", "url": "c.csv", "key": "k", "fields": {"full_name": "n"}}]}, base_dir=Path("."))
        >>> f = pd.DataFrame({"source": ["ct", "ct", "ct"], "trust": [3, 3, 1], "deleted": [False, False, False],
        ...     "attributes": [{"end_date": "2024-02-01", "end_reason": "Deceased"}, {"status": "LIVE"}, None],
        ...     "date_of_death": [None, None, "2024-01-01"], "last_changed": pd.to_datetime(["2024-03-01"] * 3)})
        >>> record_status(f, cfg, today=dt.date(2025, 1, 1))[["live", "trusted", "deceased_on"]].values.tolist()
        [[False, True, '2024-02-01'], [True, True, None], [True, False, None]]
    """
    today = today or dt.date.today()
    out = frame.copy()
    attributes = out["attributes"] if "attributes" in out else pd.Series(None, index=out.index, dtype=object)
    out["attributes"] = attributes
    formats = {s.name: s.date_format for s in config.sources}
    ends = _end_dates(out, formats, today) if len(out) else pd.Series(dtype=object)
    status = _attr(attributes, STATUS).map(lambda v: str(v).strip().lower() if v is not None else "")
    pattern = deceased_pattern(config.events.deceased_reasons)
    said = (_attr(attributes, END_REASON).fillna("").astype(str) + " " + status)
    closed_deceased = said.map(lambda v: bool(pattern.search(v))).astype(bool)
    out["live"] = ~(out["deleted"].astype(bool) | ends.notna() | status.isin(ENDED_STATUSES) | closed_deceased)
    out["trusted"] = out["trust"].fillna(0).astype(int) >= config.events.min_trust
    seen = pd.to_datetime(out["last_changed"], utc=True).dt.strftime("%Y-%m-%d")
    from_closure = ends.where(ends.notna(), seen).where(closed_deceased)
    dod = out["date_of_death"].where(out["date_of_death"].notna(), from_closure)
    out["deceased_on"] = dod.where(out["trusted"] & dod.notna(), None).astype(object)
    return out
