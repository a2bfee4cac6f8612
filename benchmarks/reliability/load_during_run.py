"""API latency and errors under steady loopback load while a nightly run writes to the same hub (issue 11).

Usage (from the repository root):

    nice python benchmarks/reliability/load_during_run.py [--people 2000] [--rate 100] [--seconds 30] [--full]
        [--hub-url postgresql+psycopg://postgres@127.0.0.1:5432/mdh_load]   # an empty database; default SQLite
        [--audit auto|spool|sync|batched]   # the API's audit mode (MDH_AUDIT); auto: spool on SQLite, else sync
        [--run-nice 19]                      # run `mdh run` at a lower CPU priority than the API (as in production)

Builds a synthetic council under benchmarks/out/reliability/ (git-ignored), runs day 0 so the hub has golden persons,
creates a reader token, starts `uvicorn api.app:app_from_env` (one worker, access log off), applies day 1's life
events and starts `mdh run` (``--full``: re-extract and re-match everything, the heaviest writer). While the run goes
on, an open-loop client sends GETs at a fixed rate (bounded in count and time, 127.0.0.1 only) over persons by ID,
by source key, fuzzy search, the change feed and properties. Reports errors (5xx, transport), 'database is locked'
or tracebacks in the server log, and latency percentiles as the client saw them and as the app measured them
(its route log: from the app's middleware to the response, so without the HTTP server's and the client's own
overhead); appends a section to benchmarks/reliability/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
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
# The app's route log with a wall-clock stamp (uvicorn reads UVICORN_LOG_CONFIG like its --log-config option).
LOG_CONFIG = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"stamped": {"format": "%(created).6f %(name)s %(levelname)s %(message)s"}},
    "handlers": {"out": {"class": "logging.StreamHandler", "formatter": "stamped", "stream": "ext://sys.stdout"}},
    "loggers": {"mdh": {"handlers": ["out"], "level": "INFO", "propagate": False},
                "uvicorn": {"handlers": ["out"], "level": "INFO", "propagate": False}},
}
ROUTE_LINE = re.compile(r"^(\d+\.\d+) mdh\.api INFO GET (/api/v1/\S+) (\d+) ([\d.]+)ms$", re.M)


def server_ms(log: str, start: float, end: float) -> list[float]:
    """The app's own times (ms) of the API requests it logged between two wall-clock instants."""
    return [float(ms) for t, _route, _status, ms in ROUTE_LINE.findall(log) if start <= float(t) <= end]


def pct(xs: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.array(xs), q)) if xs else float("nan")


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
    return (config, *read_targets(config, "bench-reader"))


def read_targets(config: Path, token_name: str) -> tuple[str, list[int], list[tuple[str, str]], list[int]]:
    """A new reader token and what the load reads: golden person IDs, live (source, key) pairs, property UPRNs."""
    engine = open_hub(load_config(config).hub)
    with Session(engine) as s, s.begin():
        _row, token = create_token(s, f"{token_name}-{time.time_ns()}", "reader", created_by="benchmark")
        persons = [p for (p,) in s.execute(text("SELECT person_id FROM golden_person"))]
        keys = [(a, b) for a, b in s.execute(text(
            "SELECT s.name, r.source_key FROM source_record r JOIN source_system s ON s.id = r.source_id "
            "WHERE r.kind = 'person' AND NOT r.deleted"))]
        uprns = [u for (u,) in s.execute(text("SELECT uprn FROM property LIMIT 5000"))]
    engine.dispose()
    return token, persons, keys, uprns


def make_plan(total: int, persons: list[int], keys: list[tuple[str, str]], uprns: list[int]) -> list[tuple[str, str]]:
    """``total`` GETs (route label, URL), the routes in turn, over random persons, source keys and UPRNs (seeded)."""
    rnd = random.Random(5)
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
    return plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--full", action="store_true", help="The run re-extracts and re-matches everything.")
    ap.add_argument("--hub-url", help="Hub store URL of an empty database (default: SQLite beside the council).")
    ap.add_argument("--audit", default="auto", choices=("auto", "spool", "sync", "batched"),
                    help="The API's audit mode (MDH_AUDIT); auto: spool on a SQLite hub, sync otherwise.")
    ap.add_argument("--run-nice", type=int, default=0,
                    help="Lower the nightly run's CPU priority by this much (nice increment of `mdh run` only).")
    args = ap.parse_args()
    config, token, persons, keys, uprns = prepare(args.people, args.hub_url)
    dialect = open_hub(load_config(config).hub).dialect.name
    audit = args.audit if args.audit != "auto" else "spool" if dialect == "sqlite" else "sync"
    os.environ["MDH_AUDIT"] = args.audit  # the server inherits the environment
    log_config = OUT / "log_config.json"
    log_config.write_text(json.dumps(LOG_CONFIG), encoding="utf-8")
    os.environ["UVICORN_LOG_CONFIG"] = str(log_config)
    api_nice = os.getpriority(os.PRIO_PROCESS, 0)  # the server (and, unless --run-nice, the run) inherit it
    plan = make_plan(int(args.rate * args.seconds), persons, keys, uprns)
    from synthetic import apply_day

    apply_day(config.parent, 1)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with ApiServer(config, free_port(), OUT / "api.log") as server:
        run_load(server.port, token, lambda i: ("warm-up", f"/api/v1/persons/{persons[i % len(persons)]}"),
                 rate=20, seconds=3)
        # Control: the same load for half as long with no writer, to see what the run adds.
        control_window = [time.time()]
        control = run_load(server.port, token, lambda i: plan[i], rate=args.rate, seconds=args.seconds / 2)
        control_window.append(time.time())
        t = time.perf_counter()
        run = start_run(config, *(["--full"] if args.full else []))
        if args.run_nice:  # like `nice -n N mdh run`, before the run has imported anything (it runs in process)
            os.setpriority(os.PRIO_PROCESS, run.proc.pid, min(19, api_nice + args.run_nice))
        run_nice = os.getpriority(os.PRIO_PROCESS, run.proc.pid)
        run.wait_for("▶ extract_")
        run_window = [time.time()]
        result = run_load(server.port, token, lambda i: plan[i], rate=args.rate, seconds=args.seconds,
                          stop=lambda: run.proc.poll() is not None)
        run_window.append(time.time())
        rc, out, _err = run.finish()
        run_seconds = time.perf_counter() - t
        time.sleep(1.0)  # let the server flush its log
        log = server.log_text()
        spool = (Path(load_config(config).hub[len("sqlite:///"):] + ".audit-spool")
                 if dialect == "sqlite" and audit == "spool" else None)
    locked, tracebacks = log.count("database is locked"), log.count("Traceback")
    in_app = {"control": server_ms(log, *control_window), "run": server_ms(log, *run_window)}
    print("control:", control.summary())
    print(result.summary())
    print(f"run exit {rc} in {run_seconds:.1f} s; server log: 'database is locked' x{locked}, tracebacks x{tracebacks}")
    for phase, xs in in_app.items():
        print(f"in the app ({phase}): {len(xs)} requests, p50 {pct(xs, 50):.1f} ms, p99 {pct(xs, 99):.1f} ms, "
              f"max {pct(xs, 100):.1f} ms")
    run_label = f"during the run (run at nice {run_nice}, API at nice {api_nice})" if args.run_nice else "during the run"

    def row(name: str, res, r: str | None) -> str:  # noqa: ANN001 - a LoadResult
        n = len(res.by_route.get(r, [])) if r else len(res.statuses)
        statuses = sorted({s for (rr, s) in res.route_statuses if r in (None, rr)})
        counts = ", ".join(f"{s}: {sum(c for (rr, ss), c in res.route_statuses.items() if ss == s and r in (None, rr))}"
                           for s in statuses)
        return (f"| {name} | {r or 'all'} | {n} | {counts} | {res.percentile_ms(50, r):.1f} | {res.percentile_ms(95, r):.1f}"
                f" | {res.percentile_ms(99, r):.1f} | {res.percentile_ms(100, r):.1f} |")

    def app_row(name: str, xs: list[float]) -> str:
        return (f"| {name}, in the app | all | {len(xs)} | | {pct(xs, 50):.1f} | {pct(xs, 95):.1f} | {pct(xs, 99):.1f}"
                f" | {pct(xs, 100):.1f} |")

    rows = "\n".join([row("no writer (control)", control, None),
                      *[row("no writer (control)", control, r) for r in ROUTES],
                      app_row("no writer (control)", in_app["control"]),
                      row(run_label, result, None), *[row(run_label, result, r) for r in ROUTES],
                      app_row(run_label, in_app["run"])])
    left = None
    if spool is not None and spool.exists():
        import sqlite3

        with sqlite3.connect(spool) as conn:
            left = conn.execute("SELECT COUNT(*) FROM spooled").fetchone()[0]
    section = f"""
## API under load during a nightly run — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC

- Command: `nice python benchmarks/reliability/load_during_run.py --people {args.people} --rate {args.rate:g} \
--seconds {args.seconds:g}{' --full' if args.full else ''}{' --hub-url ' + args.hub_url if args.hub_url else ''}\
{' --audit ' + args.audit if args.audit != 'auto' else ''}{f' --run-nice {args.run_nice}' if args.run_nice else ''}`
- Machine: 2 cores / 24 GiB; `uptime` before: {load}
- Hub: {dialect}, {len(persons):,} golden persons; writer: `mdh run{' --full' if args.full else ''}` after day 1's \
events (exit {rc}, {run_seconds:.1f} s), at nice {run_nice} (API and load generator at nice {api_nice}); \
server: uvicorn, 1 worker, reads audit-logged ({audit}{'' if left is None else f'; rows left in the spool at the end: {left}'})
- Load: open loop {args.rate:g} req/s, bounded to {args.seconds:g} s and to the run's duration; 16 keep-alive connections
- Control (no writer, {args.seconds / 2:g} s before the run): {control.summary()}
- During the run: {result.summary()}; server log 'database is locked' ×{locked}, tracebacks ×{tracebacks}

| phase | route | requests | statuses | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|
{rows}

("in the app": the app's route log, from its middleware to the response; the other rows are the client's view.)
"""
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"appended to {RESULTS}")
    sys.exit(0 if rc == 0 and result.failed == 0 and control.failed == 0 and not locked else 1)


if __name__ == "__main__":
    main()
