"""A golden person's current address: kept until a trusted, live source record newly states another one."""

from __future__ import annotations

import pandas as pd

from hub.survivorship import ADDRESS_UNIT, DEFAULT_RULES, rank

MOVED = "moved"  # a trusted, live record newly states another UPRN: the person's current address changed
KEPT = "kept"  # no such news: the current address stays while any record of the person still states it


def _text_key(text: pd.Series) -> pd.Series:
    return text.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def choose_address(records: pd.DataFrame, prior_uprn: pd.Series, rule: str | None = None, *,
                   prior_text: pd.Series | None = None) -> pd.DataFrame:
    """One address unit (UPRN, text, postcode) per cluster, with the record it came from and why.

    Args:
        records: ``record_id, cluster_id, uprn, address, postcode, trust, recency`` plus ``live`` (not
            ended at its source), ``trusted`` (source trusted for life events) and ``fresh`` (the record
            is new or its UPRN changed since the person was last linked).
        prior_uprn: the golden person's current UPRN by ``cluster_id`` (missing or NA: no current address).
        rule: the configured survivorship rule for ``address`` (default ``recent``), used where nothing
            is known yet or the current address is stated by no record any more.
        prior_text: the current address text by ``cluster_id``, for persons whose address has no UPRN:
            a record new to the person (``is_new``) stating a UPRN at another text moves them.

    A person keeps the current UPRN until a live record of a trusted source that is fresh states another
    one (``moved``): records merely touched, closed accounts at the old address, untrusted reports (a
    service request names where a problem was) and records that always disagreed do not move anyone.
    Otherwise trusted records rank before untrusted, live before ended and a UPRN before none, then the rule.

    Examples:
        >>> recs = pd.DataFrame({"record_id": [1, 2, 3], "cluster_id": ["c"] * 3, "uprn": [10, 20, 30],
        ...     "address": ["A", "B", "C"], "postcode": [None] * 3, "trust": [3, 1, 2],
        ...     "recency": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
        ...     "live": [False, True, True], "trusted": [True, False, True], "fresh": [False, True, False]})
        >>> row = choose_address(recs, pd.Series({"c": 10})).loc["c"]
        >>> int(row.uprn), row.address__rule
        (10, 'kept')
        >>> recs.loc[2, "fresh"] = True
        >>> row = choose_address(recs, pd.Series({"c": 10})).loc["c"]
        >>> int(row.uprn), int(row.address__record_id), row.address__rule
        (30, 3, 'moved')
    """
    rule = rule or DEFAULT_RULES.get("address", "trust")
    present = records["address"].notna() | records["uprn"].notna()
    # trusted before untrusted, live before ended, then an address resolved to a UPRN before one that is not
    cands = records[present].assign(_prefer=records["trusted"].astype(int) * 4 + records["live"].astype(int) * 2
                                    + records["uprn"].notna().astype(int))
    ranked = rank(cands, rule, "address")
    prior = cands["cluster_id"].map(prior_uprn).astype("Int64")
    has_prior = prior.notna()
    same = (cands["uprn"].astype("Int64") == prior).fillna(False).astype(bool)
    news = cands["uprn"].notna() & cands["live"].astype(bool) & cands["trusted"].astype(bool)
    moved = has_prior & ~same & news & cands["fresh"].astype(bool)
    if prior_text is not None and "is_new" in cands:
        # No UPRN known for the current address: only a record new to the person, at another address text, says
        # they moved (an old record whose address was just resolved says nothing new).
        text = cands["cluster_id"].map(prior_text)
        other_text = text.notna() & (_text_key(cands["address"]) != _text_key(text)).fillna(True).astype(bool)
        moved |= ~has_prior & other_text & news & cands["is_new"].astype(bool)
    best_moved = ranked[moved.reindex(ranked.index)].drop_duplicates("cluster_id").assign(address__rule=MOVED)
    kept = same & ~cands["cluster_id"].isin(best_moved["cluster_id"])
    best_kept = ranked[kept.reindex(ranked.index)].drop_duplicates("cluster_id").assign(address__rule=KEPT)
    decided = set(best_moved["cluster_id"]) | set(best_kept["cluster_id"])
    rest = ranked[~ranked["cluster_id"].isin(decided)].drop_duplicates("cluster_id").assign(address__rule=rule)
    best = pd.concat([best_moved, best_kept, rest]).set_index("cluster_id")
    out = pd.DataFrame(index=pd.Index(records["cluster_id"].drop_duplicates(), name="cluster_id"))
    for col in ADDRESS_UNIT:
        out[col] = best[col] if col in best else None
    out["address__record_id"] = best["record_id"]
    out["address__rule"] = best["address__rule"].reindex(out.index).fillna(rule)
    return out
