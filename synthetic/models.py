"""Settings, results and the base exception of the synthetic council generator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

# Day 0 of every synthetic council: fixed so that a seed gives the same bytes on any date.
DAY0 = dt.date(2026, 1, 5)


class SynthError(ValueError):
    """Base exception of the synthetic package: bad settings or an output folder that cannot be used."""


@dataclass(frozen=True)
class SynthSettings:
    """What to generate.

    Args:
        people: residents at day 0 (at least 50).
        days: number of days of life events to prepare (applied later with ``apply_day``).
        seed: random seed; the same settings give the same council.
        url: optional SQLAlchemy server URL (PostgreSQL or MariaDB) to hold the database sources
            instead of one SQLite file per source.
        event_rate: life events happen at this many times a real council's yearly rates (moves, deaths,
            marriages, arrivals, claims), so that a few days of a small council show some; 1 is realistic.
            The sources' delays in hearing of an event are not scaled.

    Examples:
        >>> SynthSettings(people=1000, days=7).seed
        42
    """

    people: int
    days: int = 0
    seed: int = 42
    url: str | None = None
    event_rate: float = 1.0

    def __post_init__(self) -> None:
        if self.people < 50:
            raise SynthError(f"people must be at least 50, got {self.people}")
        if self.days < 0:
            raise SynthError(f"days must not be negative, got {self.days}")
        if not 0 < self.event_rate <= 365:
            raise SynthError(f"event_rate must be above 0 and at most 365, got {self.event_rate}")
        if self.url is not None and "://" not in self.url:
            raise SynthError("url must be an SQLAlchemy URL such as postgresql+psycopg://user@host/db")


@dataclass(frozen=True)
class CouncilManifest:
    """What ``write_council`` wrote: paths and counts."""

    out_dir: Path
    hub_yaml: Path
    addressbase_premium: Path
    addressbase_plus: Path
    truth_dir: Path
    changes_dir: Path
    source_urls: dict[str, str]  # source name -> SQLAlchemy URL or CSV drop folder
    rows: dict[str, int]  # day-0 rows per source
    streets: int
    properties: int
    lpis: int
    people: int
    households: int
    days: int
    events: dict[str, int] = field(default_factory=dict)  # life events over days 1..D by type
    noise: dict[str, int] = field(default_factory=dict)  # day-0 noise applications by kind
    seconds: float = 0.0

    def __str__(self) -> str:
        rows = sum(self.rows.values())
        return (f"{self.people:,} people in {self.households:,} households, {self.properties:,} properties, "
                f"{rows:,} source rows in {len(self.rows)} sources, {self.days} day(s) of events prepared, {self.seconds:.1f} s")


@dataclass(frozen=True)
class DayChanges:
    """What ``apply_day`` applied for one day."""

    day: int
    upserts: dict[str, int]
    deletes: dict[str, int]
    events: int
    files: list[Path]
    already_applied: bool = False

    def __str__(self) -> str:
        again = " (already applied)" if self.already_applied else ""
        return (f"day {self.day}: {sum(self.upserts.values()):,} rows upserted, {sum(self.deletes.values()):,} deleted, "
                f"{self.events:,} life events{again}")
