"""Placeholder values ("UNKNOWN", "THE OCCUPIER", 01/01/1900, "NO FIXED ABODE", noemail@...) are no evidence, and a
pair that shares no name is never merged automatically."""

from __future__ import annotations

import pandas as pd
import pytest

from matching import MatchSettings, link_people, standardise_people
from matching.model import FellegiSunterModel
from matching_fixtures import people

HOME = {"uprn": "100", "postcode": "LS1 4AB", "address": "1 Oak Road"}


def test_placeholders_become_missing_and_real_values_stay() -> None:
    recs = people([
        {"full_name": "THE OCCUPIER", "date_of_birth": "01/01/1900", "address": "No Fixed Abode", "postcode": "ZZ99 3VZ",
         "email": "noemail@council.gov.uk", "phone": "01234 567890", "nino": "AB 12 34 56 C"},
        {"first_name": "UNKNOWN", "last_name": "Na", "middle_names": "XXX", "date_of_birth": "1899-12-30",
         "phone": "07000 000000", "nino": "JK000000A"},
        {"first_name": "Persons", "last_name": "Unknown", "address": "N.F.A."},
        {"first_name": "Ann", "last_name": "Test"},
        {"first_name": "Jane", "last_name": "Okafor", "date_of_birth": "1970-01-01", "address": "12 High St",
         "postcode": "SW1A 1AA", "email": "jane.okafor@mail.co.uk", "phone": "07700 900123", "nino": "JK482913C"},
    ])  # fmt: skip
    out = standardise_people(recs).set_index("unique_id")
    assert out.loc["s:0", ["first_name", "last_name", "date_of_birth", "address", "postcode", "postcode_sector",
                           "email", "phone", "nino"]].isna().all()  # fmt: skip
    assert out.loc["s:1", ["first_name", "middle_names", "date_of_birth", "phone", "nino"]].isna().all()
    assert out.loc["s:1", "last_name"] == "na"  # a real surname, not "n/a"
    assert out.loc["s:2", ["first_name", "last_name", "address"]].isna().all()
    assert (out.loc["s:3", "first_name"], out.loc["s:3", "last_name"]) == ("ann", None)
    jane = out.loc["s:4"]
    assert (jane.first_name, jane.last_name, jane.date_of_birth, jane.address, jane.postcode, jane.email, jane.phone,
            jane.nino) == ("jane", "okafor", "1970-01-01", "12 high street", "SW1A 1AA", "jane.okafor@mail.co.uk",
                           "07700900123", "JK482913")  # fmt: skip


def test_unknown_residents_born_on_a_placeholder_date_are_not_one_person(model: FellegiSunterModel) -> None:
    streets = ["1 Oak Road", "7 Elm Close", "22 Mill Lane", "3 Park View"]
    recs = people([{"first_name": "UNKNOWN", "last_name": "UNKNOWN", "date_of_birth": "01/01/1900", "address": s,
                    "postcode": "LS1 4AB"} for s in streets])  # fmt: skip
    result = link_people(recs, model=model)
    assert result.clusters["cluster_id"].nunique() == len(streets)
    assert (result.pairs["band"] != "auto").all()


@pytest.mark.parametrize(
    "nameless, band, rule",
    [
        ({"date_of_birth": "1975-03-04", **HOME}, "review", "no_name"),
        ({"first_name": "The", "last_name": "Occupier", "date_of_birth": "1975-03-04", **HOME}, "review", "no_name"),
        ({"date_of_birth": "1975-03-04", "nino": "JK482913C", **HOME}, "auto", "nino_dob"),
    ],
    ids=["no name", "placeholder name", "no name but the same NINO"],
)
def test_a_pair_sharing_no_name_waits_for_a_steward(model: FellegiSunterModel, nameless: dict, band: str,
                                                    rule: str) -> None:
    person = {"first_name": "Bob", "last_name": "Brown", "date_of_birth": "1975-03-04", "nino": "JK482913C", **HOME}
    result = link_people(people([person, nameless]), model=model)
    row = result.pairs.iloc[0]
    assert (row.band, row.rule) == (band, rule)
    assert (result.clusters["cluster_id"].nunique() == 1) == (band == "auto")


def test_without_hard_negatives_a_nameless_pair_is_scored_by_the_model_alone(model: FellegiSunterModel) -> None:
    recs = people([{"first_name": "Bob", "last_name": "Brown", "date_of_birth": "1975-03-04", **HOME},
                   {"date_of_birth": "1975-03-04", **HOME}])  # fmt: skip
    result = link_people(recs, model=model, settings=MatchSettings(hard_negatives=False))
    assert result.pairs.iloc[0].rule == ""


def test_placeholders_do_not_change_the_standardised_columns() -> None:
    plain = standardise_people(people([{"first_name": "Ann", "last_name": "Lee"}]))
    blank = standardise_people(people([{"first_name": "Unknown", "last_name": "Unknown", "address": "NFA"}]))
    assert list(plain.columns) == list(blank.columns)
    assert pd.isna(blank.loc[0, "last_metaphone"]) and pd.isna(blank.loc[0, "first_initial"])
