"""Time `mdh gazetteer load` end to end for a city-sized (~1.5M LPI) AddressBase Premium file (issue 4).

Runs the real CLI in a subprocess, twice per hub (first load, then an identical reload that must change
no counts), into a SQLite hub file and into a throw-away PostgreSQL database on 127.0.0.1:5432.

Run: ``nice python benchmarks/gazetteer/bench_store.py [STREETS] [--no-pg] [--zip]``
(default 21,300 streets ≈ 1.5M LPIs; ``--zip`` loads the same supply as a zip of 5 chunk files).
Appends a section to benchmarks/gazetteer/results.md.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))
from flatgen import GenSettings, generate, write_abp  # noqa: E402

OUT = Path("/tmp/gazbench_store")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def city_file(n_streets: int) -> Path:
    """The generated supply (cached between runs: generating takes a couple of minutes)."""
    path = OUT / f"city_abp_{n_streets}.csv"
    if not path.exists():
        streets, props, lpis = generate(GenSettings(streets=n_streets, seed=5, holdout_share=0.0))
        write_abp(path, streets, props, lpis, extras=True)
    return path


def zipped_chunks(path: Path, parts: int = 5) -> Path:
    """The same supply as OS ships it: a zip of chunk files, the header (10) and trailer (99) in their own."""
    out = path.with_suffix(".zip")
    if out.exists():
        return out
    lines = path.read_text().splitlines(keepends=True)
    header, body, trailer = lines[0], lines[1:-1], lines[-1]
    size = -(-len(body) // parts)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("city_header.csv", header)
        for k in range(parts):
            zf.writestr(f"city_{k + 1:03d}.csv", "".join(body[k * size:(k + 1) * size]))
        zf.writestr("city_trailer.csv", trailer)
    return out


def write_config(folder: Path, hub_url: str, gaz: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_text("ref,name\n")
    cfg = folder / "hub.yaml"
    cfg.write_text(f"hub: {hub_url}\ngazetteer:\n  path: {gaz}\nsources:\n  - name: people\n    url: people.csv\n"
                   f"    key: ref\n    fields:\n      full_name: name\n")
    return cfg


def run_load(cfg: Path, gaz: Path) -> tuple[float, float, str]:
    """(wall s, child CPU s, last output line) of one `mdh gazetteer load`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(["mdh", "gazetteer", "load", str(gaz), "--config", str(cfg)], capture_output=True,
                          text=True, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, " ".join(proc.stdout.split())


def counts(url: str) -> tuple[int, int, int]:
    eng = create_engine(url)
    with eng.connect() as c:
        out = tuple(c.execute(text(f"select count(*) from {t}")).scalar_one() for t in ("street", "property", "lpi"))
    eng.dispose()
    return out  # type: ignore[return-value]


def bench(label: str, url: str, gaz: Path) -> list[str]:
    cfg = write_config(OUT / label, url, gaz)
    rows = []
    first = None
    for run in ("first load", "reload (identical)"):
        wall, cpu, said = run_load(cfg, gaz)
        got = counts(url)
        first = first or got
        load = open("/proc/loadavg").read().split()[0]
        rows.append(f"| {label} | {run} | **{wall:.1f} s** | {cpu:.1f} s | {got[0]:,} / {got[1]:,} / {got[2]:,} | "
                    f"{'yes' if got == first else 'NO'} | {load} |")
        print(rows[-1], "\n   ", said, flush=True)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("streets", type=int, nargs="?", default=21_300)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--zip", action="store_true", help="load a zip of chunk files instead of one CSV")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    gaz = city_file(args.streets)
    if args.zip:
        gaz = zipped_chunks(gaz)
    prep_s = time.perf_counter() - t
    n_lpi = sum(1 for line in open(OUT / f"city_abp_{args.streets}.csv") if line.startswith("24,"))
    rows = []
    if not args.no_sqlite:
        db = OUT / "sqlite" / "hub.db"
        db.unlink(missing_ok=True)
        rows += bench("sqlite", f"sqlite:///{db}", gaz)
    if not args.no_pg:
        name = f"mdh_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            rows += bench("postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", gaz)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    flags = " ".join(x for x in (str(args.streets), "--zip" if args.zip else "", "--no-pg" if args.no_pg else "") if x)
    section = f"""
## `mdh gazetteer load` end to end, city-sized AddressBase Premium ({date})

Command: `nice python benchmarks/gazetteer/bench_store.py {flags}` · machine: 2 cores / 24 GiB, shared with other
helpers' work (1-min load average after each run in the table). File: {gaz.name} ({gaz.stat().st_size / 1e6:.0f} MB),
{n_lpi:,} LPIs (record 24) plus PAF (28), cross-references (23), classifications (32); prepared in {prep_s:.0f} s
(not counted). Each time is the whole CLI process: start-up, reading, parsing, coordinates, writing, commit.

| hub | run | wall | CPU (CLI process) | streets / properties / addresses in the hub | counts unchanged | load avg |
|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    print(section)
    with open(HERE / "results.md", "a") as fh:
        fh.write(section)
