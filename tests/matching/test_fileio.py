"""match_people_file: CSV in, clusters (and scored pairs) out, with a column map and an optional link file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching import InputError, MatchSettings, match_people_file, parse_column_map

ROWS = [
    {"id": "1", "given": "Ann", "surname": "Lee", "dob": "01/02/1970", "pc": "LS1 4AB", "ni": "JK482913C"},
    {"id": "2", "given": "Anne", "surname": "Lee", "dob": "1970-02-01", "pc": "LS1 4AB", "ni": "JK482913C"},
    {"id": "3", "given": "Tom", "surname": "Ray", "dob": "1999-09-09", "pc": "M1 1AE", "ni": None},
]
MAP = "source_key=id,first_name=given,last_name=surname,date_of_birth=dob,postcode=pc,nino=ni"


def test_dedupe_one_file(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    pd.DataFrame(ROWS).to_csv(src, index=False)
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    match_people_file(src, column_map=parse_column_map(MAP), out_csv=out, pairs_csv=pairs, settings=MatchSettings(u_sample_pairs=100))
    clusters = pd.read_csv(out, dtype=str)
    assert list(clusters.columns) == ["unique_id", "cluster_id"]
    c = clusters.set_index("unique_id").cluster_id
    assert c["people:1"] == c["people:2"] != c["people:3"]
    scored = pd.read_csv(pairs)
    assert {"match_probability", "band"} <= set(scored.columns)
    assert (scored.band == "auto").any()


def test_link_two_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(ROWS[:1] + ROWS[2:]).to_csv(a, index=False)
    pd.DataFrame(ROWS[1:2]).to_csv(b, index=False)
    out = tmp_path / "clusters.csv"
    match_people_file(a, link_csv=b, column_map=parse_column_map(MAP), out_csv=out, settings=MatchSettings(u_sample_pairs=100))
    c = pd.read_csv(out, dtype=str).set_index("unique_id").cluster_id
    assert c["input:1"] == c["link:2"]


def test_bad_map_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    pd.DataFrame(ROWS).to_csv(src, index=False)
    with pytest.raises(InputError, match="nope"):
        match_people_file(src, column_map={"first_name": "nope"}, out_csv=tmp_path / "o.csv")
    with pytest.raises(InputError):
        parse_column_map("first_name")

