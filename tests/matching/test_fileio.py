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


def test_a_windows_export_with_semicolons_reads_as_a_comma_file_does(tmp_path: Path) -> None:
    """Excel on a UK council PC: Windows-1252, a byte-order mark, semicolons, "NULL" for a missing value."""
    comma, excel = tmp_path / "comma.csv", tmp_path / "excel.csv"
    rows = [dict(r, surname="O'Léary") for r in ROWS]
    pd.DataFrame(rows).to_csv(comma, index=False, encoding="utf-8")
    text = pd.DataFrame(rows).fillna("NULL").to_csv(index=False, sep=";")
    excel.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    outs = []
    for src in (comma, excel):
        out = tmp_path / f"{src.stem}_clusters.csv"
        match_people_file(src, column_map=parse_column_map(MAP), out_csv=out, settings=MatchSettings(u_sample_pairs=100))
        clusters = pd.read_csv(out, dtype=str)
        outs.append(clusters.assign(unique_id=clusters.unique_id.str.split(":").str[1]))
    pd.testing.assert_frame_equal(outs[0].drop(columns="cluster_id"), outs[1].drop(columns="cluster_id"))
    assert outs[1].groupby("cluster_id").size().sort_values().tolist() == [1, 2]


def test_a_row_with_too_many_values_is_named_by_its_line(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text("id,given,surname\n1,Ann,Lee\n2,Bob,Ray,extra\n")
    with pytest.raises(InputError, match=r"p.csv line 3: 4 values for 3 columns"):
        match_people_file(src, column_map={"source_key": "id", "first_name": "given"}, out_csv=tmp_path / "o.csv")
