"""Time reading a city-sized (~1.5M LPI) AddressBase Premium file into frames and building the match index.

Run: ``nice python benchmarks/gazetteer/bench_load.py [STREETS]`` (default 20,000 streets ≈ 1.5M LPIs).
Appends a section to benchmarks/gazetteer/results.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))
from flatgen import GenSettings, generate, write_abp  # noqa: E402

from gazetteer import AddressMatcher, read_gazetteer  # noqa: E402

if __name__ == "__main__":
    n_streets = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    out = Path("/tmp/gazbench_load")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "city_abp.csv"
    t = time.perf_counter()
    streets, props, lpis = generate(GenSettings(streets=n_streets, seed=5, holdout_share=0.0))
    write_abp(path, streets, props, lpis, extras=True)
    gen_s = time.perf_counter() - t
    size_mb = path.stat().st_size / 1e6
    del streets, props, lpis
    t, c = time.perf_counter(), time.process_time()
    g = read_gazetteer(path)
    read_s, read_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    AddressMatcher(g)
    index_s, index_cpu = time.perf_counter() - t, time.process_time() - c
    load = open("/proc/loadavg").read().split()[:3]
    n_lpi = int((g.lpis["kind"] == "lpi").sum())
    n_paf = int((g.lpis["kind"] == "paf").sum())
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    section = f"""
## Gazetteer load: city-sized AddressBase Premium ({date})

Command: `nice python benchmarks/gazetteer/bench_load.py {n_streets}` · machine: 2 cores / 24 GiB, shared with
other helpers' work running at the same time.

| file | rows read | LPIs (24) | PAF (28) | properties | rejects | read into frames: wall (CPU) | build match index: wall (CPU) |
|---|---|---|---|---|---|---|---|
| {size_mb:.0f} MB generated ABP (record types 10,11,15,21,23,24,28,32,99) | {g.rows_read:,} | {n_lpi:,} | {n_paf:,} | {len(g.properties):,} | {len(g.rejects)} | **{read_s:.1f} s** ({read_cpu:.1f} s) | {index_s:.1f} s ({index_cpu:.1f} s) |

Load average at the end of the run: {" ".join(load)} (2 cores): wall times include waiting for the CPU
other helpers were using; CPU seconds are this process's own (reading is single-threaded).

Reconciles (rows read = loaded + rejected): {g.reconciles}. Generating the file took {gen_s:.0f} s (not counted).
"""
    print(section)
    with open(HERE / "results.md", "a") as fh:
        fh.write(section)
