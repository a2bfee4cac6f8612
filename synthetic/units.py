"""Turn generated buildings into BLPUs and LPIs: flats and units with parents, classes, postcodes, UPRNs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic import places
from synthetic.gazgen import PARENT_KINDS, Gazetteer, _buildings, _streets

_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ") * 2, dtype=object)
_CONV_FLOORS = np.array(["BASEMENT FLAT", "GROUND FLOOR FLAT", "FIRST FLOOR FLAT", "SECOND FLOOR FLAT", "TOP FLOOR FLAT"], dtype=object)
_SHOP_FLOORS = np.array(["GROUND FLOOR", "FIRST FLOOR FLAT", "SECOND FLOOR FLAT", "THIRD FLOOR FLAT"], dtype=object)
SAO_COLUMNS = ("sao_start_number", "sao_start_suffix", "sao_end_number", "sao_end_suffix", "sao_text")
PAO_COLUMNS = ("pao_start_number", "pao_start_suffix", "pao_end_number", "pao_end_suffix", "pao_text")


def _s(a: np.ndarray) -> np.ndarray:
    return a.astype(str).astype(object)


def _tenement(style: np.ndarray, floor: np.ndarray, pos: np.ndarray) -> np.ndarray:
    glasgow = "FLAT " + _s(floor) + "/" + _s(pos)
    edinburgh = np.where(floor == 0, "GF", _s(floor) + "F") + _s(pos)
    plain = _s(floor) + "/" + _s(pos)
    return np.select([style == 0, style == 1], [glasgow, edinburgh], plain).astype(object)


def _child_labels(kind: np.ndarray, style: np.ndarray, j: np.ndarray, per_floor: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SAO text and SAO start number of each child unit."""
    text = np.full(len(j), None, dtype=object)
    number = np.full(len(j), -1, dtype=np.int64)
    t = kind == "tenement"
    text[t] = _tenement(style[t], j[t] // per_floor[t], j[t] % per_floor[t] + 1)
    blk = kind == "block"
    text[blk & (style == 0)] = "FLAT " + _s(j[blk & (style == 0)] + 1)
    number[blk & (style == 1)] = j[blk & (style == 1)] + 1
    text[blk & (style == 2)] = "FLAT " + _LETTERS[j[blk & (style == 2)]]
    c = kind == "conversion"
    floors = _CONV_FLOORS[np.minimum(j + (n <= 3), 4)]
    text[c] = np.select([style[c] == 0, style[c] == 1], [floors[c], "FLAT " + _LETTERS[j[c]]], "FLAT " + _s(j[c] + 1))
    sf = kind == "shop_flats"
    text[sf] = np.select(
        [j[sf] == 0, style[sf] == 0, style[sf] == 1],
        ["GROUND FLOOR", "FLAT " + _LETTERS[np.maximum(j[sf] - 1, 0)], _SHOP_FLOORS[np.minimum(j[sf], 3)]],
        "FLAT 1/" + _s(j[sf]),
    )
    ce = kind == "centre"
    text[ce] = "UNIT " + _s(j[ce] + 1)
    return text, number


def _stack(a: pd.Series, b: pd.Series) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Concatenate two columns keeping nullable integers nullable (no all-NA dtype guessing)."""
    if str(a.dtype) == "Int64" or str(b.dtype) == "Int64":
        return pd.array(np.concatenate([a.astype("Float64").to_numpy(dtype=float, na_value=np.nan),
                                        b.astype("Float64").to_numpy(dtype=float, na_value=np.nan)]), dtype="Float64").astype("Int64")
    if a.dtype == object or b.dtype == object:
        return np.concatenate([a.to_numpy(dtype=object), b.to_numpy(dtype=object)])
    return np.concatenate([a.to_numpy(), b.to_numpy()])


def _postcodes(rng: np.random.Generator, streets: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    chunk = np.where(b.children.to_numpy() >= 12, 10_000 + b.pos.to_numpy(), b.pos.to_numpy() // 12)
    group = pd.MultiIndex.from_arrays([b.street.to_numpy(), chunk])
    codes, uniques = pd.factorize(group, sort=True)
    g_street = uniques.get_level_values(0).to_numpy()
    g_town = streets.town_i.to_numpy()[g_street]
    out = np.empty(len(uniques), dtype=object)
    district = 1
    for t in np.unique(g_town):
        idx = np.flatnonzero(g_town == t)
        k = np.arange(len(idx))
        d = district + k // 4000
        sector = (k // 400) % 10
        unit = rng.permutation(400)[k % 400]
        letters = places.INWARD_LETTERS[unit // 20] + places.INWARD_LETTERS[unit % 20]
        out[idx] = places.POSTCODE_AREA + _s(d) + " " + _s(sector) + letters
        district = int(d.max()) + 1
    return out[codes]


def _house_class(rng: np.random.Generator, streets: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    street_class = np.array(["RD04", "RD03", "RD02"], dtype=object)[rng.choice(3, size=len(streets), p=[0.45, 0.35, 0.2])]
    kind = b.kind.to_numpy()
    cls = street_class[b.street.to_numpy()].copy()
    cls[np.isin(kind, ["named", "named_only"])] = "RD02"
    shop = kind == "shop"
    cls[shop] = places.COMMERCIAL_CLASSES[rng.integers(0, len(places.COMMERCIAL_CLASSES), size=shop.sum())]
    cls[np.isin(kind, PARENT_KINDS)] = "PP"
    return cls


def build_gazetteer(rng: np.random.Generator, n_dwellings: int) -> Gazetteer:
    """Generate streets, BLPUs and LPIs holding at least ``n_dwellings`` live dwellings."""
    streets = _streets(rng, n_dwellings)
    b = _buildings(rng, streets)
    # trim whole streets once there are enough dwellings
    dw = np.where(np.isin(b.kind, ["house", "named", "named_only"]), 1, 0) + np.where(
        b.kind == "shop_flats", b.children - 1, np.where(np.isin(b.kind, ["tenement", "block", "conversion"]), b.children, 0)
    )
    per_street = np.bincount(b.street, weights=dw, minlength=len(streets))
    keep_streets = max(4, int(np.searchsorted(np.cumsum(per_street), n_dwellings * 1.06)) + 1)
    streets = streets.iloc[:keep_streets].reset_index(drop=True)
    b = b[b.street < keep_streets].reset_index(drop=True)
    nb = len(b)
    b["classification"] = _house_class(rng, streets, b)
    b["postcode"] = _postcodes(rng, streets, b)
    ang = streets.angle.to_numpy()[b.street]
    along = b.pos.to_numpy() * 7.0 + 10.0
    side = np.where(b.pao_start_number.fillna(0).to_numpy().astype(np.int64) % 2 == 0, 1.0, -1.0) * 9.0
    b["x"] = np.round(streets.x_start.to_numpy()[b.street] + np.cos(ang) * along - np.sin(ang) * side, 2)
    b["y"] = np.round(streets.y_start.to_numpy()[b.street] + np.sin(ang) * along + np.cos(ang) * side, 2)
    b["usrn"] = streets.usrn.to_numpy()[b.street]
    b["bi"] = np.arange(nb)
    # child units
    kind = b.kind.to_numpy()
    nchild = b.children.to_numpy()
    ci = np.repeat(np.arange(nb), nchild)
    cj = np.arange(len(ci)) - np.repeat(np.cumsum(nchild) - nchild, nchild)
    ctext, cnum = _child_labels(kind[ci], b["style"].to_numpy()[ci], cj, b.per_floor.to_numpy()[ci], nchild[ci])
    ckind = kind[ci]
    commercial = (ckind == "centre") | ((ckind == "shop_flats") & (cj == 0))
    ccls = np.where(commercial, places.COMMERCIAL_CLASSES[rng.integers(0, len(places.COMMERCIAL_CLASSES), size=len(ci))], "RD06")
    child = pd.DataFrame({
        "bi": ci, "parent_bi": ci, "sao_text": ctext, "sao_start_number": pd.array(np.where(cnum < 0, None, cnum), dtype="Int64"),
        "classification": ccls.astype(object), "kind": np.where(commercial, "unit", "flat").astype(object),
    })
    for col in ("street", "postcode", "usrn", "x", "y", *PAO_COLUMNS):
        child[col] = b[col].to_numpy()[ci]
    child["x"] = np.round(child.x + rng.normal(0, 0.8, len(ci)), 2)
    child["y"] = np.round(child.y + rng.normal(0, 0.8, len(ci)), 2)
    top = b.assign(parent_bi=-1, sao_text=None, sao_start_number=pd.array([pd.NA] * nb, dtype="Int64"))
    cols = ["bi", "parent_bi", "street", "kind", "classification", "postcode", "usrn", "x", "y", "sao_text", "sao_start_number", *PAO_COLUMNS]
    units = pd.DataFrame({c: _stack(top[c], child[c]) for c in cols})
    return _finish(rng, streets, units, b)


def _finish(rng: np.random.Generator, streets: pd.DataFrame, u: pd.DataFrame, b: pd.DataFrame) -> Gazetteer:
    n = len(u)
    u["logical_status"] = 1
    u["blpu_state"] = 2
    # demolished houses replaced by a new build at the same address (retired UPRN, status 8)
    demol = (u.kind == "house").to_numpy() & (rng.random(n) < 0.004)
    new = u[demol].copy()
    u.loc[demol, ["logical_status", "blpu_state"]] = [8, 4]
    new["classification"] = "RD02"
    u = pd.concat([u, new], ignore_index=True)
    n = len(u)
    order = rng.permutation(n)
    uprn = np.empty(n, dtype=np.int64)
    uprn[order] = 990_000_000_000 + np.cumsum(rng.integers(1, 6, size=n))
    u["uprn"] = uprn
    bi_uprn = pd.Series(uprn[: len(b)], index=u.bi.to_numpy()[: len(b)])
    u["parent_uprn"] = pd.array(np.where(u.parent_bi >= 0, bi_uprn.reindex(u.parent_bi.to_numpy()).to_numpy(), -1), dtype="Int64")
    u.loc[u.parent_bi < 0, "parent_uprn"] = pd.NA
    u["is_dwelling"] = u.classification.str.startswith("RD").to_numpy()
    u["sao_start_suffix"] = None
    u["sao_end_number"] = pd.array([pd.NA] * n, dtype="Int64")
    u["sao_end_suffix"] = None
    for col in ("sao_start_number", "sao_end_number", "pao_start_number", "pao_end_number"):
        u[col] = u[col].astype("Int64")
    lpis = _lpis(rng, u)
    blpus = u[["uprn", "parent_uprn", "logical_status", "blpu_state", "classification", "x", "y", "postcode", "usrn", "kind", "is_dwelling"]]
    blpus = blpus.assign(town_name=streets.town_name.to_numpy()[u.street.to_numpy()])
    blpus = blpus.sort_values("uprn").reset_index(drop=True)
    st = streets[["usrn", "street_description", "locality", "town_name", "x_start", "y_start", "x_end", "y_end", "layout"]]
    return Gazetteer(streets=st.reset_index(drop=True), blpus=blpus, lpis=lpis)


def _lpis(rng: np.random.Generator, u: pd.DataFrame) -> pd.DataFrame:
    cols = ["uprn", "logical_status", *SAO_COLUMNS, *PAO_COLUMNS, "usrn"]
    base = u[cols].copy()
    n = len(u)
    kind = u.kind.to_numpy()
    extras = []
    # alternative (3): a named house with a number is also known by the number alone
    m = (u.pao_text.notna() & u.pao_start_number.notna() & (u.sao_text.isna()) & (kind != "block")).to_numpy() & (rng.random(n) < 0.5)
    alt = base[m].assign(pao_text=None, logical_status=3)
    extras.append(alt)
    # alternative (3): tenement flats also in the other Scottish notation ("FLAT 1/2" <-> "1F2"/"1/2")
    st = u.sao_text.fillna("").str
    m = (st.startswith("FLAT ") & st.contains("/", regex=False)).to_numpy() & (rng.random(n) < 0.3)
    alt = base[m].copy()
    alt["sao_text"] = alt.sao_text.str.replace("FLAT ", "", regex=False)
    extras.append(alt.assign(logical_status=3))
    # alternative (3): a named block also addressed by its number alone
    m = ((kind == "flat") & u.pao_text.notna() & u.pao_start_number.notna()).to_numpy() & (rng.random(n) < 0.3)
    extras.append(base[m].assign(pao_text=None, logical_status=3))
    # historical (8): previous house names and old flat labels
    m = np.isin(kind, ["house", "named_only"]) & (rng.random(n) < 0.02)
    extras.append(base[m].assign(pao_text=places.HOUSE_NAMES[rng.integers(0, len(places.HOUSE_NAMES), size=m.sum())], logical_status=8))
    m = (kind == "flat") & u.sao_text.fillna("").str.endswith("FLOOR FLAT").to_numpy() & (rng.random(n) < 0.3)
    extras.append(base[m].assign(sao_text="FLAT " + _LETTERS[rng.integers(0, 4, size=m.sum())], logical_status=8))
    lpis = pd.concat([base, *extras], ignore_index=True)
    lpis = lpis.sort_values(["uprn", "logical_status"], kind="stable").reset_index(drop=True)
    lpis.insert(0, "lpi_key", [f"{places.LOCAL_CUSTODIAN_CODE}L{i:09d}" for i in range(1, len(lpis) + 1)])
    return lpis
