"""Where the API's p99 comes from with no writer at all (issue 11's control phase): a diagnostic, not a target.

Usage (from the repository root, after ``load_during_run.py`` has built its council):

    nice python benchmarks/reliability/control_tail.py [--people 2000] [--rate 100] [--seconds 15] [--repeat 2]

Serves the benchmark's hub with uvicorn (one worker, as ``load_during_run.py``) in variants, one at a time, and sends
the same open-loop load to each: the audit mode (spool / sync), Python's cyclic GC on, off or frozen at startup
(``create_app(freeze_gc=True)``) in the server, SQLite's WAL auto-checkpoint on or off in the server. For each it reports the client's percentiles, the app's own (its route
log: middleware to response), GC pauses over 2 ms in the server, and how many of the slowest 1 % of requests in the
app overlapped such a pause. Prints a Markdown table; nothing is written to results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402

from load_during_run import LOG_CONFIG, OUT, ROUTE_LINE, make_plan, pct, read_targets  # noqa: E402
from tests.conftest_servers import free_port  # noqa: E402
from tests.reliability.api_load import HOST, run_load  # noqa: E402

# The server: the app as `api.app:app_from_env` builds it, plus the variant's knobs and a GC-pause log.
BOOT = r"""
import gc, json, os, time
from sqlalchemy import event
pauses = open(os.environ["PROBE_GC_LOG"], "w", buffering=1)
began = {}
def timed(phase, info):
    if phase == "start":
        began["t"], began["w"] = time.perf_counter(), time.time()
    elif "t" in began:
        took = time.perf_counter() - began["t"]
        if took > 0.002:
            pauses.write(f"{began['w']:.6f} {took * 1000:.2f} {info['generation']}\n")
gc.callbacks.append(timed)
from api.app import create_app
from hub.store import open_hub
from schemas.config import load_config
config = load_config(os.environ["MDH_CONFIG"])
engine = open_hub(config.hub)
if os.environ.get("PROBE_WAL_AUTOCHECKPOINT"):
    n = int(os.environ["PROBE_WAL_AUTOCHECKPOINT"])
    event.listen(engine, "connect", lambda c, _r: c.execute(f"PRAGMA wal_autocheckpoint={n}"))
app = create_app(config, engine=engine, audit=os.environ["PROBE_AUDIT"], freeze_gc=os.environ.get("PROBE_GC") == "freeze")
if os.environ.get("PROBE_GC") == "off":
    gc.disable()
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PROBE_PORT"]), access_log=False,
            log_config=json.loads(os.environ["PROBE_LOG_CONFIG"]))
"""
VARIANTS = {
    "spool": {"PROBE_AUDIT": "spool"},
    "sync": {"PROBE_AUDIT": "sync"},
    "spool, GC off": {"PROBE_AUDIT": "spool", "PROBE_GC": "off"},
    "spool, gc.freeze() at startup (app_from_env)": {"PROBE_AUDIT": "spool", "PROBE_GC": "freeze"},
    "sync, gc.freeze() at startup": {"PROBE_AUDIT": "sync", "PROBE_GC": "freeze"},
    "spool, no WAL auto-checkpoint": {"PROBE_AUDIT": "spool", "PROBE_WAL_AUTOCHECKPOINT": "0"},
}


def sample(config: Path) -> tuple[str, list[int], list[tuple[str, str]], list[int]]:
    return read_targets(config, "tail-probe")


def one(config: Path, name: str, knobs: dict[str, str], plan: list[tuple[str, str]], token: str, rate: float,
        seconds: float) -> str:
    port, log, gc_log = free_port(), OUT / "tail-api.log", OUT / "tail-gc.log"
    env = {**os.environ, "MDH_CONFIG": str(config), "PYTHONPATH": str(ROOT), "PROBE_PORT": str(port),
           "PROBE_GC_LOG": str(gc_log), "PROBE_LOG_CONFIG": json.dumps(LOG_CONFIG), **knobs}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", BOOT], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                try:
                    if httpx.get(f"http://{HOST}:{port}/openapi.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            run_load(port, token, lambda i: plan[i], rate=20, seconds=3)  # warm-up
            start = time.time()
            res = run_load(port, token, lambda i: plan[i], rate=rate, seconds=seconds)
            end = time.time()
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = [(float(t), float(ms)) for t, _r, _s, ms in ROUTE_LINE.findall(log.read_text()) if start <= float(t) <= end]
    in_app = [ms for _t, ms in lines]
    pauses = [(float(w), float(ms)) for w, ms, _g in (ln.split() for ln in gc_log.read_text().splitlines())
              if start <= float(w) <= end]
    cut = pct(in_app, 99)
    slow = [(t, ms) for t, ms in lines if ms >= cut]  # logged at the end: the request ran [t - ms, t]
    overlapped = sum(1 for t, ms in slow if any(w < t and w + p / 1000 > t - ms / 1000 for w, p in pauses))
    return (f"| {name} | {len(res.statuses)} | {res.failed} | {res.percentile_ms(50):.1f} | {res.percentile_ms(95):.1f} "
            f"| {res.percentile_ms(99):.1f} | {res.percentile_ms(100):.1f} | {pct(in_app, 50):.1f} | {pct(in_app, 99):.1f} "
            f"| {pct(in_app, 100):.1f} | {len(pauses)} | {max((p for _w, p in pauses), default=0):.1f} "
            f"| {overlapped}/{len(slow)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="Variant names to run (default: all).")
    args = ap.parse_args()
    config = OUT / f"council_{args.people}" / "hub.yaml"
    token, persons, keys, uprns = sample(config)
    plan = make_plan(int(args.rate * args.seconds), persons, keys, uprns)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"`{' '.join(['python', *sys.argv])}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; uptime: {load}")
    print("| variant | requests | failed | client p50 | p95 | p99 | max | app p50 | app p99 | app max "
          "| GC pauses > 2 ms | longest GC ms | slowest 1 % in the app overlapping a GC pause |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _ in range(args.repeat):  # interleaved, so background load falls on every variant alike
        for name, knobs in VARIANTS.items():
            if args.only and name not in args.only:
                continue
            print(one(config, name, knobs, plan, token, args.rate, args.seconds), flush=True)
    print(f"uptime after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
