"""Personal-name standardisation: cleaning, titles, suffixes, full-name parsing, Mac/Mc, nicknames."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import jellyfish
import numpy as np
from rapidfuzz.distance import OSA

from matching.arrays import unique
import pandas as pd

TITLES = (
    "mr", "mrs", "ms", "miss", "mx", "mstr", "master", "dr", "doctor", "rev", "revd", "reverend",
    "prof", "professor", "sir", "dame", "lady", "lord", "fr", "father", "sister", "capt",
    "captain", "col", "major", "cllr", "councillor", "hon", "rt",
)  # fmt: skip
_TITLE_RE = r"^(?P<title>(?:(?:" + "|".join(TITLES) + r")\s+)+)"
_SUFFIX_RE = r"\s+(?P<suffix>jr|jnr|junior|sr|snr|senior|ii|iii|iv)$"
_SUFFIX_CANON = {"jr": "jr", "jnr": "jr", "junior": "jr", "ii": "jr", "sr": "sr", "snr": "sr", "senior": "sr"}
_SURNAME_PARTICLES = r"(?:van|von|de|der|den|da|di|du|del|della|le|la|st|ap|bin|ibn)"
_LAST_RE = r"^(?P<front>.*?)(?:^|\s+)(?P<last>(?:" + _SURNAME_PARTICLES + r"\s+)*[a-z\-]+)$"
_INITIAL_LAST_RE = (r"^(?P<last>(?:" + _SURNAME_PARTICLES + r"\s+)*[a-z'\-]{2,})\s+"
                    r"(?P<given>[a-z'\-]{2,}(?:\s+[a-z'\-]+)*\s+[a-z])$")


def on_uniques(series: pd.Series, fn: Callable[[pd.Series], pd.Series | pd.DataFrame]) -> pd.Series | pd.DataFrame:
    """Apply a vectorised ``fn`` to the distinct values of ``series`` only, then broadcast back."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    result = fn(pd.Series(uniques, dtype="object"))
    if isinstance(result, pd.DataFrame):
        out = result.reindex(np.where(codes < 0, len(result), codes)).reset_index(drop=True)
        out.index = series.index
        return out.astype(object).where(out.notna(), None)  # a missing input gives None in every column, not NaN
    values = np.append(result.to_numpy(dtype=object), None)[np.where(codes < 0, len(result), codes)]
    return pd.Series(values, index=series.index, dtype="object")


def _blank_to_none(s: pd.Series) -> pd.Series:
    s = s.astype("object")
    return s.where(s.notna() & (s.astype("string").str.len() > 0), None)


def clean_name_text(s: pd.Series) -> pd.Series:
    """Lower-case ASCII letters, spaces and hyphens; apostrophes dropped, dots become spaces.

    Examples:
        >>> clean_name_text(pd.Series(["  O'Brien ", "J.A.", "Zoë  Smith - Jones"])).tolist()
        ['obrien', 'j a', 'zoe smith-jones']
    """
    t = s.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    t = t.str.lower().str.replace(r"['`’]", "", regex=True).str.replace(r"[^a-z\-,]", " ", regex=True)
    t = t.str.replace(r"\s*-\s*", "-", regex=True).str.replace(r"-{2,}", "-", regex=True)
    t = t.str.replace(r"\s+", " ", regex=True).str.strip(" -")
    return _blank_to_none(t)


def canonical_surname(s: pd.Series) -> pd.Series:
    """Surname spelling variants folded together: Mac/Mc, Saint/St, O' prefixes, hyphens as spaces.

    Examples:
        >>> canonical_surname(pd.Series(["macdonald", "mcdonald", "o brien", "smith-jones", "macey"])).tolist()
        ['mcdonald', 'mcdonald', 'obrien', 'smith jones', 'macey']
    """
    t = s.astype("string").str.replace("-", " ", regex=False)
    t = t.str.replace(r"\bmac(?=[b-df-hj-np-tv-z][a-z]{2,})", "mc", regex=True)
    t = t.str.replace(r"^saint\s+", "st ", regex=True).str.replace(r"^o\s+", "o", regex=True)
    t = t.str.replace(r"\s+", " ", regex=True).str.strip()
    return _blank_to_none(t)


def split_title(s: pd.Series) -> pd.DataFrame:
    """Leading titles ("Mr", "Dr") into their own column."""
    parts = s.astype("string").str.extract(_TITLE_RE + r"(?P<rest>.*)$")
    rest = parts["rest"].fillna(s.astype("string"))
    return pd.DataFrame({"title": _blank_to_none(parts["title"].str.strip()), "rest": _blank_to_none(rest.str.strip())})


def split_suffix(s: pd.Series) -> pd.DataFrame:
    """Trailing generation suffixes ("Jr", "Snr", "III") into ``name_suffix`` ('jr', 'sr', 'iii', 'iv')."""
    t = s.astype("string")
    parts = t.str.extract(r"^(?P<rest>.*?)" + _SUFFIX_RE)
    suffix = parts["suffix"].map(lambda v: _SUFFIX_CANON.get(v, v) if isinstance(v, str) else None)
    rest = parts["rest"].fillna(t)
    return pd.DataFrame({"name_suffix": _blank_to_none(suffix), "rest": _blank_to_none(rest.str.strip())})


def parse_full_name(full: pd.Series) -> pd.DataFrame:
    """Free-text names into title, first, middle, last and suffix.

    Handles "SMITH, JOHN A", "Mr J Smith", "John Adam Smith Jr", "SMITH SNR, JOHN", "Anna van der Berg" and a
    legacy export's "SMITH JOHN A" (surname, forename, initial).

    Examples:
        >>> parse_full_name(pd.Series(["SMITH, JOHN A", "Mr J Smith", "SMITH SNR, JOHN"]))[["first_name", "last_name", "name_suffix"]].values.tolist()
        [['john', 'smith', None], ['j', 'smith', None], ['john', 'smith', 'sr']]
    """
    # "SMITH John": a surname written in capitals before mixed-case given names is the surname
    raw = full.astype("string").str.strip()
    caps_first = raw.str.replace(r"^([A-Z][A-Z'\-]+)\s+([A-Z][a-z].*)$", r"\1, \2", regex=True)
    cleaned = clean_name_text(caps_first)
    titled = split_title(cleaned.str.replace(",", " , ", regex=False).str.replace(r"\s+", " ", regex=True).str.strip())
    suffixed = split_suffix(titled["rest"].str.replace(r"\s*,\s*$", "", regex=True))
    text = suffixed["rest"].astype("string")
    surname_first = text.str.extract(r"^(?P<last>[^,]+?)\s*,\s*(?P<given>.*)$")
    # "HAMILTON BARRY W": a legacy export's surname, forename and middle initial without a comma (no surname is a
    # single letter, so a name ending in one is written surname first)
    surname_first = surname_first.where(surname_first["last"].notna(), text.str.extract(_INITIAL_LAST_RE))
    plain = text.str.extract(_LAST_RE)
    is_surname_first = surname_first["last"].notna()
    # "ANDERSON SNR, HENRY": the suffix written with the surname, before the comma
    comma_suffix = split_suffix(surname_first["last"])
    suffix = suffixed["name_suffix"].where(suffixed["name_suffix"].notna(), comma_suffix["name_suffix"])
    last = comma_suffix["rest"].where(is_surname_first, plain["last"])
    given = surname_first["given"].where(is_surname_first, plain["front"]).str.replace(",", " ", regex=False).str.strip()
    # "SMITH, JOHN A Mr": a title after the comma
    given_t = split_title(given)
    given = given_t["rest"].astype("string")
    title = titled["title"].where(titled["title"].notna(), given_t["title"])
    first = given.str.extract(r"^(?P<first>\S+)\s*(?P<middle>.*)$")
    return pd.DataFrame(
        {
            "title": _blank_to_none(title),
            "first_name": _blank_to_none(first["first"]),
            "middle_names": _blank_to_none(first["middle"]),
            "last_name": _blank_to_none(last),
            "name_suffix": _blank_to_none(suffix),
        },
        index=full.index,
    )


def _metaphone_of(values: pd.Series) -> pd.Series:
    return values.map(lambda v: jellyfish.metaphone(v.replace(" ", "")) or None if isinstance(v, str) else None)


def metaphone(s: pd.Series, *, first_token: bool = False) -> pd.Series:
    """Metaphone code per distinct value (the first token only when asked, so "smith jones" ~ "smith")."""
    base = s.astype("string").str.split(" ").str[0] if first_token else s
    return on_uniques(base, _metaphone_of)


def is_transposition(a: str, b: str) -> bool:
    """``a`` is ``b`` with two neighbouring letters swapped: one slip, however short the name ("JCAK"/"JACK",
    "HYA"/"HAY"), where a similarity ratio would call three or four letters with one slip two names.

    Examples:
        >>> is_transposition("HYA", "HAY"), is_transposition("JOHN", "JOAN"), is_transposition("AB", "AB")
        (True, False, False)
    """
    return len(a) == len(b) and sorted(a) == sorted(b) and OSA.distance(a, b) == 1  # same letters: not a substitution


@lru_cache(maxsize=1)
def _nicknamer():  # noqa: ANN202 - third-party type
    from nicknames import NickNamer

    return NickNamer()


def related_names(name: str) -> set[str]:
    """The name, its nicknames and the names it is a nickname of (``nicknames`` package list)."""
    nn = _nicknamer()
    return {name} | set(nn.nicknames_of(name)) | set(nn.canonicals_of(name))


def nickname_pair_keys(uniques: np.ndarray) -> np.ndarray:
    """Sorted int64 keys ``i * n + j`` for every ordered pair of distinct values that are nickname-related.

    One lookup per distinct name (not per pair); pairs are then tested with ``isin``.
    """
    n = len(uniques)
    index = {v: i for i, v in enumerate(uniques)}
    keys: list[int] = []
    for i, name in enumerate(uniques):
        for other in related_names(name):
            j = index.get(other)
            if j is not None and j != i:
                keys.append(i * n + j)
                keys.append(j * n + i)
    return unique(np.asarray(keys, dtype=np.int64))
