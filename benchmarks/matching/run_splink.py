"""Splink 5 worker for bench_people.py (runs in benchmarks/.venv-splink): predict, cluster, report time and memory.

Usage: .venv-splink/bin/python run_splink.py DATASET INPUT.pkl OUT_CLUSTERS.csv
Settings follow Splink's own examples: docs/demos/examples/duckdb/febrl4 and febrl3 for FEBRL, and
deduplicate_50k_synthetic (person data) for the council. Clusters are written at the examples' threshold (0.99)
and, to OUT_CLUSTERS with ".t05" before the suffix, at match probability 0.5 (where Splink's FEBRL4 F1 peaks
near the 0.9991 its accuracy analysis reports); the time is that of the documented 0.99 run.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from common import peak_mib  # this folder is on sys.path when run as a script


def febrl4(frames: list[pd.DataFrame]) -> tuple[Linker, float]:
    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                     invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(f) for f in frames], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    return linker, 0.99


def febrl3(frames: list[pd.DataFrame]) -> tuple[Linker, float]:
    blocking_rules = [
        block_on("soc_sec_id"),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frames[0]), settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    return linker, 0.99


def _bounded_connection() -> duckdb.DuckDBPyConnection:
    """DuckDB limited to 60 % of the memory available at start (spilling to disk beyond it): its default, 80 % of
    *total* memory, got the 1M run killed by the kernel while other work shared the machine."""
    con = duckdb.connect()
    with open("/proc/meminfo", encoding="ascii") as fh:
        available_kib = next(int(line.split()[1]) for line in fh if line.startswith("MemAvailable:"))
    con.execute(f"SET memory_limit = '{int(available_kib * 0.6 / 1024)}MB'")
    return con


def council(frames: list[pd.DataFrame]) -> tuple[Linker, float]:
    """Person data the way Splink's deduplicate_50k_synthetic example does it, with the council's identifiers."""
    blocking_rules = [
        block_on("uprn"),
        block_on("substr(first_name,1,3)", "substr(surname,1,4)"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
        block_on("postcode", "first_name"),
        block_on("postcode", "surname"),
        block_on("nino"),
        block_on("email"),
        block_on("phone"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "surname",
                                         forename_surname_concat_col_name="first_name_surname_concat"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("uprn"),
            cl.ExactMatch("nino"),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI(connection=_bounded_connection())
    df = db_api.duckdb_con.from_df(frames[0]).project("*, first_name || ' ' || surname as first_name_surname_concat")
    linker = Linker(db_api.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("nino"), block_on("dob", "postcode")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), estimate_without_term_frequencies=True
    )
    return linker, 0.99


def main() -> None:
    dataset, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    frames = pd.read_pickle(src)
    t0 = time.perf_counter()
    linker, threshold = {"febrl4": febrl4, "febrl3": febrl3}.get(dataset, council)(frames)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=threshold)
    result = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").df()
    seconds = time.perf_counter() - t0
    peak = peak_mib()  # before the extra 0.5 clustering
    result.to_csv(out, index=False)
    low = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=0.5)
    low.as_duckdbpyrelation().select("unique_id, cluster_id").df().to_csv(out.replace(".csv", ".t05.csv"), index=False)
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "duckdb": duckdb.__version__}))


if __name__ == "__main__":
    main()
