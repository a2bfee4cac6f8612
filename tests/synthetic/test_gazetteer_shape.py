"""Flats, parents, address forms and retired UPRNs in the generated gazetteer."""

from __future__ import annotations

import pandas as pd


def _props(council) -> pd.DataFrame:
    return pd.read_csv(council.truth_dir / "properties.csv")


def test_parent_uprns_consistent(council):
    p = _props(council)
    by = p.set_index("uprn")
    kids = p[p.parent_uprn.notna()]
    assert len(kids) > 100
    parents = by.loc[kids.parent_uprn.astype("int64")]
    assert (parents.classification == "PP").all()
    assert parents.parent_uprn.isna().all()  # one level: building -> unit
    assert (parents.postcode.to_numpy() == kids.postcode.to_numpy()).all()
    dist = ((parents.x.to_numpy() - kids.x.to_numpy()) ** 2 + (parents.y.to_numpy() - kids.y.to_numpy()) ** 2) ** 0.5
    assert dist.max() < 10
    # every property shell has at least one child
    assert set(p.loc[p.classification == "PP", "uprn"]) <= set(kids.parent_uprn.astype("int64"))


def test_address_forms_present(council):
    plus = pd.read_csv(council.addressbase_plus, dtype=str)
    sao = plus.SAO_TEXT.dropna()
    assert sao.str.fullmatch(r"FLAT \d+/\d+").any()  # Glasgow tenement
    assert sao.str.fullmatch(r"(\d|G)F\d").any()  # Edinburgh 2F1
    assert sao.str.fullmatch(r"\d/\d").any()  # 0/1
    assert sao.str.fullmatch(r"FLAT \d+").any() and sao.str.fullmatch(r"FLAT [A-Z]").any()
    assert (sao == "BASEMENT FLAT").any() or (sao == "GROUND FLOOR FLAT").any()
    assert sao.str.startswith("UNIT ").any()
    assert plus.PAO_START_SUFFIX.notna().any() and plus.PAO_END_NUMBER.notna().any()
    assert (plus.PAO_TEXT.notna() & plus.PAO_START_NUMBER.isna()).any()  # named house
    assert plus.CLASS.str.startswith("C").any()


def test_retired_uprns_have_successors(council):
    p = _props(council)
    gone = p[p.logical_status == 8]
    assert len(gone) and (gone.blpu_state == 4).all()
    plus = pd.read_csv(council.addressbase_plus, dtype=str)
    live = plus[plus.LOGICAL_STATUS == "1"]
    old = plus[plus.UPRN.isin(gone.uprn.astype(str))]
    key = ["PAO_START_NUMBER", "USRN"]
    assert old[key].merge(live[key]).shape[0] >= len(old)  # same address, new UPRN
