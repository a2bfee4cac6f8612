"""Survivorship: choosing each golden attribute from a cluster's source records, with the record it came from."""

from __future__ import annotations

import pandas as pd

# The address is chosen as one unit so UPRN, text and postcode always come from the same record.
ADDRESS_UNIT = ("uprn", "address", "postcode")
DEFAULT_RULES = {"address": "recent"}  # people move: the newest report of an address wins unless configured


def rank(candidates: pd.DataFrame, rule: str, value_col: str) -> pd.DataFrame:
    """Candidates sorted best first within each cluster by ``rule``; a ``_prefer`` column, when present,
    ranks ahead of the rule (higher first)."""
    if rule == "recent":
        keys, asc = ["recency", "trust"], [False, False]
    elif rule == "complete":
        candidates = candidates.assign(_len=candidates[value_col].astype(str).str.len())
        keys, asc = ["_len", "trust", "recency"], [False, False, False]
    elif rule == "frequent":
        counts = candidates.groupby(["cluster_id", value_col], sort=False)["record_id"].transform("size")
        candidates = candidates.assign(_count=counts)
        keys, asc = ["_count", "trust", "recency"], [False, False, False]
    elif rule == "trust":
        keys, asc = ["trust", "recency"], [False, False]
    else:
        raise ValueError(f"unknown survivorship rule {rule!r}")
    if "_prefer" in candidates:
        keys, asc = ["_prefer", *keys], [False, *asc]
    return candidates.sort_values(["cluster_id", *keys, "record_id"], ascending=[True, *asc, True], kind="mergesort")


def choose_attributes(records: pd.DataFrame, attributes: tuple[str, ...], rules: dict[str, str]) -> pd.DataFrame:
    """One row per cluster: each attribute's surviving value, its source record and the rule applied.

    Args:
        records: ``record_id, cluster_id, trust, recency`` plus the attribute columns (``uprn``,
            ``address``, ``postcode`` for the address unit).
        attributes: golden attributes to choose (``address`` means the address unit).
        rules: attribute → ``trust | recent | complete | frequent`` (default ``trust``).

    Returns:
        A frame indexed by ``cluster_id`` with columns ``<attr>``, ``<attr>__record_id`` and
        ``<attr>__rule`` for each attribute (``uprn`` and ``postcode`` ride with ``address``).

    Examples:
        >>> recs = pd.DataFrame({"record_id": [1, 2], "cluster_id": ["c", "c"], "trust": [1, 3],
        ...     "recency": pd.to_datetime(["2024-01-02", "2024-01-01"]), "last_name": ["SMYTH", "SMITH"]})
        >>> choose_attributes(recs, ("last_name",), {}).loc["c", "last_name"]
        'SMITH'
    """
    out = pd.DataFrame(index=pd.Index(records["cluster_id"].drop_duplicates(), name="cluster_id"))
    for attr in attributes:
        rule = rules.get(attr) or DEFAULT_RULES.get(attr, "trust")
        value_col = "address" if attr == "address" else attr
        if value_col not in records:
            continue
        # An address unit counts when it has a UPRN or text; other attributes when non-empty.
        present = records[value_col].notna()
        if attr == "address" and "uprn" in records:
            present |= records["uprn"].notna()
        candidates = records[present]
        best = rank(candidates, rule, value_col).drop_duplicates("cluster_id", keep="first").set_index("cluster_id")
        cols = list(ADDRESS_UNIT) if attr == "address" else [attr]
        for col in cols:
            if col in best:
                out[col] = best[col]
        out[f"{attr}__record_id"] = best["record_id"]
        out[f"{attr}__rule"] = rule
    return out
