"""Standardisers: names, dates, NINO, phones, emails, postcodes, addresses, UPRNs."""

from __future__ import annotations

import pandas as pd
import pytest

from matching.errors import InputError
from matching.names import canonical_surname, parse_full_name, related_names
from matching.standardise import (
    standardise_address,
    standardise_date,
    standardise_email,
    standardise_nino,
    standardise_people,
    standardise_phone,
    standardise_postcode,
    standardise_uprn,
)


def test_full_name_forms_are_parsed() -> None:
    parsed = parse_full_name(
        pd.Series(["SMITH, JOHN A", "Mr J Smith", "Dr. Anna Maria van der Berg", "John Adam Smith Jr", "O'Brien, Mrs Mary",
                   "Paula Miller", "BROWN James", "HAMILTON BARRY W"])
    )
    assert parsed[["first_name", "middle_names", "last_name"]].values.tolist() == [
        ["john", "a", "smith"],
        ["j", None, "smith"],
        ["anna", "maria", "van der berg"],
        ["john", "adam", "smith"],
        ["mary", None, "obrien"],
        ["paula", None, "miller"],  # "la" is a surname particle only as a whole word
        ["james", None, "brown"],  # a capitalised surname first
        ["barry", "w", "hamilton"],  # a legacy export: surname, forename, initial
    ]
    assert parsed["title"].tolist() == [None, "mr", "dr", None, "mrs", None, None, None]
    assert parsed["name_suffix"].tolist() == [None, None, None, "jr", None, None, None, None]


def test_suffix_written_with_the_surname_before_the_comma() -> None:
    parsed = parse_full_name(pd.Series(["ANDERSON SNR, HENRY", "SMITH JNR, MR JOHN", "SMITH, JOHN JR"]))
    assert parsed[["first_name", "last_name", "name_suffix"]].values.tolist() == [
        ["henry", "anderson", "sr"],
        ["john", "smith", "jr"],
        ["john", "smith", "jr"],
    ]


def test_surname_variants_fold_together() -> None:
    got = canonical_surname(pd.Series(["macdonald", "mcdonald", "mackenzie", "mack", "smith-jones", "saint john"]))
    assert got.tolist() == ["mcdonald", "mcdonald", "mckenzie", "mack", "smith jones", "st john"]


def test_people_names_from_parts_and_full_name() -> None:
    records = pd.DataFrame(
        {
            "unique_id": ["a:1", "a:2", "a:3"],
            "first_name": ["Mr John Paul", None, "J."],
            "last_name": ["MacDonald Snr", None, "Smith-Jones"],
            "full_name": [None, "SMITH, MARY", None],
        }
    )
    out = standardise_people(records)
    assert out["first_name"].tolist() == ["john", "mary", "j"]
    assert out["middle_names"].tolist() == ["paul", None, None]
    assert out["last_name"].tolist() == ["mcdonald", "smith", "smith jones"]
    assert out["title"].tolist() == ["mr", None, None]
    assert out["name_suffix"].tolist() == ["sr", None, None]
    assert out["first_initial"].tolist() == ["j", "m", "j"]
    assert out["last_metaphone"].iloc[2] == out["last_metaphone"].iloc[1]  # "smith jones" blocks with "smith"


def test_nicknames_come_from_the_maintained_list() -> None:
    assert "robert" in related_names("bob")
    assert "margaret" in related_names("peggy")


@pytest.mark.parametrize(
    "raw",
    ["1980-03-15", "15/03/1980", "15-03-1980", "15.03.1980", "19800315", "15 Mar 1980", "15th March 1980",
     "March 15, 1980", "1980/03/15", "15/03/80", "1980-03-15 00:00:00", "03/15/1980"],
)  # fmt: skip
def test_dates_in_many_formats(raw: str) -> None:
    assert standardise_date(pd.Series([raw])).tolist() == ["1980-03-15"]


def test_invalid_and_future_dates_are_missing() -> None:
    assert standardise_date(pd.Series(["31/02/1980", "2999-01-01", "not a date", None, "1700-01-01"])).tolist() == [None] * 5


def test_nino_validation() -> None:
    got = standardise_nino(pd.Series(["AB 12 34 56 C", "ab123456", "QQ123456C", "GB123456A", "AO123456A", "AB12345"]))
    assert got.tolist() == ["AB123456", "AB123456", None, None, None, None]


def test_phones() -> None:
    got = standardise_phone(pd.Series(["+44 7700 900123", "0044 (0)20 7946 0018", "7700900123", "00000000000", "12"]))
    assert got.tolist() == ["07700900123", "02079460018", "07700900123", None, None]


def test_emails() -> None:
    got = standardise_email(pd.Series(["Ann.Lee+news@googlemail.com", " ANN@Example.org ", "ann@", None]))
    assert got.tolist() == ["annlee@gmail.com", "ann@example.org", None, None]


def test_postcodes() -> None:
    got = standardise_postcode(pd.Series(["sw1a 1aa", "M11AE", " b33 8th ", "4350", None]))
    assert got["postcode"].tolist() == ["SW1A 1AA", "M1 1AE", "B33 8TH", "4350", None]
    assert got["postcode_sector"].tolist() == ["SW1A 1", "M1 1", "B33 8", None, None]


def test_addresses_from_text_or_parts() -> None:
    text = standardise_address(pd.DataFrame({"address": ["Flat 2, 12 High St., LS1 4AB", "2/12 High Street"]}))
    assert text["address"].tolist() == ["flat 2 12 high street", "2 12 high street"]
    assert text["address_numbers"].tolist() == ["2 12", "2 12"]
    parts = standardise_address(pd.DataFrame({"house_number": ["12A"], "street": ["Rose Cres"], "town": ["Leeds"]}))
    assert parts["address"].tolist() == ["12a rose crescent leeds"]


def test_uprn() -> None:
    assert standardise_uprn(pd.Series(["000100023336956", "100023336956.0", "abc", None])).tolist() == [
        "100023336956", "100023336956", None, None,
    ]  # fmt: skip


def test_unique_id_is_required_and_unique() -> None:
    with pytest.raises(InputError):
        standardise_people(pd.DataFrame({"first_name": ["a"]}))
    with pytest.raises(InputError):
        standardise_people(pd.DataFrame({"unique_id": ["a:1", "a:1"]}))
