"""Format readers: each format, rejects with line and reason, reconciled counts, deletions."""

from __future__ import annotations

import pandas as pd
import pytest

from gazetteer import FormatError, detect_format, read_gazetteer
from schemas.columns import LpiFrame, PropertyFrame, RejectFrame, StreetFrame


@pytest.mark.parametrize("name,fmt", [("abp_new", "abp"), ("abp_old", "abp"), ("dtf73", "dtf73"),
                                      ("abplus", "abplus"), ("minimal", "minimal")])
def test_detects_format_and_columns(gaz_files, name, fmt):
    assert detect_format(gaz_files[name]) == fmt
    g = read_gazetteer(gaz_files[name])
    assert g.fmt == fmt
    assert tuple(g.lpis.columns) == LpiFrame.COLUMNS
    assert tuple(g.properties.columns) == PropertyFrame.COLUMNS
    assert tuple(g.streets.columns) == StreetFrame.COLUMNS
    assert tuple(g.rejects.columns) == RejectFrame.COLUMNS
    assert g.reconciles, (g.rows_read, g.rows_loaded, len(g.rejects))


def test_abp_new_layout_reads_every_record_type(gaz_files):
    g = read_gazetteer(gaz_files["abp_new"])
    props = g.properties.set_index(PropertyFrame.uprn)
    assert sorted(props.index) == [100, 101, 102, 103]
    assert props.loc[101, PropertyFrame.parent_uprn] == 100
    assert props.loc[100, PropertyFrame.classification] == "CR01"  # from record 32
    assert props.loc[100, PropertyFrame.postcode] == "LS1 1AA"
    lp = g.lpis.set_index(LpiFrame.lpi_key)
    assert lp.loc["4720L000002", LpiFrame.sao_text] == "FLAT 1"
    assert lp.loc["4720L000001", LpiFrame.pao_end_number] == 14
    assert lp.loc["4720L000001", LpiFrame.organisation] == "ACME WIDGETS LTD"  # from record 31
    assert lp.loc["4720L000005", LpiFrame.logical_status] == 8  # historical kept
    assert lp.loc["4720L000004", LpiFrame.locality] == "HEADINGLEY"  # street descriptor 15
    assert lp.loc["4720L000004", LpiFrame.postcode] == "LS6 2BB"  # from the BLPU
    paf = g.lpis[g.lpis[LpiFrame.kind] == "paf"]
    assert list(paf[LpiFrame.uprn]) == [103] and paf[LpiFrame.pao_text].iloc[0] == "ROSE COTTAGE"
    assert g.counts["28"] == 1 and g.counts["23"] == 1


def test_abp_old_shorter_layout(gaz_files):
    g = read_gazetteer(gaz_files["abp_old"])
    props = g.properties.set_index(PropertyFrame.uprn)
    assert props.loc[101, PropertyFrame.postcode] == "LS1 1AA"  # field 18 of 19, not 21 of 22
    assert props.loc[101, PropertyFrame.easting] == 430001.0
    lp = g.lpis.set_index(LpiFrame.lpi_key)
    assert lp.loc["4720L000002", LpiFrame.sao_start_number] == 2
    assert lp.loc["4720L000002", LpiFrame.address].startswith("2A, 12 HIGH STREET")


def test_bad_rows_rejected_with_line_and_reason(gaz_files):
    g = read_gazetteer(gaz_files["abp_new"])
    rej = g.rejects.set_index(RejectFrame.line)
    assert rej.loc[10, RejectFrame.reason] == "non-numeric UPRN"
    assert rej.loc[11, RejectFrame.reason] == "impossible coordinates"
    assert rej.loc[12, RejectFrame.reason] == "malformed postcode"
    assert rej.loc[24, RejectFrame.reason] == "unknown record type"
    assert rej.loc[12, RejectFrame.key] == "105"
    assert g.rows_read == 25 and g.rows_read == g.rows_loaded + len(g.rejects)


def test_change_type_d_captured(gaz_files):
    g = read_gazetteer(gaz_files["abp_new"])
    assert g.deletions.to_dict("records") == [{"table": "lpi", "key_column": "lpi_key", "key": "4720L000999", "line": 23}]
    assert "4720L000999" not in set(g.lpis[LpiFrame.lpi_key])
    old = read_gazetteer(gaz_files["abp_old"])
    assert list(old.deletions["key"]) == ["555"] and 555 not in set(old.properties[PropertyFrame.uprn])
    plus = read_gazetteer(gaz_files["abplus"])
    assert list(plus.deletions["key"]) == ["302"]


def test_dtf73_postcode_and_class_on_records(gaz_files):
    g = read_gazetteer(gaz_files["dtf73"])
    props = g.properties.set_index(PropertyFrame.uprn)
    assert props.loc[201, PropertyFrame.classification] == "RD06"
    assert props.loc[201, PropertyFrame.postcode] == "LS1 1AB"
    lp = g.lpis.set_index(LpiFrame.lpi_key)
    assert lp.loc["4720L000012", LpiFrame.logical_status] == 3
    assert list(g.rejects[RejectFrame.reason]) == ["malformed postcode"]


def test_abplus_and_minimal(gaz_files):
    plus = read_gazetteer(gaz_files["abplus"])
    assert set(plus.lpis[LpiFrame.kind]) == {"lpi", "paf"}
    assert list(plus.rejects[RejectFrame.key]) == ["X1"]
    mini = read_gazetteer(gaz_files["minimal"])
    lp = mini.lpis.set_index(LpiFrame.uprn)
    assert lp.loc[400, LpiFrame.sao_text] == "FLAT 2"
    assert lp.loc[400, LpiFrame.pao_start_number] == 12
    assert lp.loc[401, LpiFrame.pao_text] == "ROSE COTTAGE"
    assert sorted(mini.rejects[RejectFrame.reason]) == ["malformed postcode", "non-numeric UPRN"]


def test_coordinates_sane(gaz_files):
    p = read_gazetteer(gaz_files["abp_new"]).properties
    assert p[PropertyFrame.latitude].between(53.7, 53.9).all()  # Leeds
    assert p[PropertyFrame.longitude].between(-1.6, -1.5).all()


def test_unreadable_file_raises(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError):
        read_gazetteer(bad)


def test_wrong_field_count_rejected(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text('10,"OS AddressBase Premium",9999,2024-01-01,1,2024-01-01,10:00:00,1.0,"F"\n21,"I",1,100\n')
    g = read_gazetteer(p)
    assert "too few fields" in g.rejects[RejectFrame.reason].iloc[0] and g.reconciles
    assert isinstance(g.properties, pd.DataFrame) and g.properties.empty
