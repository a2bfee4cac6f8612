"""Extract throughput: N rows from PostgreSQL through extract, then extract+validate+ingest_source into a SQLite hub.

Run by hand (heavy):  nice python benchmarks/connectors/bench_extract.py --rows 1000000 --write-results
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.pull import extract  # noqa: E402
from connectors.validate import validate_chunk  # noqa: E402
from hub.ingest import ingest_source  # noqa: E402
from hub.store import open_hub  # noqa: E402
from schemas.config import SourceConfig  # noqa: E402

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB = "mdh_bench_connectors"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
TABLE = "ctax_accounts"

# A council-tax-like table: names, dates, NINO, contact details, address parts and an updated_at stamp.
SEED_SQL = f"""
CREATE TABLE {TABLE} AS
SELECT 'CT' || lpad(n::text, 9, '0') AS account_ref,
       (ARRAY['Mr','Mrs','Ms','Miss','Dr'])[1 + n % 5] AS title,
       (ARRAY['John','Mary','Peggy','Robert','Aisha','Wei','Olu','Siobhan'])[1 + n % 8] AS forename,
       (ARRAY['Smith','Jones','Patel','Khan','O''Neill','Brown-Smith','Nowak'])[1 + (n / 8) % 7] || (n % 997)::text AS surname,
       to_char(date '1930-01-01' + (n % 30000), 'DD/MM/YYYY') AS dob,
       CASE WHEN n % 3 = 0 THEN NULL ELSE 'AB' || lpad((n % 1000000)::text, 6, '0') || 'C' END AS ni_number,
       CASE WHEN n % 4 = 0 THEN NULL ELSE 'person' || n || '@example.org' END AS email,
       '07700 ' || lpad((n % 1000000)::text, 6, '0') AS phone,
       CASE WHEN n % 10 = 0 THEN 'Flat ' || (n % 9 + 1) ELSE NULL END AS flat,
       (n % 300 + 1)::text AS house_no,
       (ARRAY['High Street','Station Rd','Church Lane','Mill Road','Park Avenue'])[1 + n % 5] AS street,
       'Leeds' AS town,
       'LS' || (n % 28 + 1) || ' ' || (n % 9 + 1) || (ARRAY['AB','BD','EF','GH','JL'])[1 + n % 5] AS postcode,
       CASE WHEN n % 5 = 0 THEN (100000000000 + n)::text ELSE NULL END AS uprn,
       timestamp '2024-01-01' + (n / 10) * interval '1 second' AS updated_at
FROM generate_series(1, :rows) AS g(n)
"""

FIELDS = {"title": "title", "first_name": "forename", "last_name": "surname", "date_of_birth": "dob",
          "nino": "ni_number", "email": "email", "phone": "phone", "flat": "flat", "house_number": "house_no",
          "street": "street", "town": "town", "postcode": "postcode", "uprn": "uprn"}


def seed(rows: int) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DB}):
            conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    engine = create_engine(URL)
    with engine.begin() as conn:
        have = conn.scalar(text(f"SELECT count(*) FROM {TABLE}")) if conn.scalar(
            text("SELECT to_regclass(:t)"), {"t": TABLE}) else None
        if have != rows:
            conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
            conn.execute(text(SEED_SQL), {"rows": rows})
    engine.dispose()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunksize", type=int, default=50_000)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    cfg = SourceConfig(name="ctax", url=URL, table=TABLE, key="account_ref", updated_at="updated_at",
                       date_format="%d/%m/%Y", fields=FIELDS)

    t = time.perf_counter()
    seed(args.rows)
    seed_s = time.perf_counter() - t

    t, c = time.perf_counter(), time.process_time()
    n = sum(len(c.rows) for c in extract(cfg, chunksize=args.chunksize))
    extract_s, extract_cpu = time.perf_counter() - t, time.process_time() - c
    rss_extract = peak_rss_mib()

    t, c = time.perf_counter(), time.process_time()
    seen: set[str] = set()
    good = bad = 0
    for chunk in extract(cfg, chunksize=args.chunksize):
        v = validate_chunk(chunk.rows, cfg, seen_keys=seen)
        good, bad = good + len(v.records), bad + len(v.quarantined)
    validate_s, validate_cpu = time.perf_counter() - t, time.process_time() - c

    with tempfile.TemporaryDirectory() as tmp:
        hub = open_hub(f"sqlite:///{tmp}/hub.db")
        t, c = time.perf_counter(), time.process_time()
        summary = ingest_source(hub, cfg, chunksize=args.chunksize)
        ingest_s, ingest_cpu = time.perf_counter() - t, time.process_time() - c
        hub.dispose()
    assert n == args.rows and summary.status == "ok" and summary.reconciles, summary

    when = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    lines = [
        f"## Extract throughput: {args.rows:,} rows from PostgreSQL ({when})",
        "",
        f"Command: `nice python benchmarks/connectors/bench_extract.py --rows {args.rows} --chunksize {args.chunksize}`  ",
        f"Machine: 2 cores / 24 GiB, Python {platform.python_version()}, PostgreSQL on 127.0.0.1; other helpers' "
        f"work was running (load average at the end: {' '.join(load)}). Seeding the table took {seed_s:.1f} s (not counted).",
        "",
        "| step | rows | wall s | rows/s (wall) | our process CPU s | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| extract only (server-side cursor, chunks of {args.chunksize:,}) | {n:,} | {extract_s:.1f} | "
        f"{n / extract_s:,.0f} | {extract_cpu:.1f} | {rss_extract:,.0f} |",
        f"| extract + validate | {good + bad:,} | {validate_s:.1f} | {(good + bad) / validate_s:,.0f} | "
        f"{validate_cpu:.1f} | {peak_rss_mib():,.0f} |",
        f"| extract + validate + ingest_source into a SQLite hub | {summary.extracted:,} | {ingest_s:.1f} | "
        f"{summary.extracted / ingest_s:,.0f} | {ingest_cpu:.1f} | {peak_rss_mib():,.0f} |",
        "",
        f"Reconciliation: extracted {summary.extracted:,} = loaded {summary.loaded:,} + quarantined {summary.quarantined:,}. "
        f"Target: under 120 s for 1M rows. No peer is measured here (no comparable open-source extractor to run offline).",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write_results:
        out = Path(__file__).with_name("results.md")
        previous = out.read_text() if out.exists() else "# Connectors benchmarks\n\n"
        out.write_text(previous.rstrip("\n") + "\n\n" + report)


if __name__ == "__main__":
    main()
