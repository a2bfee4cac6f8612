"""Matcher: historical LPIs, never a wrong flat in the auto band, fuzzy street when the postcode is missing."""

from __future__ import annotations

import pandas as pd
import pytest

import gazetteer_fixtures as F
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


SCOT = """uprn,address,postcode
600,"GREEN TERRACE, PARTICK, GLASGOW",G11 1AA
601,"FLAT 1/1, 22 GREEN TERRACE, PARTICK, GLASGOW",G11 1AA
610,"22 GREEN TERRACE, DENNISTOUN, GLASGOW",G31 2BB
611,"FLAT 1/2, 22 GREEN TERRACE, DENNISTOUN, GLASGOW",G31 2BB
620,"FLAT 0/1, THE BARN, IVY TERRACE, DUNDEE",DD6 6XT
621,"FLAT 1/2, THE BARN, IVY TERRACE, DUNDEE",DD6 6XT
630,"FLAT 2, 18 OAK ROAD, EDINBURGH",EH1 3ZQ
631,"FLAT 12, 18 OAK ROAD, EDINBURGH",EH1 3ZQ
640,"FLAT 2, 1 HILL LANE, YORK",YO9 1YD
641,"12 HILL LANE, YORK",YO9 1YD
"""


@pytest.fixture(scope="module")
def scot(tmp_path_factory) -> AddressMatcher:
    p = tmp_path_factory.mktemp("scot") / "g.csv"
    p.write_text(SCOT)
    return AddressMatcher(read_gazetteer(p))


def test_building_name_without_building_word_before_known_street(scot):
    r = _one(scot, "1/2 The Barn Ivy Terrace Dundee DD6 6XT")
    assert (r[M.uprn], r[M.band]) == (621, Band.AUTO)


def test_slipped_space_in_street(scot):
    r = _one(scot, "Flat 12, 18 OAKROAD, EH1 3ZQ")
    assert (r[M.uprn], r[M.band]) == (631, Band.AUTO)
    assert _one(scot, "Flat 2 18 Oak Rd Edinburgh")[M.uprn] == 630  # and the plain form still works


def test_flat_number_never_joins_house_number(scot):
    # flat 2 at number 1 must not be read as number 12
    r = _one(scot, "apt 2, 1 hill ln, yo9 1yd")
    assert r[M.uprn] == 640
    r = _one(scot, "apt 3, 1 hill ln, yo9 1yd")  # no flat 3 at 1: never 12 Hill Lane in the auto band
    assert not (r[M.band] == Band.AUTO and r[M.uprn] == 641)


def test_street_in_several_places_is_never_auto_without_postcode_or_locality(scot):
    # Only Dennistoun's Green Terrace has a flat 1/2, but nothing says which Green Terrace is meant.
    r = _one(scot, "1/2, 22 Green Terrace, Glasgow")
    assert r[M.band] != Band.AUTO and "street in several places" in r[M.reason]
    assert _one(scot, "1/2, 22 Green Terrace, Dennistoun, Glasgow")[M.band] == Band.AUTO
    assert _one(scot, "1/2/22 Green Terrace, Glasgow G31 2BB")[[M.uprn, M.band]].tolist() == [611, Band.AUTO]


def _rebuilt(tmp_path, old_status: int, old_state: int):
    """A demolished / historical house (300) and the property now at the same address (301)."""
    lines = F.ABP_NEW.splitlines()
    keep = [ln for ln in lines if ln[:3] in ("10,", "11,", "15,")]
    blpu = '21,"I",{k},{u},{s},{st},2000-01-01,,430000,433000,53.8,-1.5,1,4720,"E",2000-01-01,,2020-01-01,2000-01-01,"D","LS1 1AA",0'
    lpi = '24,"I",{k},{u},"4720L00{u}","ENG",1,2000-01-01,,2020-01-01,2000-01-01,,,,,"",5,,,,"",7001,1,"",,"Y"'
    body = [blpu.format(k=90, u=300, s=old_status, st=old_state), blpu.format(k=91, u=301, s=1, st=2),
            lpi.format(k=92, u=300), lpi.format(k=93, u=301)]
    p = tmp_path / f"rebuilt_{old_status}_{old_state}.csv"
    p.write_text("\n".join(keep + body + ["99,4,0,2024-01-01,10:00:00"]) + "\n")
    return AddressMatcher(read_gazetteer(p))


@pytest.mark.parametrize("status,state", [(8, 4), (9, 2), (1, 4)])
def test_in_use_property_preferred_over_retired_one_when_tied(tmp_path, status, state):
    r = _one(_rebuilt(tmp_path, status, state), "5 High Street, Leeds LS1 1AA")
    # the property there now is returned; review, since a source may still hold the retired UPRN
    assert (r[M.uprn], r[M.band]) == (301, Band.REVIEW)
    assert "in-use property preferred over a retired one" in r[M.reason]


def test_two_live_properties_at_one_address_stay_ambiguous(tmp_path):
    r = _one(_rebuilt(tmp_path, 1, 2), "5 High Street, Leeds LS1 1AA")
    assert r[M.band] != Band.AUTO and "preferred" not in r[M.reason]


def test_slip_inside_street_type_found_in_unpunctuated_text(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text('uprn,address,postcode\n700,"14 MAPLE DRIVE, EPSOM",KT17 2YN\n701,"16 MAPLE DRIVE, EPSOM",KT17 2YN\n'
                 '702,"14 OAK AVENUE, EPSOM",KT17 3AB\n')
    r = _one(AddressMatcher(read_gazetteer(p)), "14 maple drvie epsom")  # no postcode, no comma, type misspelt
    assert r[M.uprn] == 700 and r[M.band] != Band.NONE
