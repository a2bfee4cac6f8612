"""Chunked supplies: a zip or a folder of CSV chunks reads like the single file, with per-chunk lines."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

import gazetteer_fixtures as F
from gazetteer import FormatError, read_gazetteer
from gazetteer.readers import members
from schemas.columns import LpiFrame as L

LINES = F.ABP_NEW.splitlines(keepends=True)
LPI_HEADER = ("RECORD_IDENTIFIER,CHANGE_TYPE,PRO_ORDER,UPRN,LPI_KEY,LANGUAGE,LOGICAL_STATUS,START_DATE,END_DATE,"
              "LAST_UPDATE_DATE,ENTRY_DATE,SAO_START_NUMBER,SAO_START_SUFFIX,SAO_END_NUMBER,SAO_END_SUFFIX,SAO_TEXT,"
              "PAO_START_NUMBER,PAO_START_SUFFIX,PAO_END_NUMBER,PAO_END_SUFFIX,PAO_TEXT,USRN,USRN_MATCH_INDICATOR,"
              "AREA_NAME,LEVEL,OFFICIAL_FLAG\n")


def _chunks() -> dict[str, str]:
    """The fixture supply split as OS ships it: header, two data chunks (10 sorts after 2), trailer."""
    body = LINES[1:-1]
    return {"abp_header.csv": LINES[0], "abp_2.csv": "".join(body[:12]), "abp_10.csv": "".join(body[12:]),
            "abp_trailer.csv": LINES[-1]}


def _same(a, b) -> None:
    assert (a.rows_read, a.rows_loaded, a.counts) == (b.rows_read, b.rows_loaded, b.counts)
    key = [L.lpi_key]
    pd.testing.assert_frame_equal(a.lpis.sort_values(key).reset_index(drop=True),
                                  b.lpis.sort_values(key).reset_index(drop=True))
    assert sorted(a.properties["uprn"]) == sorted(b.properties["uprn"])


def test_zip_of_chunks_reads_like_the_single_file(gaz_files, tmp_path):
    z = tmp_path / "abp.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, body in _chunks().items():
            zf.writestr(f"supply/{name}", body)
        zf.writestr("supply/readme.pdf", b"%PDF")  # not a CSV: ignored
    assert [m.name for m in members(z)] == ["supply/abp_2.csv", "supply/abp_10.csv", "supply/abp_header.csv",
                                            "supply/abp_trailer.csv"]
    whole, chunked = read_gazetteer(gaz_files["abp_new"]), read_gazetteer(z)
    _same(whole, chunked)
    assert chunked.reconciles and chunked.files["rows"].sum() == chunked.rows_read
    # a rejected row names its chunk and its line within that chunk
    bad = chunked.rejects.set_index("key").loc["ABC"]
    assert (bad["file"], bad["line"]) == ("supply/abp_2.csv", 9)
    assert whole.rejects.set_index("key").loc["ABC", "line"] == 10


def test_folder_with_separate_column_header_file(gaz_files, tmp_path):
    d = tmp_path / "abp"
    d.mkdir()
    for name, body in _chunks().items():
        (d / name).write_text(body)
    (d / "Record_24_LPI_Header.csv").write_text(LPI_HEADER)
    g = read_gazetteer(d)
    whole = read_gazetteer(gaz_files["abp_new"])
    _same(whole, g)  # the header line is neither data nor a reject
    assert g.rejects["reason"].tolist() == whole.rejects["reason"].tolist()


def test_header_file_names_the_fields(tmp_path):
    # A supply whose LPI layout this reader does not know: an extra column in the middle, named by its header.
    d = tmp_path / "abp"
    d.mkdir()
    head = LPI_HEADER.replace("LANGUAGE,", "LANGUAGE,NEW_FIELD,")
    (d / "Record_24_LPI_Header.csv").write_text(head)
    lpi = [ln for ln in LINES if ln.startswith("24,") and '"I"' in ln][0]
    fields = lpi.rstrip("\n").split(",")
    (d / "data.csv").write_text(LINES[0] + ",".join(fields[:6] + ["x"] + fields[6:]) + "\n" + LINES[-1])
    g = read_gazetteer(d)
    assert g.lpis[L.pao_start_number].tolist() == [12]


def test_successor_records(tmp_path):
    p = tmp_path / "abp.csv"
    p.write_text(LINES[0] + '30,"I",40,100,"4720S000001",2020-01-01,,2020-01-01,2020-01-01,200\n'
                 '30,"I",41,101,"4720S000002",2020-01-01,,2020-01-01,2020-01-01,NOPE\n' + "".join(LINES[1:]))
    g = read_gazetteer(p)
    assert g.successors[["uprn", "successor_uprn"]].values.tolist() == [[100, 200]]
    assert (g.rejects["field"] == "SUCCESSOR").sum() == 1 and g.reconciles


def test_flat_csv_chunks_are_refused_but_one_zipped_flat_csv_reads(gaz_files, tmp_path):
    z = tmp_path / "plus.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(gaz_files["abplus"], "a.csv")
    assert len(read_gazetteer(z).lpis) == len(read_gazetteer(gaz_files["abplus"]).lpis)
    with zipfile.ZipFile(z, "a") as zf:
        zf.write(gaz_files["abplus"], "b.csv")
    with pytest.raises(FormatError, match="one at a time"):
        read_gazetteer(z)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FormatError, match="no CSV"):
        read_gazetteer(empty)
