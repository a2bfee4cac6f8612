"""Render gazetteer addresses as departmental systems write them: one line, address lines, split fields."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.gazgen import Gazetteer


def _num(start: pd.Series, suffix: pd.Series, end: pd.Series, end_suffix: pd.Series) -> pd.Series:
    s = start.astype("string").fillna("") + suffix.astype("string").fillna("")
    e = end.astype("string").fillna("") + end_suffix.astype("string").fillna("")
    return (s + ("-" + e).where(e != "", "")).astype(object)


def address_table(gaz: Gazetteer) -> pd.DataFrame:
    """The address each UPRN is known by (its approved LPI, or its historical one if retired), by UPRN.

    Columns: sao, pao_num, pao_name, street, locality, town, postcode, classification.
    """
    lp = gaz.lpis
    blpu_status = gaz.blpus.set_index("uprn").logical_status
    want = np.where(blpu_status.reindex(lp.uprn).to_numpy() == 8, 8, 1)
    lp = lp[lp.logical_status.to_numpy() == want].drop_duplicates("uprn")
    st = gaz.streets.set_index("usrn")
    sao_num = _num(lp.sao_start_number, lp.sao_start_suffix, lp.sao_end_number, lp.sao_end_suffix)
    sao_text = lp.sao_text.fillna("")
    sao = np.where((sao_text != "") & (sao_num != ""), sao_text + " " + sao_num, sao_text + sao_num)
    out = pd.DataFrame({
        "sao": sao.astype(object),
        "pao_num": _num(lp.pao_start_number, lp.pao_start_suffix, lp.pao_end_number, lp.pao_end_suffix).to_numpy(),
        "pao_name": lp.pao_text.fillna("").to_numpy(),
        "street": st.street_description.reindex(lp.usrn).to_numpy(),
        "locality": st.locality.reindex(lp.usrn).fillna("").to_numpy(),
        "town": st.town_name.reindex(lp.usrn).to_numpy(),
    }, index=lp.uprn.to_numpy())
    b = gaz.blpus.set_index("uprn")
    out["postcode"] = b.postcode.reindex(out.index).to_numpy()
    out["classification"] = b.classification.reindex(out.index).to_numpy()
    out.index.name = "uprn"
    return out


def join(*cols: np.ndarray, sep: str = ", ") -> np.ndarray:
    """Join string columns element-wise, skipping blanks."""
    out = np.asarray(cols[0], dtype=object).copy()
    for c in cols[1:]:
        c = np.asarray(c, dtype=object)
        both = (out != "") & (c != "")
        out = np.where(both, out + sep + c, out + c)
    return out.astype(object)


def street_line(p: pd.DataFrame) -> np.ndarray:
    """'12A HIGH STREET' or 'HIGH STREET' when the property has no number."""
    return join(p.pao_num.to_numpy(), p.street.to_numpy(), sep=" ")


def address_lines(p: pd.DataFrame) -> list[np.ndarray]:
    """Five address lines (Royal Mail style: flat, building, street, locality, town), blanks pushed down."""
    flat_after = p.get("flat_after", pd.Series(False, index=p.index)).to_numpy()
    sao = np.where(flat_after, "", p.sao.to_numpy())
    street = street_line(p)
    street = np.where(flat_after, join(street, p.sao.to_numpy(), sep=" "), street)
    raw = np.stack([sao, p.pao_name.to_numpy(), street, p.locality.to_numpy(), p.town.to_numpy()], axis=1).astype(object)
    # compact: move non-empty values up, keep order
    filled = raw != ""
    order = np.argsort(~filled, axis=1, kind="stable")
    packed = np.take_along_axis(raw, order, axis=1)
    return [packed[:, i] for i in range(5)]


def one_line(p: pd.DataFrame, *, with_postcode: bool = True) -> np.ndarray:
    """'FLAT 2, ROSE COURT, 12 HIGH STREET, NETHERTON, KILBRENNAN, FX1 2AB'."""
    lines = address_lines(p)
    out = join(*lines)
    if with_postcode:
        out = join(out, p.postcode.fillna("").to_numpy())
    return out
