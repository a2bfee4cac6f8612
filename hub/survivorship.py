"""Survivorship: choosing each golden attribute from a cluster's source records, with the record it came from."""

from __future__ import annotations

import pandas as pd

from matching.names import canonical_surname, clean_name_text, on_uniques
from matching.placeholders import (
    without_placeholder_dates,
    without_placeholder_emails,
    without_placeholder_names,
    without_placeholder_ninos,
    without_placeholder_phones,
)
from matching.standardise import standardise_email, standardise_nino, standardise_phone

# The address is chosen as one unit so UPRN, text and postcode always come from the same record.
ADDRESS_UNIT = ("uprn", "address", "postcode")
DEFAULT_RULES = {"address": "recent"}  # people move: the newest report of an address wins unless configured


def without_placeholders(records: pd.DataFrame) -> pd.DataFrame:
    """Source values that only stand in for an unknown one ("UNKNOWN", "THE OCCUPIER", 01/01/1900,
    noemail@..., 01234 567890) blanked, as the matcher ignores them (:mod:`matching.placeholders`): they never
    survive into a golden record over a real value, nor raise a change of name. Other values keep their own spelling.

    Examples:
        >>> recs = pd.DataFrame({"first_name": ["UNKNOWN", "Ann", "The"], "middle_names": [None, "X", None],
        ...     "last_name": ["Lee", "Lee", "Occupier"], "date_of_birth": ["1900-01-01", "1970-02-01", None],
        ...     "email": ["NoEmail@council.gov.uk", "ann@mail.co.uk", None], "phone": ["01234 567890", "+1 555 0100", None]})
        >>> without_placeholders(recs).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
        [[None, None, 'Lee', None, None, None], ['Ann', 'X', 'Lee', '1970-02-01', 'ann@mail.co.uk', '+1 555 0100'],
         [None, None, None, None, None, None]]
    """
    out = records.copy()
    parts = [c for c in ("first_name", "middle_names", "last_name") if c in out]
    if parts:
        cleaned = pd.DataFrame({c: on_uniques(out[c], clean_name_text) for c in parts}, index=out.index)
        cleaned = cleaned.reindex(columns=["first_name", "middle_names", "last_name"])
        cleaned["last_name"] = on_uniques(cleaned["last_name"], canonical_surname)  # "NOT-KNOWN" as the matcher sees it
        kept = without_placeholder_names(cleaned)
        for c in parts:
            out[c] = out[c].where(kept[c].notna() | cleaned[c].isna(), None)
    # (standardised form, placeholder filter): a value is blanked only when its standardised form is a
    # placeholder; one the standardiser cannot read (a foreign phone number) is kept as written
    checks = {"date_of_birth": (lambda s: s.astype("string"), without_placeholder_dates),
              "date_of_death": (lambda s: s.astype("string"), without_placeholder_dates),
              "email": (lambda s: on_uniques(s, standardise_email), without_placeholder_emails),
              "phone": (lambda s: on_uniques(s, standardise_phone), without_placeholder_phones),
              "nino": (standardise_nino, without_placeholder_ninos)}
    for column, (standardised, kept) in checks.items():
        if column in out:
            values = out[column].astype(object).where(out[column].notna(), None)
            form = standardised(values)
            placeholder = form.notna().to_numpy(dtype=bool) & kept(form).isna().to_numpy(dtype=bool)
            out[column] = values.where(~placeholder, None)
    return out


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
