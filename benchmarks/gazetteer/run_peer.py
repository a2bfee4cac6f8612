"""Run uk-address-matcher 1.5.3 (inside benchmarks/.venv-uam) on CSV inputs; write its best match per input.

Usage: benchmarks/.venv-uam/bin/python run_peer.py CANONICAL.csv MESSY.csv OUT.csv
CANONICAL: unique_id, address_concat, postcode ; MESSY: unique_id, address_concat, postcode (may be empty).
Prints the wall time of matching (excluding CSV reading) as ``PEER_SECONDS=<s>``.
"""

from __future__ import annotations

import sys
import time

import duckdb
from uk_address_matcher import AddressMatcher

canonical_csv, messy_csv, out_csv = sys.argv[1:4]
con = duckdb.connect()
canon = con.read_csv(canonical_csv, all_varchar=True)
messy = con.read_csv(messy_csv, all_varchar=True)
con.register("canon_t", canon)
con.register("messy_t", messy)
canon = con.sql("select unique_id, address_concat, coalesce(postcode, '') as postcode from canon_t")
messy = con.sql("select unique_id, address_concat, coalesce(postcode, '') as postcode from messy_t")
t0 = time.perf_counter()
result = AddressMatcher(canonical_addresses=canon, addresses_to_match=messy, con=con, show_progress=False).match()
rel = result.matches()
rel.write_csv(out_csv)
print(f"PEER_SECONDS={time.perf_counter() - t0:.2f}")
print("COLUMNS=" + ",".join(rel.columns))
