"""Hard-negative evidence: clear first-name and date-of-birth conflicts, generations and namesake households.

Household evidence (address, surname) is shared by twins, parent and child and spouses, so the Fellegi-Sunter
weight alone cannot keep them apart. These flags say when two records *clearly* describe different people,
while typing errors (a transposed digit, a swapped day and month, a mistyped first name) do not count.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from matching.arrays import unique_inverse

# Parent and child are at least this many years apart; a same-name pair whose dates of birth are further apart
# is two generations, not a mistyped date.
GENERATION_YEARS = 15
# A first name mistyped: one edit in a name of at least 5 letters, two edits in one of at least 7. Shorter names
# ("John" / "Joan") are too often different names one edit apart.
TYPO_EDITS_BY_LENGTH = ((1, 5), (2, 7))


def _pair_strings(ctx, column: str, left: np.ndarray, right: np.ndarray, mask: np.ndarray):  # noqa: ANN001, ANN202
    """Distinct (left value, right value) code pairs under ``mask`` and the inverse to broadcast back."""
    codes, uniques = ctx.codes(column)
    a, b = codes[left], codes[right]
    valid = mask & (a >= 0) & (b >= 0)
    key = a[valid] * (len(uniques) + 1) + b[valid]
    uk, inv, _ = unique_inverse(key)
    return valid, uniques[uk // (len(uniques) + 1)], uniques[uk % (len(uniques) + 1)], inv


def first_name_typo(ctx, left: np.ndarray, right: np.ndarray, mask: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """First names one or two keystrokes apart (by length), or two adjacent letters swapped, and not a male and a
    female name (Francis / Frances, Antonio / Antonia are two people). ``mask``: pairs worth testing.

    Examples:
        >>> from matching.compare import CompareContext
        >>> f = pd.DataFrame({"first_name": ["tayla", "tayya", "francis", "frances", "jessica", "jesdicai", "micheal", "michael"]})
        >>> ctx = CompareContext(f, ())
        >>> first_name_typo(ctx, np.array([0, 2, 4, 6]), np.array([1, 3, 5, 7]), np.ones(4, bool)).tolist()
        [True, False, True, True]
    """
    out = np.zeros(len(left), dtype=bool)
    valid, a, b, inv = _pair_strings(ctx, "first_name", left, right, mask)
    if not valid.any():
        return out
    dist = np.asarray(process.cpdist(a, b, scorer=DamerauLevenshtein.distance, workers=-1))
    la, lb = pd.Series(a, dtype="string").str.len().to_numpy(), pd.Series(b, dtype="string").str.len().to_numpy()
    shortest = np.minimum(la, lb)
    typo = np.zeros(len(a), dtype=bool)
    for edits, min_length in TYPO_EDITS_BY_LENGTH:
        typo |= (dist <= edits) & (shortest >= min_length)
    # two adjacent letters swapped ("micheal" / "michael") is a keystroke error at any length
    swapped = (dist == 1) & (np.asarray(process.cpdist(a, b, scorer=Levenshtein.distance, workers=-1)) == 2)
    out[valid] = (typo | (swapped & (shortest >= 3)))[inv]
    return out & ~opposite_gender(ctx, left, right, mask)


# Faker's first-name lists (MIT) for the languages most spoken in UK councils' populations. A name's gender is the
# clear majority of the lists it appears in (Francis: male in 6 lists, female in 1); otherwise unisex (Alex).
_NAME_LOCALES = ("en", "en_GB", "en_IE", "en_US", "en_NZ", "en_IN", "fr_FR", "de_DE", "it_IT", "es_ES", "pl_PL", "pt_PT")
_GENDER_MAJORITY = 0.5  # |male lists - female lists| / lists, at least


@lru_cache(maxsize=1)
def _gendered_names() -> dict[str, int]:
    from importlib import import_module

    votes: dict[str, list[int]] = {}
    for locale in _NAME_LOCALES:
        provider = import_module(f"faker.providers.person.{locale}").Provider
        for attribute, vote in (("first_names_male", 1), ("first_names_female", -1)):
            for name in {n.lower() for n in getattr(provider, attribute, ())}:
                votes.setdefault(name, []).append(vote)
    out = {}
    for name, v in votes.items():
        balance = sum(v) / len(v)
        if abs(balance) >= _GENDER_MAJORITY:
            out[name] = 1 if balance > 0 else -1
    return out


def first_name_genders(names: np.ndarray) -> np.ndarray:
    """+1 for a name Faker's first-name lists hold as male, -1 as female, 0 unisex or unknown.

    Examples:
        >>> first_name_genders(np.array(["louis", "louise", "alex", "tayla"], dtype=object)).tolist()
        [1, -1, 0, -1]
    """
    genders = _gendered_names()
    return np.array([genders.get(str(n), 0) for n in names], dtype=np.int8)


def opposite_gender(ctx, left: np.ndarray, right: np.ndarray, mask: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """First names listed as male on one side and female on the other (Louis / Louise, Daniel / Daniela): two
    people, however close the spelling. One lookup per distinct name."""
    codes, uniques = ctx.codes("first_name")
    genders = ctx.derived("first_name_gender", lambda _f: np.append(first_name_genders(uniques), 0).astype(np.int8))
    a, b = codes[left], codes[right]
    return mask & (genders[a] * genders[b] == -1)


def dob_years_apart(ctx, left: np.ndarray, right: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Whole years between the two birth years (NaN when either date is missing)."""
    years = ctx.derived(
        "dob_year_number", lambda f: pd.to_numeric(f["date_of_birth"].astype("string").str[:4], errors="coerce").to_numpy(float)
    )
    return np.abs(years[left] - years[right])


def namesake_households(frame: pd.DataFrame, deduplicated_sources: tuple[str, ...] = ()) -> np.ndarray:
    """Per record: its household holds two people of its name (same place, surname and first-name sound).

    Evidence that the name group holds more than one person: a generational suffix (Jr/Sr: there is a
    namesake in the family), dates of birth a generation apart, or two records from one source that holds each
    person once; a record known by an initial only is flagged when its household holds two first names with that
    initial. A pair resting on name + address alone is then not enough to merge without review.

    Examples:
        >>> f = pd.DataFrame({"uprn": ["1", "1", "1", "2"], "address": [None] * 4,
        ...     "last_name": ["watson"] * 4, "first_name": ["owen"] * 4, "first_metaphone": ["ON"] * 4,
        ...     "name_suffix": [None, "jr", None, None],
        ...     "date_of_birth": [None] * 4, "source": ["er", "er", "ct", "ct"]})
        >>> namesake_households(f).tolist()
        [True, True, True, False]
    """
    n = len(frame)
    if n == 0 or "last_name" not in frame.columns or "first_name" not in frame.columns:
        return np.zeros(n, dtype=bool)
    place = frame["uprn"].astype("string") if "uprn" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
    if "address" in frame.columns:
        place = place.fillna("a:" + frame["address"].astype("string"))
    first = frame["first_metaphone"] if "first_metaphone" in frame.columns else frame["first_name"]
    keys = pd.DataFrame({"p": place, "l": frame["last_name"], "f": first})
    group = keys.groupby(["p", "l", "f"], dropna=True, sort=False).ngroup().fillna(-1).to_numpy(dtype=np.int64)
    ok = group >= 0
    g = group[ok]
    size = np.bincount(g)
    many = np.zeros(len(size), dtype=bool)
    if "name_suffix" in frame.columns:
        suffixed = frame["name_suffix"].notna().to_numpy()[ok]
        many |= (np.bincount(g, weights=suffixed) > 0) & (size > 1)
    if "date_of_birth" in frame.columns:
        year = pd.to_numeric(frame["date_of_birth"].astype("string").str[:4], errors="coerce").to_numpy(float)[ok]
        has = ~np.isnan(year)
        lo = pd.Series(year[has]).groupby(g[has]).min()
        hi = pd.Series(year[has]).groupby(g[has]).max()
        spread = np.zeros(len(size))
        spread[lo.index.to_numpy()] = (hi - lo).to_numpy()
        many |= spread >= GENERATION_YEARS
    if deduplicated_sources and "source" in frame.columns:
        dedup = frame["source"].isin(list(deduplicated_sources)).to_numpy()[ok]
        per_source = pd.DataFrame({"g": g[dedup], "s": frame["source"].to_numpy()[ok][dedup]})
        repeated = per_source.groupby(["g", "s"]).size()
        many[repeated[repeated > 1].index.get_level_values("g").unique().to_numpy()] = True
    out = np.zeros(n, dtype=bool)
    out[ok] = many[g]
    return out | _initial_among_namesakes(frame, place)


def _initial_among_namesakes(frame: pd.DataFrame, place: pd.Series) -> np.ndarray:
    """Records known by an initial only ("M Walker") where the household holds two first names with that initial.

    Examples:
        >>> f = pd.DataFrame({"first_name": ["m", "mark", "mary", "j", "john"], "last_name": ["walker"] * 5,
        ...                   "first_metaphone": [None, "MRK", "MR", None, "JN"]})
        >>> _initial_among_namesakes(f, pd.Series(["1"] * 5)).tolist()
        [True, False, False, False, False]
    """
    if "first_name" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    first = frame["first_name"].astype("string")
    initial_only = (first.str.len() == 1).fillna(False).to_numpy()
    if not initial_only.any() or "first_metaphone" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    keys = pd.DataFrame({"p": place.to_numpy(), "l": frame["last_name"].to_numpy(), "i": first.str[0].to_numpy()})
    household = keys.groupby(["p", "l", "i"], dropna=True, sort=False).ngroup().to_numpy()
    placed = household >= 0
    # only households where a record known by its initial lives matter: count their distinct full first names
    asked = placed & np.isin(household, np.unique(household[initial_only & placed]))
    named = pd.DataFrame({"h": household[asked], "m": frame["first_metaphone"].to_numpy(dtype=object)[asked]})
    distinct = named[~initial_only[asked]].dropna().drop_duplicates()["h"].value_counts()
    crowded = distinct[distinct >= 2].index.to_numpy()
    return initial_only & placed & np.isin(household, crowded)
