"""Must-links the hub adds for moved and renamed people: a changed record keeps its person; NINO + DOB finds it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.placeholders import without_placeholder_dates, without_placeholder_ninos
from schemas.columns import PersonRecord

# Fields whose disagreement (both present) means two records are different people: an address never does.
IDENTITY = (("date_of_birth", None), ("nino", None), ("first_name", 1))
# A placeholder (01/01/1900, AB 12 34 56 C) identifies nobody: it is read as missing (matching.placeholders).
WITHOUT_PLACEHOLDERS = {"date_of_birth": without_placeholder_dates, "nino": without_placeholder_ninos}
MAX_CLUSTER = 50  # no real person has more records; bigger clusters are not pinned together here


def _identity(records: pd.DataFrame) -> pd.DataFrame:
    """Per record (indexed by ``unique_id``), one integer code per ``IDENTITY`` field: equal normalised values (trimmed,
    upper case, the first letter of a first name) share a code, and -1 is missing. Each distinct value is normalised
    once."""
    out = pd.DataFrame(index=pd.Index(records[PersonRecord.unique_id]))
    for col, prefix in IDENTITY:
        if col not in records:
            out[col] = np.full(len(records), -1, dtype=np.int64)
            continue
        raw_codes, raw = pd.factorize(records[col], use_na_sentinel=True)
        values = pd.Series(raw, dtype=object).astype("string").str.strip().str.upper()
        values = values.where(values != "")
        if col in WITHOUT_PLACEHOLDERS:
            values = WITHOUT_PLACEHOLDERS[col](values).astype("string")
        values = values.str[:prefix] if prefix else values
        codes = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
        out[col] = np.append(codes, -1)[raw_codes]
    return out


def _conflict(pairs: pd.DataFrame, ident: pd.DataFrame) -> pd.Series:
    """Per pair (``unique_id_l``, ``unique_id_r``): do the records disagree on a date of birth, NINO or initial?"""
    left, right = ident.index.get_indexer(pairs["unique_id_l"]), ident.index.get_indexer(pairs["unique_id_r"])
    conflict = np.zeros(len(pairs), dtype=bool)
    for col in ident.columns:
        codes = np.append(ident[col].to_numpy(dtype=np.int64), -1)  # a record not in ``ident`` holds nothing
        a, b = codes[left], codes[right]
        conflict |= (a >= 0) & (b >= 0) & (a != b)
    return pd.Series(conflict, index=pairs.index)


def _ordered(pairs: pd.DataFrame, cannot: set[tuple[str, str]]) -> set[tuple[str, str]]:
    a = pairs["unique_id_l"].to_numpy(dtype=object)
    b = pairs["unique_id_r"].to_numpy(dtype=object)
    first = a < b
    out = set(zip(np.where(first, a, b).tolist(), np.where(first, b, a).tolist()))
    return out - cannot if cannot else out


def kept_memberships(records: pd.DataFrame, changed_ids: set[str], current: pd.DataFrame,
                     cannot: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Must-link pairs keeping each of ``changed_ids`` (the linking stage passes every record already held)
    with the other records of its golden person.

    People move and change their names: a record updated in place (new address, married name) stays with
    its person even though it no longer matches the old records on its own, also on a later day when a new
    record makes the matcher look at the person again. It leaves only on a conflict
    of identity: a different date of birth or NINO, or a first name with another initial, where both
    records hold one (or a steward's cannot-link).

    Examples:
        >>> recs = pd.DataFrame({"unique_id": ["1", "2", "3"], "date_of_birth": ["1980-01-02", None, "1981-05-05"],
        ...     "nino": [None, None, None], "first_name": ["ANN", "ANNE", "ANN"]})
        >>> cur = pd.DataFrame({"unique_id": ["1", "2", "3"], "cluster_id": ["p1", "p1", "p1"]})
        >>> sorted(kept_memberships(recs, {"1"}, cur, set()))
        [('1', '2')]
    """
    if current.empty or not changed_ids:
        return set()
    sizes = current.groupby("cluster_id")["unique_id"].transform("size")
    current = current[sizes <= MAX_CLUSTER]
    mine = current[current["unique_id"].isin(changed_ids)]
    pairs = mine.merge(current, on="cluster_id", suffixes=("_l", "_r"))
    pairs = pairs[pairs["unique_id_l"] != pairs["unique_id_r"]]
    if pairs.empty:
        return set()
    return _ordered(pairs[~_conflict(pairs, _identity(records))], cannot)


def identifier_links(records: pd.DataFrame, changed_ids: set[str], current: pd.DataFrame,
                     cannot: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Must-link pairs joining a new or changed record to the one golden person holding its NINO and date of birth.

    An exact NINO + date-of-birth agreement is overwhelming evidence (the matcher's own deterministic
    rule); that the person's other records state an older address is no conflict, since people move. The
    record joins only when exactly one person holds the pair and none of that person's records conflicts
    with it on date of birth, NINO or first initial.

    Examples:
        >>> recs = pd.DataFrame({"unique_id": ["1", "2", "3"], "date_of_birth": ["1980-01-02", None, "1980-01-02"],
        ...     "nino": ["JK482913C", None, "JK482913C"], "first_name": ["ANN", "ANN", "ANNIE"]})
        >>> cur = pd.DataFrame({"unique_id": ["1", "2"], "cluster_id": ["p1", "p1"]})
        >>> sorted(identifier_links(recs, {"3"}, cur, set()))
        [('1', '3'), ('2', '3')]
    """
    if current.empty or not changed_ids:
        return set()
    ident = _identity(records)
    keyed = ident[(ident["date_of_birth"] >= 0) & (ident["nino"] >= 0)]
    new = keyed[keyed.index.isin(changed_ids)].reset_index()
    member_of = current.set_index("unique_id")["cluster_id"]
    old = keyed[keyed.index.isin(member_of.index)].reset_index()
    hits = new.merge(old, on=["date_of_birth", "nino"], suffixes=("_l", "_r"))
    hits = hits[hits["unique_id_l"] != hits["unique_id_r"]]
    hits = hits.assign(cluster_id=hits["unique_id_r"].map(member_of))
    hits = hits[hits["unique_id_l"].map(member_of).fillna("") != hits["cluster_id"]]  # already together
    one = hits.groupby("unique_id_l")["cluster_id"].transform("nunique") == 1
    targets = hits[one].drop_duplicates("unique_id_l")[["unique_id_l", "cluster_id"]]
    if targets.empty:
        return set()
    sizes = current.groupby("cluster_id")["unique_id"].size()
    targets = targets[targets["cluster_id"].map(sizes) <= MAX_CLUSTER]
    pairs = targets.merge(current.rename(columns={"unique_id": "unique_id_r"}), on="cluster_id")
    bad = pairs.loc[_conflict(pairs, ident), "unique_id_l"]
    pairs = pairs[~pairs["unique_id_l"].isin(set(bad))]
    return _ordered(pairs, cannot)
