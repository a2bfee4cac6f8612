"""What the data-quality gates and the report add to a nightly run: the whole job on a synthetic council, timed per step.

Run by hand:  nice python benchmarks/quality/gates_cost.py --people 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from dagster import DagsterInstance

from pipelines.definitions import build_definitions
from schemas.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from synthetic import SynthSettings, write_council

    out = Path(tempfile.mkdtemp(prefix="dq-bench-"))
    write_council(out, SynthSettings(people=args.people, seed=args.seed))
    config_path = out / "hub.yaml"
    for night in (1, 2):
        defs = build_definitions(load_config(config_path), config_path)
        started = time.perf_counter()
        instance = DagsterInstance.ephemeral()
        result = defs.resolve_job_def("nightly_sync").execute_in_process(instance=instance, raise_on_error=False)
        total = time.perf_counter() - started
        steps: dict[str, float] = defaultdict(float)
        begin: dict[str, float] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                begin[event.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in begin:
                steps[event.step_key] += entry.timestamp - begin[event.step_key]
        quality = sum(v for k, v in steps.items() if k.endswith(("_suite", "dq_report")))
        print(f"night {night}: success={result.success} total {total:.1f} s, quality steps {quality:.1f} s")
        for key, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
            print(f"  {key:45s} {seconds:6.2f} s")
    print(f"report: {out / 'reports' / 'dq' / 'index.html'}")


if __name__ == "__main__":
    main()
