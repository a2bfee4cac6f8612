"""Matcher: historical LPIs, never a wrong flat in the auto band, fuzzy street when the postcode is missing."""

from __future__ import annotations

import pandas as pd
import pytest

from gazetteer import AddressMatcher, MatchInputError, read_gazetteer, to_wgs84, transformation_accuracy
from gazetteer.cli import match_addresses_file
from schemas.columns import AddressMatchFrame as M
from schemas.columns import Band


@pytest.fixture(scope="module")
def matcher(gaz_files) -> AddressMatcher:
    return AddressMatcher(read_gazetteer(gaz_files["abp_new"]))


def _one(matcher, address, postcode=None):
    df = pd.DataFrame({"id": [1], "address": [address], "pc": [postcode]})
    return matcher.match(df, postcode_col="pc" if postcode else None).iloc[0]


def test_output_contract(matcher):
    out = matcher.match(pd.DataFrame({"id": ["a", "b"], "address": ["Flat 2, 12 High St, Leeds LS1 1AA", "nowhere"]}))
    assert tuple(out.columns) == M.COLUMNS and list(out[M.id]) == ["a", "b"]
    assert out[M.score].between(0, 1).all()
    assert out.loc[1, M.band] == Band.NONE and pd.isna(out.loc[1, M.uprn])


def test_exact_flat_is_auto(matcher):
    r = _one(matcher, "Flat 2, 12-14 High St, Leeds LS11AA")
    assert (r[M.uprn], r[M.band]) == (102, Band.AUTO)
    assert "flat agrees" in r[M.reason]


def test_never_auto_matches_a_different_flat(matcher):
    r = _one(matcher, "Flat 3, 12 High Street, Leeds, LS1 1AA")  # no flat 3 in the gazetteer
    assert r[M.band] != Band.AUTO
    assert pd.isna(r[M.uprn]) or r[M.uprn] not in (101, 102)


def test_historical_address_returns_property_and_says_so(matcher):
    r = _one(matcher, "3 Saint Johns Road, Headingley, Leeds", "LS6 2BB")
    assert r[M.uprn] == 103
    assert "historical" in r[M.reason]


def test_missing_postcode_uses_fuzzy_street(matcher):
    r = _one(matcher, "Rose Cottage, St Jonhs Rd, Leeds")  # typo in the street, no postcode
    assert r[M.uprn] == 103


def test_postcode_column_overrides_text(matcher):
    r = _one(matcher, "Flat 1, 12 High Street, Leeds", "ls11aa")
    assert r[M.uprn] == 101 and "postcode" in r[M.reason]


def test_missing_column_raises(matcher):
    with pytest.raises(MatchInputError):
        matcher.match(pd.DataFrame({"id": [1]}))


def test_scottish_flat_forms_match_dtf(gaz_files):
    m = AddressMatcher(read_gazetteer(gaz_files["dtf73"]))
    for text in ("2F1, 5 High Street, Leeds LS1 1AB", "Flat 2/1 5 High St LS1 1AB"):
        assert _one(m, text)[M.uprn] == 201


def test_cli_function_writes_one_row_per_input(gaz_files, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"ref": ["x", "y"], "addr": ["Flat 1, 12 High St, Leeds", "Rose Cottage, St Johns Rd"],
                  "pc": ["LS1 1AA", ""]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    counts = match_addresses_file(src, out, gaz_files["abp_new"], "ref", "addr", "pc", 0.99, 0.8)
    res = pd.read_csv(out)
    assert list(res.columns) == list(M.COLUMNS) and len(res) == 2 and sum(counts.values()) == 2


def test_coordinates_and_accuracy_statement():
    lat, lon = to_wgs84([530000.0, float("nan")], [180000.0, 1.0])
    assert abs(lat[0] - 51.504) < 0.001 and abs(lon[0] + 0.128) < 0.001
    assert pd.isna(lat[1])
    assert "OSTN15" in transformation_accuracy() or "Helmert" in transformation_accuracy()


def test_empty_and_missing_addresses(matcher):
    assert matcher.match(pd.DataFrame({"id": [], "address": []})).empty
    out = matcher.match(pd.DataFrame({"id": [1, 2], "address": [None, ""]}))
    assert list(out[M.band]) == [Band.NONE, Band.NONE]


def test_suffix_matches_flat_letter(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("uprn,address,postcode\n500,\"Flat A, 12 Mill Lane, Otley\",LS21 3AB\n"
                 "501,\"Flat B, 12 Mill Lane, Otley\",LS21 3AB\n502,\"14 Mill Lane, Otley\",LS21 3AB\n")
    m = AddressMatcher(read_gazetteer(p))
    assert _one(m, "12A Mill Lane, Otley LS21 3AB")[M.uprn] == 500
    assert _one(m, "12 B Mill Lane, Otley LS21 3AB")[M.uprn] == 501
