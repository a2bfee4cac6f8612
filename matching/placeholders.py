"""Placeholder values: what a council's systems hold where nobody knew the real value.

"UNKNOWN", "THE OCCUPIER", "PERSONS UNKNOWN", 01/01/1900, "NO FIXED ABODE", ZZ99 3VZ, noemail@…, 07000 000000,
AB 12 34 56 C. Two records that share one of these are not thereby the same person, yet to the matcher they agree
exactly, and placeholders are frequent, so they would chain strangers into one golden person (two "UNKNOWN
UNKNOWN" records born "01/01/1900" at different addresses scored well into the auto-merge band). The
standardiser makes them missing, so comparisons treat them as nulls (neutral) and blocking ignores them.

The lists are narrow on purpose: values no real person holds, or holds so rarely that losing them as evidence
costs at worst a missed match (a steward's question), never a false merge. Values are compared in the form the
standardiser gives them (lower-case, punctuation as spaces; dates ISO; phones as national digits).
"""

from __future__ import annotations

import pandas as pd

# Whole name fields (first, middle or last name, or "first last" together) that stand for "no name".
PLACEHOLDER_NAMES = frozenset({
    "unknown", "unkown", "unknwn", "unk", "not known", "notknown", "n k", "nk", "not given", "not stated",
    "n a", "none", "null", "nil", "tbc", "tba", "tbd", "to be confirmed", "test", "testing", "dummy",
    "anon", "anonymous", "no name", "noname", "name unknown", "unnamed", "persons unknown", "person unknown",
    "occupier", "occupiers", "the occupier", "the occupiers", "owner", "the owner", "the owners",
    "resident", "residents", "the resident", "the residents", "tenant", "the tenant", "the tenants",
    "householder", "the householder", "void", "vacant", "deceased", "baby", "unborn", "newborn", "new born",
})  # fmt: skip
# A name of one letter written three or more times ("XXX", "zzzz") is a placeholder too.
_REPEATED_LETTER = r"^([a-z])\1{2,}$"

# Dates systems write when the real one is unknown: 1 Jan 1900 and 1901, and the Excel/Access day zero.
PLACEHOLDER_DATES = frozenset({"1900-01-01", "1901-01-01", "1899-12-31", "1899-12-30"})

# Address lines that say the person has no address (or that it is not known).
PLACEHOLDER_ADDRESSES = frozenset({
    "no fixed abode", "nfa", "n f a", "no fixed address", "no address", "address unknown", "unknown address",
    "unknown", "not known", "n k", "none", "n a", "null", "tbc", "homeless", "address withheld", "withheld",
    "confidential", "not given", "refused",
})  # fmt: skip
# NHS pseudo-postcodes (ZZ99 3VZ: no fixed abode; ZZ99 3CZ: England, not otherwise specified; ...).
PLACEHOLDER_POSTCODE_OUTWARD = "ZZ99"

# Local parts of e-mail addresses that mean "no e-mail" (checked after the standardiser's own clean-up).
PLACEHOLDER_EMAIL_LOCALS = frozenset({
    "noemail", "nomail", "no", "none", "na", "null", "nil", "unknown", "test", "testing", "dummy", "noreply",
    "no-reply", "donotreply", "do-not-reply", "noone", "nobody", "x", "xx", "xxx", "abc", "email", "notknown",
    "noemailaddress", "noemailprovided", "notprovided", "refused",
})  # fmt: skip
PHONE_SEQUENCE = "123456789"  # "01234 567890", "07123 456789"
_PHONE_REPEATS = r"^.*?(\d)\1{5,}"  # six or more of one digit: "07000 000000", "01234 000000"
# NINO digits nobody is issued in practice: one digit six times, or 123456 ("AB 12 34 56 C", the usual dummy).
_NINO_DUMMY_DIGITS = r"^[A-Z]{2}(?:(\d)\1{5}|123456)"


def _keep(values: pd.Series, placeholder: pd.Series) -> pd.Series:
    return values.where(~placeholder.fillna(False).to_numpy(dtype=bool), None)


def without_placeholder_names(names: pd.DataFrame) -> pd.DataFrame:
    """``first_name``, ``middle_names`` and ``last_name`` with placeholder values made missing.

    A placeholder across the whole name ("the occupier" parsed into first "the" and last "occupier") clears both.

    Examples:
        >>> names = pd.DataFrame({"first_name": ["the", "john", "unknown", "xxx"],
        ...                       "middle_names": [None, "not known", None, None],
        ...                       "last_name": ["occupier", "smith", "jones", "brown"]})
        >>> without_placeholder_names(names).values.tolist()
        [[None, None, None], ['john', None, 'smith'], [None, None, 'jones'], [None, None, 'brown']]
    """
    out = names.copy()
    fields = [c for c in ("first_name", "middle_names", "last_name") if c in out.columns]
    whole = out["first_name"].astype("string").fillna("") + " " + out["last_name"].astype("string").fillna("")
    whole_is_placeholder = whole.str.strip().isin(PLACEHOLDER_NAMES)
    for field in fields:
        text = out[field].astype("string")
        placeholder = text.isin(PLACEHOLDER_NAMES) | text.str.match(_REPEATED_LETTER) | whole_is_placeholder
        out[field] = _keep(out[field], placeholder)
    return out


def without_placeholder_dates(dates: pd.Series) -> pd.Series:
    """ISO dates with the placeholder dates made missing.

    Examples:
        >>> without_placeholder_dates(pd.Series(["1900-01-01", "1980-03-15", None])).tolist()
        [None, '1980-03-15', None]
    """
    return _keep(dates, dates.astype("string").isin(PLACEHOLDER_DATES))


def without_placeholder_address(addresses: pd.Series) -> pd.Series:
    """Normalised address lines with "no fixed abode" and the like made missing.

    Examples:
        >>> without_placeholder_address(pd.Series(["no fixed abode", "12 high street", "n f a"])).tolist()
        [None, '12 high street', None]
    """
    return _keep(addresses, addresses.astype("string").isin(PLACEHOLDER_ADDRESSES))


def without_placeholder_postcodes(postcodes: pd.Series) -> pd.Series:
    """Standardised postcodes (``OUT IN``) with the NHS pseudo-postcodes made missing.

    Examples:
        >>> without_placeholder_postcodes(pd.Series(["ZZ99 3VZ", "ZZ9 9ZZ", "SW1A 1AA"])).tolist()
        [None, 'ZZ9 9ZZ', 'SW1A 1AA']
    """
    return _keep(postcodes, postcodes.astype("string").str.startswith(PLACEHOLDER_POSTCODE_OUTWARD + " "))


def without_placeholder_emails(emails: pd.Series) -> pd.Series:
    """Standardised e-mail addresses with "no e-mail" local parts made missing.

    Examples:
        >>> without_placeholder_emails(pd.Series(["noemail@council.gov.uk", "jane.doe@mail.co.uk"])).tolist()
        [None, 'jane.doe@mail.co.uk']
    """
    local = emails.astype("string").str.split("@", n=1).str[0]
    return _keep(emails, local.isin(PLACEHOLDER_EMAIL_LOCALS))


def without_placeholder_phones(phones: pd.Series) -> pd.Series:
    """National-digit phone numbers with dummy numbers made missing (an ascending run of nine digits, or one
    digit six times running).

    Examples:
        >>> without_placeholder_phones(pd.Series(["01234567890", "07000000000", "07700900123"])).tolist()
        [None, None, '07700900123']
    """
    text = phones.astype("string")
    return _keep(phones, text.str.contains(PHONE_SEQUENCE, regex=False) | text.str.match(_PHONE_REPEATS))


def without_placeholder_ninos(ninos: pd.Series) -> pd.Series:
    """Validated 8-character NINOs with dummy digits made missing.

    Examples:
        >>> without_placeholder_ninos(pd.Series(["AB123456", "JK000000", "JK482913"])).tolist()
        [None, None, 'JK482913']
    """
    return _keep(ninos, ninos.astype("string").str.match(_NINO_DUMMY_DIGITS))
