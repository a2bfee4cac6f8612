"""Time and size of a synthetic council: ``nice /usr/bin/time -v python benchmarks/synthetic/bench_synth.py --people 1000000``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from synthetic import SynthSettings, apply_day, write_council  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("/tmp/mdh_bench_synth"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    m = write_council(args.out, SynthSettings(args.people, args.days, args.seed),
                      progress=lambda step, i, n: marks.append((step, time.perf_counter() - t0)))
    t_write = time.perf_counter() - t0
    t1 = time.perf_counter()
    applied = [apply_day(args.out, d) for d in range(1, args.days + 1)]
    t_apply = time.perf_counter() - t1
    phases = {a: round(tb - ta, 2) for (a, ta), (_, tb) in zip(marks, marks[1:])}
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(json.dumps({
        "people": m.people, "households": m.households, "streets": m.streets, "properties": m.properties, "lpis": m.lpis,
        "rows": m.rows, "source_rows_total": sum(m.rows.values()), "events": m.events, "write_council_s": round(t_write, 1),
        "phases_s": phases, "days": args.days, "apply_all_days_s": round(t_apply, 2),
        "changed_rows": sum(sum(a.upserts.values()) + sum(a.deletes.values()) for a in applied),
        "output_mb": round(size / 2**20, 1),
    }, indent=1))
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
