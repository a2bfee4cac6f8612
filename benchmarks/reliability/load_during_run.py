"""API latency and errors under steady loopback load while a nightly run writes to the same hub (issue 11).

Usage (from the repository root):

    nice python benchmarks/reliability/load_during_run.py [--people 2000] [--rate 100] [--seconds 30] [--full]
        [--hub-url postgresql+psycopg://postgres@127.0.0.1:5432/mdh_load]   # an empty database; default SQLite

Builds a synthetic council under benchmarks/out/reliability/ (git-ignored), runs day 0 so the hub has golden persons,
creates a reader token, starts `uvicorn api.app:app_from_env` (one worker, access log off), applies day 1's life
events and starts `mdh run` (``--full``: re-extract and re-match everything, the heaviest writer). While the run goes
on, an open-loop client sends GETs at a fixed rate (bounded in count and time, 127.0.0.1 only) over persons by ID,
by source key, fuzzy search, the change feed and properties. Reports errors (5xx, transport), 'database is locked'
or tracebacks in the server log, and latency percentiles; appends a section to benchmarks/reliability/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from hub.access import create_token  # noqa: E402
from hub.store import open_hub  # noqa: E402
from schemas.config import load_config  # noqa: E402
from tests.conftest_servers import free_port  # noqa: E402
from tests.reliability.api_load import ApiServer, run_load  # noqa: E402
from tests.reliability.pipeline_runs import run_to_end, start_run  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "reliability"
RESULTS = Path(__file__).resolve().parent / "results.md"
ROUTES = ("person", "xref", "search", "changes", "property")


def prepare(people: int, hub_url: str | None) -> tuple[Path, str, list[int], list[tuple[str, str]], list[int]]:
    import yaml

    from synthetic import SynthSettings, write_council

    council = OUT / f"council_{people}"
    shutil.rmtree(council, ignore_errors=True)
    write_council(council, SynthSettings(people=people, days=1, seed=11))
    config = council / "hub.yaml"
    if hub_url:  # the same council with its hub store elsewhere (e.g. PostgreSQL, as in production)
        raw = yaml.safe_load(config.read_text())
        raw["hub"] = hub_url
        config.write_text(yaml.safe_dump(raw, sort_keys=False))
    t = time.perf_counter()
    run_to_end(config)
    print(f"day 0 run: {time.perf_counter() - t:.1f} s", flush=True)
    engine = open_hub(load_config(config).hub)
    with Session(engine) as s, s.begin():
        _row, token = create_token(s, f"bench-reader-{int(time.time())}", "reader", created_by="benchmark")
        persons = [p for (p,) in s.execute(text("SELECT person_id FROM golden_person"))]
        keys = [(a, b) for a, b in s.execute(text(
            "SELECT s.name, r.source_key FROM source_record r JOIN source_system s ON s.id = r.source_id "
            "WHERE r.kind = 'person' AND NOT r.deleted"))]
        uprns = [u for (u,) in s.execute(text("SELECT uprn FROM property LIMIT 5000"))]
    engine.dispose()
    return config, token, persons, keys, uprns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--full", action="store_true", help="The run re-extracts and re-matches everything.")
    ap.add_argument("--hub-url", help="Hub store URL of an empty database (default: SQLite beside the council).")
    args = ap.parse_args()
    config, token, persons, keys, uprns = prepare(args.people, args.hub_url)
    dialect = open_hub(load_config(config).hub).dialect.name
    rnd = random.Random(5)
    total = int(args.rate * args.seconds)
    plan = []
    for i in range(total):
        route = ROUTES[i % len(ROUTES)]
        if route == "person":
            plan.append((route, f"/api/v1/persons/{rnd.choice(persons)}"))
        elif route == "xref":
            src, key = rnd.choice(keys)
            plan.append((route, f"/api/v1/xref/{src}/{quote(key, safe='')}"))
        elif route == "search":
            plan.append((route, f"/api/v1/search/persons?postcode={rnd.choice(['FX1 1AA', 'FX2 0RX', 'FX3 4QT'])}"))
        elif route == "changes":
            plan.append((route, f"/api/v1/changes?after={rnd.randint(0, 500)}&limit=100"))
        else:
            plan.append((route, f"/api/v1/properties/{rnd.choice(uprns)}"))
    from synthetic import apply_day

    apply_day(config.parent, 1)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with ApiServer(config, free_port(), OUT / "api.log") as server:
        run_load(server.port, token, lambda i: ("warm-up", f"/api/v1/persons/{persons[i % len(persons)]}"),
                 rate=20, seconds=3)
        # Control: the same load for half as long with no writer, to see what the run adds.
        control = run_load(server.port, token, lambda i: plan[i], rate=args.rate, seconds=args.seconds / 2)
        t = time.perf_counter()
        run = start_run(config, *(["--full"] if args.full else []))
        run.wait_for("▶ extract_")
        result = run_load(server.port, token, lambda i: plan[i], rate=args.rate, seconds=args.seconds,
                          stop=lambda: run.proc.poll() is not None)
        rc, out, _err = run.finish()
        run_seconds = time.perf_counter() - t
        log = server.log_text()
    locked, tracebacks = log.count("database is locked"), log.count("Traceback")
    print("control:", control.summary())
    print(result.summary())
    print(f"run exit {rc} in {run_seconds:.1f} s; server log: 'database is locked' x{locked}, tracebacks x{tracebacks}")
    def row(name: str, res, r: str | None) -> str:  # noqa: ANN001 - a LoadResult
        n = len(res.by_route.get(r, [])) if r else len(res.statuses)
        statuses = sorted({s for (rr, s) in res.route_statuses if r in (None, rr)})
        counts = ", ".join(f"{s}: {sum(c for (rr, ss), c in res.route_statuses.items() if ss == s and r in (None, rr))}"
                           for s in statuses)
        return (f"| {name} | {r or 'all'} | {n} | {counts} | {res.percentile_ms(50, r):.1f} | {res.percentile_ms(95, r):.1f}"
                f" | {res.percentile_ms(99, r):.1f} | {res.percentile_ms(100, r):.1f} |")

    rows = "\n".join([row("no writer (control)", control, None), row("during the run", result, None),
                      *[row("during the run", result, r) for r in ROUTES]])
    section = f"""
## API under load during a nightly run — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC

- Command: `nice python benchmarks/reliability/load_during_run.py --people {args.people} --rate {args.rate:g} \
--seconds {args.seconds:g}{' --full' if args.full else ''}{' --hub-url ' + args.hub_url if args.hub_url else ''}`
- Machine: 2 cores / 24 GiB; `uptime` before: {load}
- Hub: {dialect}, {len(persons):,} golden persons; writer: `mdh run{' --full' if args.full else ''}` after day 1's \
events (exit {rc}, {run_seconds:.1f} s); server: uvicorn, 1 worker, reads audit-logged (sync)
- Load: open loop {args.rate:g} req/s, bounded to {args.seconds:g} s and to the run's duration; 16 keep-alive connections
- Control (no writer, {args.seconds / 2:g} s before the run): {control.summary()}
- During the run: {result.summary()}; server log 'database is locked' ×{locked}, tracebacks ×{tracebacks}

| phase | route | requests | statuses | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|
{rows}
"""
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"appended to {RESULTS}")
    sys.exit(0 if rc == 0 and result.failed == 0 and control.failed == 0 and not locked else 1)


if __name__ == "__main__":
    main()
