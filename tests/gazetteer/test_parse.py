"""Address parser and postcode normaliser: each flat form, ranges, suffixes, postcodes, organisations; fuzzing."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazetteer import normalise_postcode, parse_address, parse_addresses, sao_key


@pytest.mark.parametrize("text,sao,pao", [
    ("Flat 2, 12 High St, Leeds", "2", 12),
    ("Flat A, 12 High Street", "A", 12),
    ("2A, 12 High Street", "2A", 12),
    ("Apartment 3, 4 Mill Lane", "3", 4),
    ("Apt 3 4 Mill Lane", "3", 4),
    ("Basement Flat, 22 Church Rd, Bath", "FL:B", 22),
    ("Ground Floor Flat 22 Church Road", "FL:G", 22),
    ("First Floor Flat, 22 Church Road", "FL:1", 22),
    ("1/2, 15 Main St, Glasgow", "1/2", 15),
    ("Flat 1/2 15 Main Street", "1/2", 15),
    ("2F1 15 Main Street Edinburgh", "2/1", 15),
    ("0/1 15 Main St", "0/1", 15),
    ("G/1, 15 Main St", "0/1", 15),
    ("GF1, 15 Main St", "0/1", 15),
    ("2/12 High St", "2", 12),  # English: flat 2 at number 12
    ("12 High Street Flat 2", "2", 12),
    ("29 Castle Lane, Leeds, 6", "6", 29),  # trailing lone flat number
    ("1/1/1 CHURCH STREET", "1/1", 1),  # Glasgow compact form: flat 1/1 at number 1
    ("2/1/14 Church St, Glasgow", "2/1", 14),
    ("Flat 0/2/23A Main Street", "0/2", 23),
])
def test_flat_forms(text, sao, pao):
    p = parse_address(text)
    assert (p.sao_key, p.pao_start_number) == (sao, pao)


def test_scottish_and_english_forms_share_keys():
    assert sao_key("FLAT 2/1") == sao_key("2F1") == sao_key("2/1")
    assert sao_key("G/1") == sao_key("0/1") == sao_key("GF1") == sao_key("FLAT 0/1")
    assert sao_key("Apartment 3") == sao_key("FLAT 3") == sao_key("3")
    assert sao_key("FLAT 2") != sao_key("FLAT 3")


def test_ranges_and_suffixes():
    p = parse_address("12-14 High St")
    assert (p.pao_start_number, p.pao_end_number) == (12, 14)
    for text in ("12A High St", "12 A High St"):
        p = parse_address(text)
        assert (p.pao_start_number, p.pao_start_suffix, p.street) == (12, "A", "HIGH STREET")


def test_postcode_anywhere_with_or_without_space():
    assert parse_address("12 High St Leeds LS11AB").postcode == "LS1 1AB"
    assert parse_address("LS1 1AB, 12 High St").postcode == "LS1 1AB"
    assert parse_address("12 High St, QQ1 1AA").postcode is None  # invalid area letter


def test_abbreviations_and_saint():
    assert parse_address("12 St Johns Rd").street == "SAINT JOHNS ROAD"
    assert parse_address("3 Mary St, York").street == "MARY STREET"
    assert parse_address("5 Elm Gdns").street == "ELM GARDENS"


def test_building_names_and_organisation():
    p = parse_address("Rose Cottage, Mill Lane, Otley")
    assert (p.pao_text, p.street, p.town, p.pao_start_number) == ("ROSE COTTAGE", "MILL LANE", "OTLEY", None)
    p = parse_address("Acme Widgets Ltd, 12 High St, Leeds")
    assert (p.organisation, p.pao_start_number, p.street) == ("ACME WIDGETS LTD", 12, "HIGH STREET")
    p = parse_address("Flat 2, Rose House, 4 Mill Lane")
    assert (p.sao_key, p.pao_text, p.pao_start_number) == ("2", "ROSE HOUSE", 4)


def test_repeated_town_and_locality():
    p = parse_address("12 High St, Headingley, Leeds, Leeds")
    assert (p.locality, p.town) == ("HEADINGLEY", "LEEDS")


def test_vectorised_parse_keeps_index():
    s = pd.Series(["Flat 2, 12 High St", None, "Flat 2, 12 High St"], index=[5, 6, 7])
    out = parse_addresses(s)
    assert list(out.index) == [5, 6, 7]
    assert list(out["sao_key"]) == ["2", "", "2"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_never_raises(text):
    parse_address(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ABCDEFGHJKLMNOPRSTUWXYZ0123456789 /-,FLAT", max_size=40))
def test_parse_never_raises_on_address_like_text(text):
    p = parse_address(text)
    assert p.postcode is None or normalise_postcode(p.postcode) == p.postcode


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=12), st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True)))
def test_normalise_postcode_is_idempotent(text):
    once = normalise_postcode(text)
    assert once is None or normalise_postcode(once) == once


@pytest.mark.parametrize("text,sao,pao,street", [
    ("near 22 Birch Street, Kirkstyle", "", 22, "BIRCH STREET"),
    ("Outside A/1 Church Rd., Westfield", "A", 1, "CHURCH ROAD"),
    ("C/6 West Church Ln", "C", 6, "WEST CHURCH LANE"),
    ("2 Castle Wharf 3 Harbour Lane York", "2", 3, "HARBOUR LANE"),
    ("The Lodge, Heather Lane, York, 4", "4", None, "HEATHER LANE"),
    ("3/1 Victoria House Heath Avenue", "3/1", None, "HEATH AVENUE"),
])
def test_locators_letter_flats_and_named_blocks(text, sao, pao, street):
    p = parse_address(text)
    assert (p.sao_key, p.pao_start_number, p.street) == (sao, pao, street)


def test_building_name_split_without_commas():
    p = parse_address("1 Albert Court Canal Avenue Kingston upon Thames")
    assert (p.pao_text, p.street, p.town) == ("ALBERT COURT", "CANAL AVENUE", "KINGSTON UPON THAMES")


def test_number_then_weak_typed_building_then_street():
    # "Court", "View", "Wharf" name buildings when a real street follows.
    p = parse_address("7, Queens Court, Elm Way, Armley, Leeds")
    assert (p.pao_start_number, p.pao_text, p.street) == (7, "QUEENS COURT", "ELM WAY")
    p = parse_address("12 Park View, Leeds")  # no street after it: Park View is the street
    assert (p.pao_text, p.street) == ("", "PARK VIEW")
