"""``python -m synthetic --people N --days D --out DIR [--seed S] [--url URL] [--event-rate X] [--apply-days]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthetic import SynthError, SynthSettings, apply_day, write_council


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synthetic", description=__doc__)
    ap.add_argument("--people", type=int, required=True)
    ap.add_argument("--days", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--url", default=None, help="SQLAlchemy URL of a PostgreSQL/MariaDB database for the source tables")
    ap.add_argument("--event-rate", type=float, default=1.0, help="Life events at this many times a real council's yearly rates (1 = realistic), so a few days of a small council show some.")
    ap.add_argument("--apply-days", action="store_true", help="also apply days 1..D to the sources")
    args = ap.parse_args(argv)
    try:
        m = write_council(args.out, SynthSettings(args.people, args.days, args.seed, args.url, args.event_rate),
                          progress=lambda step, i, n: print(f"[{i}/{n}] {step}", file=sys.stderr))
        print(f"{m.people} people in {m.households} households; {m.properties} properties, {m.lpis} LPIs, {m.streets} streets")
        for name, n in m.rows.items():
            print(f"  {name:20s} {n:>9,d} rows")
        print(f"  events: {m.events}")
        print(f"  written in {m.seconds:.1f} s to {m.out_dir}")
        if args.apply_days:
            for day in range(1, args.days + 1):
                apply_day(args.out, day)
    except SynthError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
