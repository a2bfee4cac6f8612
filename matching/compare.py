"""Compare step: multi-level comparison vectors for candidate pairs, vectorised with rapidfuzz and numpy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from matching.arrays import isin, unique_inverse
from matching.conflicts import (
    GENERATION_YEARS,
    dob_years_apart,
    first_name_typo,
    namesake_households,
    opposite_gender,
)
from matching.names import nickname_pair_keys
from matching.settings import MatchSettings

NULL = -1  # gamma of a comparison where either side is missing: contributes no evidence
CHUNK = 1_000_000


@dataclass(frozen=True)
class Comparison:
    """One comparison: its levels strongest first (the last is "else"); nulls are level -1 and neutral."""

    name: str
    levels: tuple[str, ...]
    tf: bool = False  # term-frequency adjust the first (exact) level

    @property
    def else_level(self) -> int:
        return len(self.levels) - 1


LEVELS: dict[str, tuple[str, ...]] = {
    "first_name": ("exact", "nickname", "jaro_winkler_0.92", "swapped_with_surname", "initial_or_middle",
                   "jaro_winkler_0.80", "else"),
    "last_name": ("exact", "jaro_winkler_0.92", "swapped_with_first_name", "one_part_of_other",
                  "jaro_winkler_0.80", "else"),
    "middle_names": ("exact", "initial", "else"),
    "date_of_birth": ("exact", "day_month_swap", "one_edit", "two_edits", "else"),
    "nino": ("exact", "one_edit", "else"),
    "uprn": ("exact", "else"),
    "address": ("exact", "same_numbers_similar_text", "same_numbers_related_text", "similar_text_other_numbers",
                "else"),
    "postcode": ("exact", "one_edit", "same_sector_or_two_edits", "else"),
    "email": ("exact", "else"),
    "phone": ("exact", "else"),
}  # fmt: skip
EXTRA_ID_LEVELS = ("exact", "one_edit", "two_edits", "else")
TF_COMPARISONS = ("first_name", "last_name")


def comparisons_for(settings: MatchSettings) -> tuple[Comparison, ...]:
    """The declarative comparisons the settings ask for, in a fixed order."""
    out = [Comparison(n, LEVELS[n], tf=settings.tf_adjust_names and n in TF_COMPARISONS) for n in settings.comparisons]
    out += [Comparison(c, EXTRA_ID_LEVELS) for c in settings.extra_id_columns]
    return tuple(out)


@dataclass
class ComparisonVectors:
    """Gamma (level index, -1 null) per comparison, term frequencies of exact name values, hard-negative flags."""

    gammas: dict[str, np.ndarray]
    tf: dict[str, np.ndarray] = field(default_factory=dict)
    first_conflict: np.ndarray | None = None  # first names clearly differ, not by a typo (or middle names do)
    dob_conflict: np.ndarray | None = None  # dates of birth differ beyond a typo, in another birth year
    generation_conflict: np.ndarray | None = None  # Sr/Jr, or one name with births a generation apart
    nino_dob_match: np.ndarray | None = None
    same_dedup_source: np.ndarray | None = None  # both from one source that holds each person once
    identifier_agrees: np.ndarray | None = None  # the same NINO, or an extra id within one edit
    weak_evidence: np.ndarray | None = None  # no person-level agreement (dob, identifier, email): name + place only
    namesake: np.ndarray | None = None  # either record's household holds two people of its name
    initial_only: np.ndarray | None = None  # both records give the first name as an initial only
    place_agrees: np.ndarray | None = None  # same UPRN, or the same address where UPRNs are missing
    name_agrees: np.ndarray | None = None  # the first name or the surname agrees at some level short of "else"


class CompareContext:
    """Per-frame precomputation: value codes, nickname relation and term frequencies, shared by every chunk."""

    def __init__(
        self,
        frame: pd.DataFrame,
        comparisons: tuple[Comparison, ...],
        *,
        tf_tables: dict[str, dict[str, float]] | None = None,
        deduplicated_sources: tuple[str, ...] = (),
    ) -> None:
        self.frame = frame
        self.deduplicated_sources = deduplicated_sources
        self.comparisons = comparisons
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._nick: np.ndarray | None = None
        self._derived: dict[str, np.ndarray] = {}
        self.cache: dict[str, np.ndarray] = {}  # per-chunk results shared by comparisons
        self.address_fallback = True  # address is neutral when both records have a UPRN (off while estimating u)
        self.tf_tables: dict[str, pd.Series] = {}
        for comp in comparisons:
            if comp.tf and tf_tables is not None:
                self.tf_tables[comp.name] = pd.Series(tf_tables.get(comp.name, {}), dtype=float)
            elif comp.tf:
                counts = frame[comp.name].value_counts(dropna=True)
                self.tf_tables[comp.name] = counts / max(int(counts.sum()), 1)

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._codes:
            if column in self.frame.columns:
                codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=True)
                self._codes[column] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
            else:
                self._codes[column] = (np.full(len(self.frame), -1, dtype=np.int64), np.zeros(0, dtype=object))
        return self._codes[column]

    def derived(self, name: str, build) -> np.ndarray:  # noqa: ANN001 - build(frame) -> array
        """A per-record array computed once per frame (lengths, swapped dates, ...)."""
        if name not in self._derived:
            self._derived[name] = build(self.frame)
        return self._derived[name]

    def per_value(self, name: str, column: str, build, missing) -> np.ndarray:  # noqa: ANN001 - build(values) -> array
        """A per-record array that depends on the record's ``column`` value alone, computed once per distinct value
        (``build`` maps a Series of the distinct values to an array) and ``missing`` where the record has none."""
        if name not in self._derived:
            codes, uniques = self.codes(column)
            values = np.asarray(build(pd.Series(uniques, dtype=object)))
            self._derived[name] = np.append(values, np.asarray([missing], dtype=values.dtype))[codes]
        return self._derived[name]

    def namesakes(self, positions: np.ndarray) -> np.ndarray:
        """Per record, :func:`~matching.conflicts.namesake_households`, exact at least at ``positions``.

        A record's flag depends only on the records sharing its place and surname, so a few pairs (a nightly run's)
        need only those households; the whole frame is flagged once the pairs touch a good part of it.
        """
        if "namesake" not in self._derived:
            self._derived["namesake"] = np.zeros(len(self.frame), dtype=bool)
            self._derived["namesake_known"] = np.zeros(len(self.frame), dtype=bool)
        flags, known = self._derived["namesake"], self._derived["namesake_known"]
        pending = np.unique(positions[~known[positions]])
        if not len(pending):
            return flags
        if len(pending) > len(self.frame) // 8:
            flags[:] = namesake_households(self.frame, self.deduplicated_sources)
            known[:] = True
            return flags
        household = self.derived("place_and_surname", _place_and_surname_codes)
        keys = household[pending]
        rows = np.flatnonzero(isin(household, np.unique(keys[keys >= 0])))
        if len(rows):
            flags[rows] = namesake_households(self.frame.iloc[rows], self.deduplicated_sources)
        known[rows] = True
        known[pending] = True  # a record with no place or surname is no namesake
        return flags

    def known_namesakes(self, flags: np.ndarray) -> None:
        """Every record's namesake flag, computed elsewhere over whole households (the Spark engine's buckets)."""
        self._derived["namesake"] = np.asarray(flags, dtype=bool)
        self._derived["namesake_known"] = np.ones(len(flags), dtype=bool)

    def nickname_keys(self) -> np.ndarray:
        if self._nick is None:
            self._nick = nickname_pair_keys(self.codes("first_name")[1])
        return self._nick


def _sim(
    ctx: CompareContext,
    col_l: str,
    col_r: str,
    left: np.ndarray,
    right: np.ndarray,
    scorer,  # noqa: ANN001 - a rapidfuzz scorer
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Scorer over the distinct value pairs only, broadcast back to every pair; NaN where either is missing
    (or outside ``mask``, the pairs whose level still depends on this score)."""
    cl, ul = ctx.codes(col_l)
    cr, ur = ctx.codes(col_r)
    a, b = cl[left], cr[right]
    valid = (a >= 0) & (b >= 0)
    if mask is not None:
        valid &= mask
    out = np.full(len(left), np.nan)
    if not valid.any():
        return out
    key = a[valid] * (len(ur) + 1) + b[valid]
    uk, inv, _ = unique_inverse(key)
    scores = process.cpdist(ul[uk // (len(ur) + 1)], ur[uk % (len(ur) + 1)], scorer=scorer, workers=-1)
    out[valid] = np.asarray(scores, dtype=float)[inv]
    return out


def _select(conditions: list[np.ndarray], null: np.ndarray) -> np.ndarray:
    gamma = np.select(conditions, np.arange(len(conditions)), default=len(conditions)).astype(np.int8)
    gamma[null] = NULL
    return gamma


def _place_and_surname_codes(frame: pd.DataFrame) -> np.ndarray:
    """One integer per (place, surname) as :func:`~matching.conflicts.namesake_households` groups records (the
    UPRN, else the address); -1 where either is missing."""
    none = pd.Series(pd.NA, index=frame.index, dtype=object)
    uprn = pd.factorize(frame["uprn"] if "uprn" in frame else none, use_na_sentinel=True)[0].astype(np.int64)
    address = pd.factorize(frame["address"] if "address" in frame else none, use_na_sentinel=True)[0].astype(np.int64)
    place = np.where(uprn >= 0, uprn, np.where(address >= 0, uprn.max(initial=0) + 1 + address, -1))
    last = pd.factorize(frame["last_name"] if "last_name" in frame else none, use_na_sentinel=True)[0].astype(np.int64)
    key = place * (last.max(initial=0) + 1) + last
    return np.where((place >= 0) & (last >= 0), key, -1)


def _pair_codes(ctx: CompareContext, column: str, left: np.ndarray, right: np.ndarray):  # noqa: ANN202
    codes, _ = ctx.codes(column)
    a, b = codes[left], codes[right]
    return a, b, (a < 0) | (b < 0)


def _first_name(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b, null = _pair_codes(ctx, "first_name", left, right)
    n = len(ctx.codes("first_name")[1])
    nick = isin(a * n + b, ctx.nickname_keys()) & ~null
    jw = _sim(ctx, "first_name", "first_name", left, right, JaroWinkler.normalized_similarity, a != b)
    swapped = _swapped(ctx, left, right)
    init_l, init_r = ctx.codes("first_initial")[0][left], ctx.codes("first_initial")[0][right]
    lengths = ctx.derived("first_len", lambda f: f["first_name"].astype("string").str.len().fillna(0).to_numpy())
    initial = (init_l == init_r) & ((lengths[left] == 1) | (lengths[right] == 1))
    middle = _middle_first(ctx, left, right)
    return _select([a == b, nick, jw >= 0.92, swapped, initial | middle, jw >= 0.80], null)


def _middle_first(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Someone known by a middle name: one side's first name is the other's first middle name."""
    middle = ctx.per_value("middle_first", "middle_names", lambda v: pd.Categorical(
        _first_token(v), categories=ctx.codes("first_name")[1]).codes.astype(np.int64), -1)
    first = ctx.codes("first_name")[0]
    fl, fr, ml, mr = first[left], first[right], middle[left], middle[right]
    return ((fl >= 0) & (fl == mr)) | ((fr >= 0) & (fr == ml))


def _first_token(values: pd.Series) -> pd.Series:
    """The first space-separated word of each value (a first middle name)."""
    return values.astype("string").str.split(" ").str[0]


def _middle_conflict(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Both have a first middle name and they differ (an initial only conflicts with a different initial)."""
    token = ctx.per_value("middle_token", "middle_names", lambda v: pd.factorize(_first_token(v))[0].astype(np.int64), -1)
    initial = ctx.per_value("middle_initial", "middle_names",
                            lambda v: pd.factorize(_first_token(v).str[0])[0].astype(np.int64), -1)
    lengths = ctx.per_value("middle_len", "middle_names",
                            lambda v: _first_token(v).str.len().fillna(0).to_numpy(dtype=np.int64), 0)
    ta, tb, tnull = token[left], token[right], (token[left] < 0) | (token[right] < 0)
    ia, ib = initial[left], initial[right]
    one_initial = (lengths[left] == 1) | (lengths[right] == 1)
    return ~tnull & (ta != tb) & ~(one_initial & (ia == ib))


def _swapped(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """First and last names transposed between the records (each within Jaro-Winkler 0.92)."""
    if "_swapped" in ctx.cache:
        return ctx.cache["_swapped"]
    s1 = _sim(ctx, "first_name", "last_name", left, right, JaroWinkler.normalized_similarity)
    s2 = _sim(ctx, "last_name", "first_name", left, right, JaroWinkler.normalized_similarity, s1 >= 0.92)
    ctx.cache["_swapped"] = out = (s1 >= 0.92) & (s2 >= 0.92)
    return out


def _last_name(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b, null = _pair_codes(ctx, "last_name", left, right)
    jw = _sim(ctx, "last_name", "last_name", left, right, JaroWinkler.normalized_similarity, a != b)
    if "last_name_parts" not in ctx.frame.columns:
        ctx.frame["last_name_parts"] = ctx.frame["last_name"].astype("string").str.contains(" ").fillna(False).to_numpy(bool)
    multi = ctx.frame["last_name_parts"].to_numpy()
    maybe_part = (a != b) & (multi[left] | multi[right])  # "one part of the other" needs a multi-part surname
    part = _sim(ctx, "last_name", "last_name", left, right, fuzz.token_set_ratio, maybe_part) >= 100
    return _select([a == b, jw >= 0.92, _swapped(ctx, left, right), part, jw >= 0.80], null)


def _middle(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b, null = _pair_codes(ctx, "middle_names", left, right)
    initial = ctx.per_value("middle_initial_str", "middle_names",
                            lambda v: v.astype("string").str[0].fillna("").to_numpy(dtype=object), "")
    return _select([a == b, initial[left] == initial[right]], null)


def _dob(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b, null = _pair_codes(ctx, "date_of_birth", left, right)
    if "dob_swapped" not in ctx.frame.columns:
        d = ctx.frame["date_of_birth"].astype("string")
        ctx.frame["dob_swapped"] = (d.str[:5] + d.str[8:10] + "-" + d.str[5:7]).astype(object)
    dist = _sim(ctx, "date_of_birth", "date_of_birth", left, right, DamerauLevenshtein.distance, a != b)
    swapped_codes = ctx.derived(
        "dob_swapped_codes",
        lambda f: pd.Categorical(f["dob_swapped"], categories=ctx.codes("date_of_birth")[1]).codes.astype(np.int64),
    )
    swap = (swapped_codes[left] == b) & (swapped_codes[left] >= 0)
    return _select([a == b, swap, dist <= 1, dist <= 2], null)


def _exact_edit(ctx: CompareContext, column: str, left: np.ndarray, right: np.ndarray, edits: int) -> np.ndarray:
    a, b, null = _pair_codes(ctx, column, left, right)
    if edits == 0:
        return _select([a == b], null)
    dist = _sim(ctx, column, column, left, right, DamerauLevenshtein.distance)
    return _select([a == b] + [dist <= k for k in range(1, edits + 1)], null)


def _both_have_uprn(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ua, ub, _ = _pair_codes(ctx, "uprn", left, right)
    if not ctx.address_fallback:
        return np.zeros(len(left), dtype=bool)
    return (ua >= 0) & (ub >= 0)


def _postcode(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Fallback location evidence: neutral when both records carry a UPRN (neighbours share postcodes)."""
    a, b, null = _pair_codes(ctx, "postcode", left, right)
    null = null | _both_have_uprn(ctx, left, right)
    dist = _sim(ctx, "postcode", "postcode", left, right, DamerauLevenshtein.distance)
    sa, sb, snull = _pair_codes(ctx, "postcode_sector", left, right)
    return _select([a == b, dist <= 1, ((sa == sb) & ~snull) | (dist <= 2)], null)


def _address(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Fallback address evidence: neutral when both records carry a UPRN (the UPRN comparison decides)."""
    a, b, null = _pair_codes(ctx, "address", left, right)
    null = null | _both_have_uprn(ctx, left, right)
    na, nb, nnull = _pair_codes(ctx, "address_numbers", left, right)
    same_numbers = (na == nb) & ~nnull
    text = _sim(ctx, "address_words", "address_words", left, right, fuzz.token_set_ratio, (a != b) & ~null)
    no_numbers = (na < 0) & (nb < 0)
    return _select(
        [a == b, same_numbers & (text >= 85), (same_numbers & (text >= 60)) | (no_numbers & (text >= 85)), text >= 85],
        null,
    )


def compare_pairs(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> ComparisonVectors:
    """Comparison vectors for the pairs (``left[i]``, ``right[i]``), in chunks to bound memory."""
    parts = [_compare_chunk(ctx, left[i : i + CHUNK], right[i : i + CHUNK]) for i in range(0, max(len(left), 1), CHUNK)]
    if len(parts) == 1:
        return parts[0]
    return ComparisonVectors(
        gammas={k: np.concatenate([p.gammas[k] for p in parts]) for k in parts[0].gammas},
        tf={k: np.concatenate([p.tf[k] for p in parts]) for k in parts[0].tf},
        **{
            f: np.concatenate([getattr(p, f) for p in parts])
            for f in ("first_conflict", "dob_conflict", "generation_conflict", "nino_dob_match", "identifier_agrees",
                      "same_dedup_source", "weak_evidence", "namesake", "initial_only",
                      "place_agrees", "name_agrees")
        },
    )


def _compare_chunk(ctx: CompareContext, left: np.ndarray, right: np.ndarray) -> ComparisonVectors:
    ctx.cache = {}
    builders = {
        "first_name": _first_name,
        "last_name": _last_name,
        "middle_names": _middle,
        "date_of_birth": _dob,
        "nino": lambda c, l, r: _exact_edit(c, "nino", l, r, 1),
        "uprn": lambda c, l, r: _exact_edit(c, "uprn", l, r, 0),
        "address": _address,
        "postcode": _postcode,
        "email": lambda c, l, r: _exact_edit(c, "email", l, r, 0),
        "phone": lambda c, l, r: _exact_edit(c, "phone", l, r, 0),
    }
    gammas: dict[str, np.ndarray] = {}
    for comp in ctx.comparisons:
        build = builders.get(comp.name)
        gammas[comp.name] = build(ctx, left, right) if build else _exact_edit(ctx, comp.name, left, right, 2)
    tf = {}
    for name, table in ctx.tf_tables.items():
        codes, uniques = ctx.codes(name)
        freq = table.reindex(uniques).to_numpy(dtype=float)
        a = codes[left]
        tf[name] = np.where(gammas[name] == 0, freq[np.maximum(a, 0)] if len(freq) else np.nan, np.nan)
    first = gammas["first_name"] if "first_name" in gammas else _first_name(ctx, left, right)
    dob = gammas["date_of_birth"] if "date_of_birth" in gammas else _dob(ctx, left, right)
    sa, sb, snull = _pair_codes(ctx, "name_suffix", left, right)
    na, nb, nnull = _pair_codes(ctx, "nino", left, right)
    da, db, dnull = _pair_codes(ctx, "date_of_birth", left, right)
    # the same NINO (twins' NINOs can be one digit apart, so only exact) or an extra id within one keystroke
    identifier = ~nnull & (na == nb)
    for comp in ctx.comparisons:
        if comp.levels == EXTRA_ID_LEVELS:
            identifier |= (gammas[comp.name] == 0) | (gammas[comp.name] == 1)
    middle_conflict = _middle_conflict(ctx, left, right)
    same_dedup = np.zeros(len(left), dtype=bool)
    if ctx.deduplicated_sources and "source" in ctx.frame.columns:
        src, uniques = ctx.codes("source")
        dedup = np.isin(uniques, list(ctx.deduplicated_sources))
        same_dedup = (src[left] == src[right]) & dedup[src[left]]
    # a first name at Jaro-Winkler < 0.92 (not a nickname, initial or middle name) conflicts unless it is a typo;
    # a male and a female name conflict however close
    levels = LEVELS["first_name"]
    loose = first >= levels.index("jaro_winkler_0.80")
    # "Louis" / "Louise": close in spelling (and nickname-related in the list), but a male and a female name
    nickname = first == levels.index("nickname")
    nickname_close = _sim(ctx, "first_name", "first_name", left, right, JaroWinkler.normalized_similarity, nickname) >= 0.92
    close = (first == levels.index("jaro_winkler_0.92")) | (nickname & nickname_close)
    first_conflict = (loose & ~first_name_typo(ctx, left, right, loose)) | middle_conflict
    first_conflict |= opposite_gender(ctx, left, right, close)
    # a different date of birth (not a swap or one or two keystrokes) in the same birth year is a mistyped day and
    # month unless the first names conflict too (spouses born the same year)
    dob_else = dob == LEVELS["date_of_birth"].index("else")
    years = dob_years_apart(ctx, left, right)
    dob_conflict = dob_else & ((years >= 1) | first_conflict)
    # parent and child: Sr/Jr, or one name with dates of birth a generation apart (unless NINO or an id agrees)
    generation = (~snull & (sa != sb)) | (dob_else & (years >= GENERATION_YEARS) & ~first_conflict & ~identifier)
    person_level = ((dob >= 0) & (dob <= LEVELS["date_of_birth"].index("one_edit"))) | identifier
    if "email" in gammas:
        person_level |= gammas["email"] == 0
    namesake = ctx.namesakes(np.concatenate([left, right]))
    ua, ub, unull = _pair_codes(ctx, "uprn", left, right)
    place = ~unull & (ua == ub)
    if "address" in gammas:
        place |= (gammas["address"] >= 0) & (gammas["address"] <= LEVELS["address"].index("same_numbers_similar_text"))
    name = np.zeros(len(left), dtype=bool)
    for comp in ctx.comparisons:
        if comp.name in ("first_name", "last_name"):
            name |= (gammas[comp.name] >= 0) & (gammas[comp.name] < comp.else_level)
    lengths = ctx.derived("first_len", lambda f: f["first_name"].astype("string").str.len().fillna(0).to_numpy())
    return ComparisonVectors(
        gammas=gammas,
        tf=tf,
        identifier_agrees=identifier,
        same_dedup_source=same_dedup,
        first_conflict=first_conflict,
        dob_conflict=dob_conflict,
        generation_conflict=generation,
        nino_dob_match=~nnull & (na == nb) & ~dnull & (da == db),
        weak_evidence=~person_level,
        namesake=namesake[left] | namesake[right],
        initial_only=(lengths[left] == 1) & (lengths[right] == 1),
        place_agrees=place,
        name_agrees=name,
    )
