"""Read latency of the golden-record API with 1M golden persons: by ID and by source key at 200 requests/s on loopback.

Usage (from the repository root; builds the hub once, about 2-3 minutes, then reuses it):

    nice python benchmarks/api/bench_reads.py [--persons 1000000] [--rate 200] [--seconds 30] [--rebuild]

The hub is a SQLite file under benchmarks/out/api/ (git-ignored): 1M active golden persons, 100k merged-away IDs
that redirect to them, 1M source records with their cross-references and 10 lineage rows per person, bulk-inserted
directly. The server is `uvicorn api.app:app_from_env` (one worker, access log off); the load generator is open-loop
(requests fall due on schedule whatever the responses do), bounded in count and time, and targets 127.0.0.1 only.
Every read is audit-logged as in production. Results are appended to benchmarks/api/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out" / "api"
RESULTS = Path(__file__).resolve().parent / "results.md"
HOST = "127.0.0.1"
SOURCES = ("ctax", "housing", "electoral")
FIRST = ["JOHN", "MARY", "DAVID", "SARAH", "JAMES", "EMMA", "ROBERT", "OLIVIA", "MOHAMMED", "AMELIA", "PETER", "GRACE"]
LAST = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "PATEL", "WRIGHT", "KHAN", "EVANS"]
ATTRS = ("title", "first_name", "middle_names", "last_name", "date_of_birth", "date_of_death", "nino", "email", "phone", "address")
sys.path.insert(0, str(ROOT))


def build(persons: int, merged: int) -> tuple[Path, str]:
    """Create the hub file and a reader token; returns (config path, token secret)."""
    from sqlalchemy.orm import Session

    from hub.access import create_token
    from hub.store import open_hub
    from schemas.config import load_config

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "hub.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg_path = OUT / "hub.yaml"
    cfg_path.write_text("hub: sqlite:///hub.db\ngazetteer: {path: none.csv}\n"
                        "sources:\n" + "".join(f"  - {{name: {s}, url: {s}.csv, key: k, fields: {{full_name: n}}}}\n" for s in SOURCES))
    engine = open_hub(load_config(cfg_path).hub)
    engine.dispose()
    rng = np.random.default_rng(7)
    stamp = "2026-01-01 00:00:00.000000"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.executemany("INSERT INTO source_system (id, name, kind, trust, created_at) VALUES (?, ?, 'person', ?, ?)",
                    [(i + 1, s, 3 - i, stamp) for i, s in enumerate(SOURCES)])
    chunk = 100_000
    t0 = time.perf_counter()
    for start in range(1, persons + 1, chunk):
        ids = range(start, min(start + chunk, persons + 1))
        n = len(ids)
        first = rng.choice(FIRST, n)
        last = rng.choice(LAST, n)
        days = rng.integers(0, 30_000, n)
        uprns = rng.integers(10_000_000, 10_400_000, n)
        dobs = [(dt.date(1930, 1, 1) + dt.timedelta(days=int(d))).isoformat() for d in days]
        people = [(i, "active", 1, f, ln, d, int(u), f"{int(u) % 300} HIGH STREET, TESTTOWN", f"TE{int(u) % 90} {int(u) % 9}AB",
                   0, stamp, stamp) for i, f, ln, d, u in zip(ids, first, last, dobs, uprns)]
        con.executemany("INSERT INTO golden_person (person_id, status, version, first_name, last_name, date_of_birth, uprn,"
                        " address, postcode, restricted, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", people)
        con.executemany("INSERT INTO source_record (id, source_id, source_key, kind, first_name, last_name, date_of_birth,"
                        " raw, content_hash, first_seen, last_seen, last_changed, deleted) VALUES"
                        " (?, ?, ?, 'person', ?, ?, ?, '{}', ?, ?, ?, ?, 0)",
                        [(p[0], p[0] % 3 + 1, f"K{p[0]:09d}", p[3], p[4], p[5], "h", stamp, stamp, stamp) for p in people])
        con.executemany("INSERT INTO xref (source_record_id, person_id, uprn, link_band, link_score, linked_at)"
                        " VALUES (?, ?, ?, 'auto', 0.999, ?)", [(p[0], p[0], p[6], stamp) for p in people])
        con.executemany("INSERT INTO attribute_lineage (person_id, attribute, value, source_record_id, rule, chosen_at)"
                        " VALUES (?, ?, NULL, ?, 'trust', ?)", [(p[0], a, p[0], stamp) for p in people for a in ATTRS])
        con.commit()
        print(f"  {ids[-1]:,} persons ({time.perf_counter() - t0:.0f} s)", flush=True)
    survivors = rng.integers(1, persons + 1, merged)
    con.executemany("INSERT INTO golden_person (person_id, status, redirect_to, version, restricted, created_at, updated_at)"
                    " VALUES (?, 'merged', ?, 1, 0, ?, ?)",
                    [(persons + 1 + i, int(s), stamp, stamp) for i, s in enumerate(survivors)])
    con.commit()
    con.execute("ANALYZE")
    con.close()
    engine = open_hub(load_config(cfg_path).hub)
    with Session(engine) as s, s.begin():
        _, secret = create_token(s, "benchmark", "reader")
    engine.dispose()
    (OUT / "token.txt").write_text(secret)
    (OUT / "size.txt").write_text(f"{persons} {merged}")
    return cfg_path, secret


class Connection:
    """One keep-alive HTTP/1.1 connection to the server (a lean client: httpx's pool costs more CPU than the server)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {self.token}\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def phase(name: str, url_of, *, rate: float, seconds: float, token: str, port: int, connections: int = 32) -> dict:
    """Open-loop load: request i is due at t0 + i/rate and goes out on the next free connection.

    Service latency counts from the send; "from due" counts from when the request was due, so time spent
    waiting for a free connection (queueing when the server falls behind) is included.
    """
    total = int(rate * seconds)
    service, corrected, statuses = [], [], []
    due_queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def worker() -> None:
        conn = Connection(port, token)
        try:
            while (item := await due_queue.get()) is not None:
                i, due = item
                sent = time.perf_counter()
                try:
                    statuses.append(await conn.get(url_of(i)))
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    statuses.append(0)
                    conn.close()
                done = time.perf_counter()
                service.append(done - sent)
                corrected.append(done - due)
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    t0 = time.perf_counter() + 0.2
    for i in range(total):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due_queue.put_nowait((i, due))
    for _ in workers:
        due_queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=seconds + 30)
    for task in pending:  # bounded in time: whatever has not answered by then is cancelled and counts as an error
        task.cancel()
    elapsed = time.perf_counter() - t0
    ms = lambda xs, q: float(np.percentile(np.array(xs) * 1000, q)) if xs else float("nan")  # noqa: E731
    ok = sum(1 for s in statuses if s == 200)
    return {"phase": name, "requests": total, "ok": ok, "errors": total - ok, "rate": len(statuses) / elapsed,
            "p50": ms(service, 50), "p95": ms(service, 95), "p99": ms(service, 99), "max": ms(service, 100),
            "p99_from_due": ms(corrected, 99)}


def wait_ready(port: int, proc: subprocess.Popen, limit: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("server did not become ready")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="Build the hub and stop.")
    ap.add_argument("--audit", choices=("sync", "batched"), default="sync", help="How reads are audit-logged.")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes.")
    ap.add_argument("--xref-first", action="store_true", help="Measure reads by source key before reads by ID.")
    args = ap.parse_args()
    merged = args.persons // 10
    size_file = OUT / "size.txt"
    if args.rebuild or not size_file.exists() or size_file.read_text() != f"{args.persons} {merged}":
        print(f"building a hub with {args.persons:,} golden persons ...", flush=True)
        t = time.perf_counter()
        cfg, token = build(args.persons, merged)
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
    else:
        cfg, token = OUT / "hub.yaml", (OUT / "token.txt").read_text().strip()
    if args.build_only:
        return
    env = {**os.environ, "MDH_CONFIG": str(cfg), "PYTHONPATH": str(ROOT), "MDH_AUDIT": args.audit}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory", "--host", HOST,
                               "--port", str(args.port), "--no-access-log", "--log-level", "warning",
                               "--workers", str(args.workers)],
                              cwd=ROOT, env=env)
    try:
        wait_ready(args.port, server)
        rnd = random.Random(11)
        n_all = args.persons + merged
        ids = [rnd.randint(1, n_all) for _ in range(int(args.rate * args.seconds) + 1)]
        keys = [f"K{rnd.randint(1, args.persons):09d}" for _ in range(int(args.rate * args.seconds) + 1)]
        src = lambda k: SOURCES[(int(k[1:]) % 3 + 1) - 1]  # noqa: E731 - record i lives in source (i % 3 + 1)
        asyncio.run(phase("warm-up", lambda i: f"/api/v1/persons/{ids[i]}", rate=50, seconds=5, token=token, port=args.port))
        by_id = ("GET /api/v1/persons/{id}", lambda i: f"/api/v1/persons/{ids[i]}")
        by_key = ("GET /api/v1/xref/{source}/{key}", lambda i: f"/api/v1/xref/{src(keys[i])}/{keys[i]}")
        # Control: a static file (no database, no auth) under the same load shows what the machine alone adds.
        plan = [("control: GET /static/app.css", lambda i: "/static/app.css", args.seconds / 3),
                *[(n, f, args.seconds) for n, f in ((by_key, by_id) if args.xref_first else (by_id, by_key))]]
        results = [asyncio.run(phase(n, f, rate=args.rate, seconds=secs, token=token, port=args.port)) for n, f, secs in plan]
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(results, args)


def report(results: list[dict], args: argparse.Namespace) -> None:
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    lines = [f"\n### API reads at {args.rate:.0f} req/s, {args.persons:,} golden persons (SQLite, {args.workers} uvicorn "
             f"worker(s), audit {args.audit})\n",
             f"- Date: {date}; machine: {os.cpu_count()} cores / 24 GiB, {platform.python_implementation()} "
             f"{platform.python_version()}; other helpers' work was running on the same 2 cores.",
             f"- Command: `nice python benchmarks/api/bench_reads.py --persons {args.persons} --rate {args.rate:.0f} "
             f"--seconds {args.seconds:.0f} --audit {args.audit} --workers {args.workers}"
             f"{' --xref-first' if args.xref_first else ''}`",
             "- Open-loop load from one asyncio client (32 keep-alive HTTP/1.1 connections) on 127.0.0.1; IDs drawn uniformly over active and "
             "merged-away IDs (10% redirect); each read writes its audit-log row. Latency in ms, measured at the client "
             "from send to response; the last column counts from the request's due time (queueing included).",
             "- No peer: none of the peer tools serves a golden-record API.\n",
             "| endpoint | requests | 200 OK | errors | achieved req/s | p50 | p95 | p99 | max | p99 from due time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    load = os.getloadavg()
    lines.insert(2, f"- Load average at the end (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on 2 cores.")
    for r in results:
        lines.append(f"| `{r['phase']}` | {r['requests']:,} | {r['ok']:,} | {r['errors']} | {r['rate']:.1f} | "
                     f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['p99_from_due']:.1f} |")
    verdict = all(r["p99"] < 50 and r["errors"] == 0 for r in results if not r["phase"].startswith("control"))
    lines.append(f"\nTarget p99 < 50 ms with no errors: **{'met' if verdict else 'not met'}**.\n")
    text = "\n".join(lines)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# API benchmark results\n")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
