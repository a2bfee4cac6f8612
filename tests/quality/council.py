"""A tiny council written by hand for data-quality and pipeline tests: hub.yaml, a SQLite source, a flat gazetteer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

STREETS = ("High Street", "Mill Lane", "Church Road", "Station Road", "Park Avenue")
POSTCODES = ("AB1 2DE", "AB1 3EF", "AB2 4GH", "AB2 5JL", "AB3 6NP")
FIRST = ("Anna", "Ben", "Carla", "David", "Erin", "Farid", "Grace", "Hugo", "Isla", "Jamal")
LAST = ("Smith", "Jones", "Patel", "Brown", "Khan", "Taylor", "Wilson", "Evans")


def gazetteer_rows(n: int = 60) -> list[tuple[int, str, str]]:
    """Flat ``uprn,address,postcode`` rows: house numbers on five streets."""
    out = []
    for i in range(n):
        street = STREETS[i % len(STREETS)]
        out.append((100000000 + i, f"{i // len(STREETS) + 1} {street}, Testtown", POSTCODES[i % len(POSTCODES)]))
    return out


def people_rows(n: int, *, blank_postcodes: int = 0, bad_postcodes: int = 0, placeholders: int = 0,
                key_prefix: str = "CT") -> list[dict]:
    """Council tax accounts: the first ``blank_postcodes`` have no postcode, the next ``bad_postcodes`` a broken one;
    the last ``placeholders`` are "THE OCCUPIER", born "1900-01-01"."""
    gaz = gazetteer_rows()
    rows = []
    for i in range(n):
        uprn, address, postcode = gaz[i % len(gaz)]
        if i < blank_postcodes:
            postcode = ""
        elif i < blank_postcodes + bad_postcodes:
            postcode = "NOT A PC"
        rows.append({"ref": f"{key_prefix}{i:05d}", "name": f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}",
                     "addr": address.split(",")[0], "pc": postcode,
                     "dob": f"{1940 + i % 60:04d}-{1 + i % 12:02d}-{1 + i % 28:02d}"})
        if i >= n - placeholders:
            rows[-1].update(name="THE OCCUPIER", dob="1900-01-01")
    return rows


def write_source(path: Path, rows: list[dict]) -> None:
    """(Re)write the council tax table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS ctax")
        conn.execute("CREATE TABLE ctax (ref TEXT, name TEXT, addr TEXT, pc TEXT, dob TEXT)")
        conn.executemany("INSERT INTO ctax VALUES (:ref, :name, :addr, :pc, :dob)", rows)
    conn.close()


def write_council(folder: Path, *, people: int = 80, drops: bool = False) -> Path:
    """A council in ``folder``; returns the hub.yaml path. With ``drops`` a second source reads a CSV drop folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "gazetteer.csv").open("w", encoding="utf-8") as fh:
        fh.write("uprn,address,postcode\n")
        for uprn, address, postcode in gazetteer_rows():
            fh.write(f'{uprn},"{address}",{postcode}\n')
    write_source(folder / "sources" / "ctax.sqlite", people_rows(people))
    sources = [{"name": "council_tax", "url": "sqlite:///sources/ctax.sqlite", "table": "ctax", "key": "ref", "trust": 3,
                "fields": {"full_name": "name", "address": "addr", "postcode": "pc", "date_of_birth": "dob"}}]
    if drops:
        (folder / "drops" / "housing").mkdir(parents=True, exist_ok=True)
        sources.append({"name": "housing", "url": "drops/housing", "key": "tenancy", "trust": 2,
                        "fields": {"full_name": "tenant", "address": "address", "postcode": "postcode"}})
    config = {"hub": "sqlite:///hub.db", "gazetteer": {"path": "gazetteer.csv"}, "sources": sources,
              "schedule": {"nightly": "30 1 * * *", "timezone": "Europe/London"}}
    path = folder / "hub.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
