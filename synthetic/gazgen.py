"""Generate the council's gazetteer: streets (USRN), BLPUs (UPRN, parents, classes, coordinates) and LPIs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic import places

# Street layouts: (name, weight, min buildings, max buildings)
LAYOUTS = (
    ("suburban", 0.55, 10, 60),
    ("tenement", 0.12, 6, 20),
    ("flats", 0.07, 1, 4),
    ("high", 0.07, 8, 30),
    ("rural", 0.08, 3, 15),
    ("business", 0.03, 1, 3),
    ("conversion", 0.08, 8, 30),
)
# Building kinds per layout: {layout: ((kind, p), ...)}
KINDS = {
    "suburban": (("house", 0.965), ("named", 0.02), ("conversion", 0.015)),
    "tenement": (("tenement", 1.0),),
    "flats": (("block", 1.0),),
    "high": (("shop", 0.55), ("shop_flats", 0.45)),
    "rural": (("named_only", 0.85), ("house", 0.15)),
    "business": (("centre", 0.7), ("shop", 0.3)),
    "conversion": (("conversion", 0.45), ("house", 0.45), ("named", 0.10)),
}
PARENT_KINDS = ("tenement", "block", "shop_flats", "centre", "conversion")
_DWELLINGS_PER_STREET = 36.0


@dataclass
class Gazetteer:
    """The generated gazetteer as three frames (lower-case AddressBase names)."""

    streets: pd.DataFrame  # usrn, street_description, locality, town_name, start/end x/y
    blpus: pd.DataFrame  # uprn, parent_uprn, logical_status, blpu_state, classification, x, y, postcode, usrn, ...
    lpis: pd.DataFrame  # lpi_key, uprn, logical_status, sao_*, pao_*, usrn

    def dwellings(self) -> pd.DataFrame:
        """Live residential units people can live in (not parents, not demolished)."""
        b = self.blpus
        return b[(b.is_dwelling) & (b.logical_status == 1)]


def _street_names(rng: np.random.Generator, n: int) -> np.ndarray:
    stems = places.STREET_STEMS
    types = np.array([t for t, _, _ in places.STREET_TYPES], dtype=object)
    tw = np.array([w for _, w, _ in places.STREET_TYPES])
    prefixes = np.array(["", "NEW ", "OLD ", "UPPER ", "LOWER ", "WEST ", "EAST ", "NORTH ", "SOUTH "], dtype=object)
    pw = np.array([40.0, 1, 1, 1, 1, 1, 1, 1, 1])
    sw = 1.0 / (np.arange(len(stems)) + 8.0)
    w = (pw[:, None, None] * sw[None, :, None] * tw[None, None, :]).ravel()
    pool = len(w)
    pick = rng.choice(pool, size=min(n, pool), replace=False, p=w / w.sum())
    if n > pool:  # very large councils: names repeat across distant streets in one locality
        pick = np.concatenate([pick, rng.choice(pool, size=n - pool, p=w / w.sum())])
    p_i, rest = np.divmod(pick, len(stems) * len(types))
    s_i, t_i = np.divmod(rest, len(types))
    return prefixes[p_i] + stems[s_i] + " " + types[t_i]


def _streets(rng: np.random.Generator, n_dwellings: int) -> pd.DataFrame:
    n = max(8, int(n_dwellings / _DWELLINGS_PER_STREET * 1.3) + 8)
    lw = np.array([w for _, w, _, _ in LAYOUTS])
    layout = rng.choice(len(LAYOUTS), size=n, p=lw / lw.sum())
    layout[:4] = [0, 1, 2, 3]  # every council has each kind of street, however small
    lo = np.array([a for _, _, a, _ in LAYOUTS])[layout]
    hi = np.array([b for _, _, _, b in LAYOUTS])[layout]
    n_b = rng.integers(lo, hi + 1)
    tw = np.array([t[1] for t in places.TOWNS])
    town_i = rng.choice(len(places.TOWNS), size=n, p=tw / tw.sum())
    df = pd.DataFrame({"layout": np.array([l[0] for l in LAYOUTS], dtype=object)[layout], "n_buildings": n_b, "town_i": town_i})
    towns = np.array([t[0] for t in places.TOWNS], dtype=object)
    df["town_name"] = towns[town_i]
    loc = np.empty(n, dtype=object)
    for t, (_, _, _, _, locs) in enumerate(places.TOWNS):
        idx = np.flatnonzero(town_i == t)
        loc[idx] = np.array(locs, dtype=object)[rng.integers(0, len(locs), size=len(idx))]
    df["locality"] = loc
    names = np.empty(n, dtype=object)
    for _, idx in df.groupby(["town_name", "locality"]).indices.items():
        names[idx] = _street_names(rng, len(idx))
    df["street_description"] = names
    df["usrn"] = 48_100_000 + np.cumsum(rng.integers(1, 25, size=n))
    cx = np.array([t[2] for t in places.TOWNS])[town_i]
    cy = np.array([t[3] for t in places.TOWNS])[town_i]
    spread = 900.0 + 3000.0 * tw[town_i] + np.sqrt(n) * 4
    df["x_start"] = np.round(cx + rng.normal(0, spread), 2)
    df["y_start"] = np.round(cy + rng.normal(0, spread), 2)
    df["angle"] = rng.uniform(0, 2 * np.pi, size=n)
    length = df.n_buildings.to_numpy() * 7.0 + 20
    df["x_end"] = np.round(df.x_start + np.cos(df.angle) * length, 2)
    df["y_end"] = np.round(df.y_start + np.sin(df.angle) * length, 2)
    return df


def _pick_kinds(rng: np.random.Generator, layouts: np.ndarray) -> np.ndarray:
    out = np.empty(len(layouts), dtype=object)
    for layout, options in KINDS.items():
        idx = np.flatnonzero(layouts == layout)
        names = np.array([k for k, _ in options], dtype=object)
        p = np.array([w for _, w in options])
        out[idx] = names[rng.choice(len(names), size=len(idx), p=p / p.sum())]
    return out


def _buildings(rng: np.random.Generator, streets: pd.DataFrame) -> pd.DataFrame:
    s_idx = np.repeat(np.arange(len(streets)), streets.n_buildings.to_numpy())
    b = pd.DataFrame({"street": s_idx})
    b["pos"] = b.groupby("street").cumcount().to_numpy()
    b["kind"] = _pick_kinds(rng, streets.layout.to_numpy()[s_idx])
    n = len(b)
    number = (b.pos + 1).astype("Int64")
    b["pao_start_number"] = number.where(~b.kind.isin(["named_only"]) & ~((b.kind == "centre") & (rng.random(n) < 0.5)))
    b["pao_start_suffix"] = None
    b["pao_end_number"] = pd.array([pd.NA] * n, dtype="Int64")
    b["pao_text"] = None
    b["pao_end_suffix"] = None
    # ranges 12-14: the later number disappears from the street
    rng_mask = b.kind.isin(["house", "shop", "tenement"]).to_numpy() & (rng.random(n) < 0.025) & b.pao_start_number.notna().to_numpy()
    b.loc[rng_mask, "pao_end_number"] = b.loc[rng_mask, "pao_start_number"] + 2
    covered = pd.MultiIndex.from_arrays([b.street[rng_mask], b.pao_start_number[rng_mask] + 2])
    here = pd.MultiIndex.from_arrays([b.street, b.pao_start_number])
    b = b[~(here.isin(covered) & ~rng_mask)].reset_index(drop=True)
    # suffixes 12A (and sometimes 12B) squeezed in after 12
    n = len(b)
    suf = (b.kind.isin(["house", "shop"]).to_numpy()) & (rng.random(n) < 0.03) & b.pao_end_number.isna().to_numpy()
    extra = b[suf].copy()
    extra["pao_start_suffix"] = np.where(rng.random(len(extra)) < 0.85, "A", "B")
    extra["pos"] = extra.pos + 0.5
    b = pd.concat([b, extra]).sort_values(["street", "pos"], kind="stable").reset_index(drop=True)
    n = len(b)
    kind = b.kind.to_numpy()
    text = np.full(n, None, dtype=object)
    named = np.isin(kind, ["named", "named_only"])
    text[named] = places.HOUSE_NAMES[rng.integers(0, len(places.HOUSE_NAMES), size=named.sum())]
    blocks = (kind == "block") | ((kind == "conversion") & (rng.random(n) < 0.15))
    text[blocks] = places.BLOCK_NAMES[rng.integers(0, len(places.BLOCK_NAMES), size=blocks.sum())]
    centre = kind == "centre"
    text[centre] = places.BUSINESS_CENTRES[rng.integers(0, len(places.BUSINESS_CENTRES), size=centre.sum())]
    b["pao_text"] = text
    # named blocks: 40% carry only the name
    name_only = (kind == "block") & (rng.random(n) < 0.4)
    b.loc[name_only, "pao_start_number"] = pd.NA
    children = np.zeros(n, dtype=np.int64)
    floors = rng.integers(3, 5, size=n)
    per_floor = np.where(rng.random(n) < 0.8, 2, 3)
    children[kind == "tenement"] = (floors * per_floor)[kind == "tenement"]
    children[kind == "block"] = rng.integers(6, 25, size=(kind == "block").sum())
    children[kind == "shop_flats"] = rng.integers(2, 4, size=(kind == "shop_flats").sum())  # shop + 1-2 flats
    children[kind == "centre"] = rng.integers(4, 13, size=(kind == "centre").sum())
    children[kind == "conversion"] = rng.integers(2, 5, size=(kind == "conversion").sum())
    b["children"] = children
    b["per_floor"] = per_floor
    b["style"] = rng.integers(0, 3, size=n)
    return b


def expected_dwellings_per_street() -> float:
    """Average live dwellings per generated street (used to size the gazetteer from the population)."""
    return _DWELLINGS_PER_STREET
