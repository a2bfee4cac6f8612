"""UK postcode validation, canonical form and extraction from free text."""

from __future__ import annotations

import re

import pandas as pd

# Royal Mail outward/inward rules (letters never used in given positions excluded).
_OUTWARD = r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL = re.compile(rf"^(?:({_OUTWARD})\s*({_INWARD})|(GIR)\s*(0AA))$")
# In free text: a loose shape, validated afterwards; inward 'O' read as zero.
FIND_RE = re.compile(r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][A-Z0-9]?)\s?([0-9O][A-Z]{2})(?![A-Z0-9])")


def normalise_postcode(text: object) -> str | None:
    """Return the canonical ``"AB1 2CD"`` form of a valid UK postcode, else ``None``.

    Examples:
        >>> normalise_postcode("sw1a1aa")
        'SW1A 1AA'
        >>> normalise_postcode("not a postcode") is None
        True
    """
    if not isinstance(text, str):
        return None
    s = re.sub(r"[^A-Z0-9]", "", text.upper())
    if len(s) < 5 or len(s) > 7:
        return None
    outward, inward = s[:-3], s[-3:]
    if inward[0] == "O":
        inward = "0" + inward[1:]
    m = _FULL.match(outward + " " + inward)
    if not m:
        return None
    return f"{outward} {inward}"


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_postcode` over a Series (invalid → ``None``)."""
    s = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    outward = s.str[:-3]
    inward = s.str[-3:].str.replace(r"^O", "0", regex=True)
    cand = (outward + " " + inward).where(s.str.len().between(5, 7))
    ok = cand.str.fullmatch(_FULL.pattern).fillna(False).astype(bool)
    return cand.where(ok).astype(object).where(ok, None)


def find_postcode(text: str) -> tuple[str | None, str]:
    """Find the last valid postcode in upper-case ``text``; return it and the text without it."""
    found: str | None = None
    span: tuple[int, int] | None = None
    for m in FIND_RE.finditer(text):
        pc = normalise_postcode(m.group(1) + m.group(2))
        if pc is not None:
            found, span = pc, m.span()
    if span is None:
        return None, text
    return found, text[: span[0]] + " " + text[span[1] :]


def sector(pc: pd.Series) -> pd.Series:
    """Postcode sector (``"AB1 2"``) of canonical postcodes."""
    return pc.str[:-2]


def district(pc: pd.Series) -> pd.Series:
    """Postcode district (outward code) of canonical postcodes."""
    return pc.str.split(" ").str[0]
