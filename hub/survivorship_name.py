"""A golden person's surname: kept until a trusted source record newly states a different name."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

import pandas as pd
from rapidfuzz.distance import OSA

from matching.names import is_transposition, parse_full_name

from hub.survivorship import DEFAULT_RULES, rank

CHANGED = "changed"  # a trusted, live, new or updated record states another surname: the person changed name
KEPT = "kept"
GENERATION = re.compile(r"\s+(?:JNR|JR|SNR|SR|JUNIOR|SENIOR|II|III|IV)\.?$")
SPELLING_SIMILARITY = 0.75  # above this two surname keys are one name spelt two ways (typo), not a new name
TURN_MARGIN = 0.5  # a mirrored name turns round when its surname is this much more often a first name (share of uses)


NAME_PARTS = ("title", "first_name", "middle_names", "last_name")


_ASCII_LOWER = frozenset(string.ascii_lowercase)


def _as_written(token: object, raw: object) -> object:
    """``token`` (lower-case, from the parser) in the spelling of the raw text when it appears there as a word."""
    if not isinstance(token, str) or not isinstance(raw, str):
        return token
    if token and raw.isascii() and token.isascii() and "'" not in raw and "`" not in raw:
        return _as_written_plain(token, raw)
    spelt = "['’`]?".join(re.escape(c) for c in token)  # the parser drops apostrophes: O'Neil is "oneil"
    found = re.search(rf"(?<![A-Za-z]){spelt}(?![A-Za-z])", raw, flags=re.IGNORECASE)
    return found.group(0) if found else token.title()


def _as_written_plain(token: str, raw: str) -> str:
    """:func:`_as_written` for ASCII text without apostrophes, by plain search (no pattern to compile per record)."""
    low, word, start = raw.lower(), token.lower(), 0
    while (i := low.find(word, start)) >= 0:
        end = i + len(word)
        if (i == 0 or low[i - 1] not in _ASCII_LOWER) and (end == len(low) or low[end] not in _ASCII_LOWER):
            return raw[i:end]
        start = i + 1
    return token.title()


def fill_name_parts(records: pd.DataFrame) -> pd.DataFrame:
    """Name parts parsed from ``full_name`` for records that hold no parts (a council-tax "lead name" system).

    Without this a person known only to such systems has no first or last name in the golden record, and a
    change of surname they report is never seen. Parts keep the source's own spelling ("KERR, AVA C" gives
    ``KERR`` / ``AVA`` / ``C``); records with any part of their own are left as they are.

    Examples:
        >>> f = pd.DataFrame({"full_name": ["KERR, AVA C", "Mr John O'Neil", None], "title": [None, None, None],
        ...     "first_name": [None, None, "Ann"], "middle_names": [None] * 3, "last_name": [None, None, "Lee"]})
        >>> fill_name_parts(f)[["title", "first_name", "middle_names", "last_name"]].values.tolist()
        [[None, 'AVA', 'C', 'KERR'], ['Mr', 'John', None, "O'Neil"], [None, 'Ann', None, 'Lee']]
    """
    if "full_name" not in records or not all(p in records for p in NAME_PARTS):
        return records
    need = records["full_name"].notna() & records[list(NAME_PARTS)].isna().all(axis=1)
    if not need.any():
        return records
    out = records.copy()
    raw = out.loc[need, "full_name"]
    parsed = parse_full_name(raw)
    for part in NAME_PARTS:
        out.loc[need, part] = [_as_written(v, r) for v, r in zip(parsed[part], raw)]
    return out


def names_the_right_way_round(records: pd.DataFrame, known: pd.DataFrame | None = None,
                              name_use: Callable[[set[str]], pd.DataFrame] | None = None) -> pd.DataFrame:
    """``records`` (``cluster_id``, name parts, ``trust`` when known) with the parts of records written the other
    way round put back.

    Each person has an anchor name: its golden record's (``known``: ``cluster_id, first_name, last_name``), or for
    a new person its most trusted record's. A record is the other way round when its surname is the anchor's first
    name (and not its surname) and its first name's first word is not: "LAURA, QUINN J" beside the golden Laura
    Jennifer Graham is Laura J Quinn (she married), and "BRUCE HELEN", all that is left of Helen Bruce when the roll
    drops her, is still Helen Bruce. Its first word becomes the surname, the surname the first name, and the rest
    of the first name goes before the middle names.

    When a record is the anchor's exact mirror ("GRAHAM, LAURA" on the roll, "LAURA, GRAHAM J" the most trusted
    account), which of the two is the right way round is for ``name_use`` to say: given name keys, how many
    records of the hub write each as a first name (``as_first``) and as a surname (``as_last``), indexed by key.
    The anchor turns round when the hub uses its surname as a first name far more than its first name
    (:func:`reads_the_other_way_round`).

    Examples:
        >>> r = pd.DataFrame({"cluster_id": ["c", "c"], "first_name": ["LAURA JENNIFER", "QUINN J"],
        ...                   "middle_names": [None, None], "last_name": ["GRAHAM", "LAURA"], "trust": [3, 1]})
        >>> names_the_right_way_round(r)[["first_name", "middle_names", "last_name"]].values.tolist()
        [['LAURA JENNIFER', None, 'GRAHAM'], ['LAURA', 'J', 'QUINN']]
    """
    if records.empty or not {"cluster_id", "first_name", "last_name"} <= set(records.columns):
        return records
    first = records["first_name"].map(_first_token_key)
    last = records["last_name"].map(name_key)
    named = records.assign(_first=first, _last=last)[(first != "") & (last != "")]
    if "trust" in named:
        named = named.sort_values("trust", ascending=False, kind="stable")
    anchor = named.drop_duplicates("cluster_id").set_index("cluster_id")[["_first", "_last"]]
    if known is not None and len(known):
        golden = pd.DataFrame({"_first": known["first_name"].map(_first_token_key).to_numpy(),
                               "_last": known["last_name"].map(name_key).to_numpy()}, index=known["cluster_id"])
        golden = golden[(golden["_first"] != "") & (golden["_last"] != "")]
        anchor = pd.concat([golden, anchor[~anchor.index.isin(golden.index)]])
    if name_use is not None:
        anchor = _turned_by_use(anchor, first, last, records["cluster_id"], name_use)
    anchor_first = records["cluster_id"].map(anchor["_first"])
    anchor_last = records["cluster_id"].map(anchor["_last"])
    swap = (first != "") & (last != "") & (first != last) & (last == anchor_first) & (last != anchor_last) \
        & (first != anchor_first)
    if not swap.any():
        return records
    out = records.copy()
    words = out.loc[swap, "first_name"].str.split()
    rest = words.str[1:].str.join(" ")
    out.loc[swap, "first_name"] = out.loc[swap, "last_name"]
    out.loc[swap, "last_name"] = words.str[0]
    if "middle_names" in out:
        joined = [" ".join(p for p in (r, m) if isinstance(p, str) and p) or None
                  for r, m in zip(rest, out.loc[swap, "middle_names"])]
        out.loc[swap, "middle_names"] = pd.Series(joined, index=words.index, dtype=object)
    return out


def _turned_by_use(anchor: pd.DataFrame, first: pd.Series, last: pd.Series, cluster: pd.Series,
                   name_use: Callable[[set[str]], pd.DataFrame]) -> pd.DataFrame:
    """``anchor`` with the names of a person turned round where one of its records mirrors them and the hub's use of
    the two names says the anchor is the record written the other way round."""
    mirrored = (first != "") & (first == cluster.map(anchor["_last"])) & (last == cluster.map(anchor["_first"]))
    doubted = anchor[anchor.index.isin(set(cluster[mirrored]))]
    if doubted.empty:
        return anchor
    use = name_use(set(doubted["_first"]) | set(doubted["_last"]))
    turn = [reads_the_other_way_round(f, l, use) for f, l in zip(doubted["_first"], doubted["_last"])]
    turned = doubted[turn]
    if turned.empty:
        return anchor
    out = anchor.copy()
    out.loc[turned.index, "_first"] = turned["_last"].to_numpy()
    out.loc[turned.index, "_last"] = turned["_first"].to_numpy()
    return out


def reads_the_other_way_round(first: str, last: str, use: pd.DataFrame) -> bool:
    """True when the hub's records write ``last`` as a first name far more often than ``first`` (``use``:
    ``as_first, as_last`` counts by name key): "GRAHAM" (surname) "LAURA" (first name) is Laura Graham.

    Examples:
        >>> use = pd.DataFrame({"as_first": [410, 12], "as_last": [1, 380]}, index=["LAURA", "GRAHAM"])
        >>> reads_the_other_way_round("GRAHAM", "LAURA", use), reads_the_other_way_round("LAURA", "GRAHAM", use)
        (True, False)
        >>> reads_the_other_way_round("ZED", "ZOE", use)  # names the hub has never seen: as written
        False
    """
    def first_share(key: str) -> float:
        if key not in use.index:
            return 0.5
        row = use.loc[key]
        return (float(row["as_first"]) + 1) / (float(row["as_first"]) + float(row["as_last"]) + 2)
    return first_share(last) - first_share(first) > TURN_MARGIN


def name_key(name: object) -> str:
    """A surname as compared for a change of name: case, spacing, punctuation, Mac/Mc and Jnr/Snr do not count.

    Examples:
        >>> name_key("MacLean Jnr"), name_key("mc lean"), name_key("O'Neil-Smith")
        ('MCLEAN', 'MCLEAN', 'ONEILSMITH')
    """
    if not isinstance(name, str):
        return ""
    key = re.sub(r"[^A-Z]", "", GENERATION.sub("", name.upper().strip()))
    return "MC" + key[3:] if key.startswith("MAC") and len(key) > 5 else key  # MacLean = McLean


def _first_token_key(name: object) -> str:
    """:func:`name_key` of a name's first word ("PAUL ALAN" gives "PAUL")."""
    return name_key(name.split()[0]) if isinstance(name, str) and name.split() else ""


def is_new_name(before: object, after: object) -> bool:
    """True when ``after`` is another surname than ``before``, not a spelling of it (both must be present).

    Two neighbouring letters swapped are one slip however short the name ("HYA" corrected to "HAY").

    Examples:
        >>> is_new_name("WOOD", "PRICE"), is_new_name("STEWART", "Stweart"), is_new_name("SMITH", "SMITH-JONES")
        (True, False, True)
        >>> is_new_name("HYA", "Hay"), is_new_name("COX", "FOX"), is_new_name("SMITH", None)
        (False, True, False)
    """
    a, b = name_key(before), name_key(after)
    if not a or not b or a == b or is_transposition(a, b):
        return False
    return OSA.normalized_similarity(a, b) < SPELLING_SIMILARITY


def is_change_of_name(before: dict, after: dict) -> bool:
    """True when the golden name ``after`` tells of a new surname (:func:`is_new_name`) rather than the same two
    names the other way round: a source that writes the surname first ("BRUCE HELEN") may be all that is left of
    Helen Bruce when the roll that named her properly drops her.

    Examples:
        >>> is_change_of_name({"first_name": "Helen", "last_name": "Bruce"}, {"first_name": "Helen", "last_name": "Low"})
        True
        >>> is_change_of_name({"first_name": "Helen", "last_name": "Bruce"}, {"first_name": "BRUCE", "last_name": "HELEN"})
        False
    """
    if not is_new_name(before.get("last_name"), after.get("last_name")):
        return False
    was_last, now_first = name_key(before.get("last_name")), after.get("first_name")
    swapped = was_last in {name_key(now_first), _first_token_key(now_first)} \
        or name_key(after.get("last_name")) == _first_token_key(before.get("first_name"))
    return not swapped


def choose_last_name(records: pd.DataFrame, prior_name: pd.Series, rule: str | None = None) -> pd.DataFrame:
    """One surname per cluster, with the record it came from and why.

    Args:
        records: ``record_id, cluster_id, last_name, trust, recency, live, trusted, changed`` (``changed``:
            the record is new or its content changed in this run).
        prior_name: the golden person's current surname by ``cluster_id``.
        rule: the configured survivorship rule for ``last_name`` (default ``trust``).

    A trusted record (live or just closed) that changed in this run and states a new surname (not a spelling of the current
    one) changes the person's name (``changed``). Otherwise the current surname stays while any record
    still states it (``kept``); only when none does, or for a new person, the rule chooses.

    Examples:
        >>> recs = pd.DataFrame({"record_id": [1, 2], "cluster_id": ["c", "c"], "last_name": ["WOOD", "PRICE"],
        ...     "trust": [5, 2], "recency": pd.to_datetime(["2024-01-01", "2024-02-01"]), "live": [True, True],
        ...     "trusted": [True, True], "changed": [False, True]})
        >>> choose_last_name(recs, pd.Series({"c": "WOOD"})).loc["c", "last_name__rule"]
        'changed'
    """
    rule = rule or DEFAULT_RULES.get("last_name", "trust")
    cands = records[records["last_name"].notna()]
    ranked = rank(cands, rule, "last_name")
    prior = ranked["cluster_id"].map(prior_name)
    keys = ranked["last_name"].map(name_key)
    same = prior.notna() & (keys == prior.map(name_key))
    new = pd.Series([is_new_name(p, v) for p, v in zip(prior, ranked["last_name"])], index=ranked.index, dtype=bool)
    # Unlike an address, a name does not end with an account: a closing record renamed in the same update
    # (married, moved in with the spouse) still tells us the new name.
    # First and last names swapped somewhere are not a new surname: a record whose first name is the person's
    # surname, or a "new" surname that is a first name the person goes by in any record of theirs (a source that
    # writes the surname first may have made the golden record the swapped one).
    firsts = ranked["first_name"] if "first_name" in ranked else pd.Series(None, index=ranked.index, dtype=object)
    swapped = (prior.map(name_key) == firsts.map(name_key)) | (prior.map(name_key) == firsts.map(_first_token_key))
    if "first_name" in records:
        known = set(zip(records["cluster_id"], records["first_name"].map(_first_token_key)))
        swapped |= pd.Series([bool(k) and (c, k) in known for c, k in zip(ranked["cluster_id"], keys)],
                             index=ranked.index, dtype=bool)
    news = new & ~swapped & ranked["trusted"].astype(bool) & ranked["changed"].astype(bool)
    best_news = ranked[news].drop_duplicates("cluster_id").assign(last_name__rule=CHANGED)
    best_kept = ranked[same & ~ranked["cluster_id"].isin(best_news["cluster_id"])].drop_duplicates("cluster_id")
    best_kept = best_kept.assign(last_name__rule=KEPT)
    decided = set(best_news["cluster_id"]) | set(best_kept["cluster_id"])
    rest = ranked[~ranked["cluster_id"].isin(decided)].drop_duplicates("cluster_id").assign(last_name__rule=rule)
    best = pd.concat([best_news, best_kept, rest]).set_index("cluster_id")
    out = pd.DataFrame(index=pd.Index(records["cluster_id"].drop_duplicates(), name="cluster_id"))
    out["last_name"] = best["last_name"]
    out["last_name__record_id"] = best["record_id"]
    out["last_name__rule"] = best["last_name__rule"].reindex(out.index).fillna(rule)
    return out
