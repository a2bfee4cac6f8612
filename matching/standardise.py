"""Standardise person records: names, dates, NINO, phones, emails, postcodes, addresses (vectorised)."""

from __future__ import annotations

import pandas as pd

from matching.errors import InputError
from matching.names import (
    canonical_surname,
    clean_name_text,
    metaphone,
    on_uniques,
    parse_full_name,
    split_suffix,
    split_title,
)
from matching.placeholders import (
    without_placeholder_address,
    without_placeholder_dates,
    without_placeholder_emails,
    without_placeholder_names,
    without_placeholder_ninos,
    without_placeholder_phones,
    without_placeholder_postcodes,
)
from schemas.columns import PersonRecord as P

STANDARDISED_FLAG = "matching_standardised"

_DATE_FORMATS = (
    "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y",
    "%b %d %Y", "%B %d %Y", "%d/%m/%y", "%d-%m-%y", "%d.%m.%y", "%d %b %y", "%m/%d/%Y",
)  # fmt: skip
_NINO_RE = r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]?$"
_UK_POSTCODE_RE = r"^(?P<out>[A-Z]{1,2}\d[A-Z\d]?)(?P<in>\d[A-Z]{2})$"
_ADDRESS_ABBREVIATIONS = {
    "rd": "road", "st": "street", "ave": "avenue", "av": "avenue", "cres": "crescent", "cresc": "crescent",
    "dr": "drive", "ln": "lane", "pl": "place", "ct": "court", "crt": "court", "cl": "close",
    "gdns": "gardens", "gdn": "gardens", "gr": "grove", "gro": "grove", "sq": "square", "tce": "terrace",
    "terr": "terrace", "pde": "parade", "hse": "house", "apt": "flat", "apartment": "flat", "flt": "flat",
    "bldg": "building", "blvd": "boulevard", "cir": "circuit", "cct": "circuit", "hwy": "highway",
    "mt": "mount", "nth": "north", "sth": "south", "est": "estate", "wk": "walk", "wy": "way",
}  # fmt: skip
_ABBREVIATION_RE = r"\b(" + "|".join(_ADDRESS_ABBREVIATIONS) + r")\b"
ADDRESS_PART_ORDER = (
    P.flat, P.house_name, P.house_number, P.street, P.address_line_1, P.address_line_2,
    P.address_line_3, P.address_line_4, P.address_line_5, P.locality, P.town,
)  # fmt: skip


def _none(s: pd.Series) -> pd.Series:
    """Object series with every missing or empty value as None (cheap: no string methods)."""
    keep = (s.astype("string") != "").fillna(False).to_numpy(dtype=bool)
    return s.astype("object").where(keep, None)


def _col(records: pd.DataFrame, name: str) -> pd.Series:
    if name in records.columns:
        column = records[name]
        if column.dtype == object or str(column.dtype) == "string":
            column = column.astype("string").str.strip()
        return _none(column)
    return pd.Series([None] * len(records), index=records.index, dtype="object")


def _parse_dates(values: pd.Series) -> pd.Series:
    t = values.astype("string").str.strip().str.lower()
    t = t.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[ t].*$", r"\1", regex=True)
    t = t.str.replace(r"(\d)(st|nd|rd|th)\b", r"\1", regex=True).str.replace(",", " ", regex=False)
    t = t.str.replace(r"\s+", " ", regex=True).str.replace(r"\.0$", "", regex=True)
    parsed = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = parsed.isna() & t.notna()
        if not todo.any():
            break
        got = pd.to_datetime(t[todo], format=fmt, errors="coerce")
        if "%y" in fmt:  # two-digit years: a date of birth is never in the future
            future = got > pd.Timestamp.today()
            got = got.where(~future, got - pd.DateOffset(years=100))
        parsed.loc[todo] = got
    ok = parsed.notna() & (parsed.dt.year >= 1880) & (parsed <= pd.Timestamp.today())
    return _none(parsed.dt.strftime("%Y-%m-%d").where(ok, None))


def standardise_date(s: pd.Series) -> pd.Series:
    """Dates in many formats to ISO ``yyyy-mm-dd`` (day first when ambiguous); invalid or future to None.

    Examples:
        >>> standardise_date(pd.Series(["15/03/1980", "19800315", "15 Mar 1980", "1980-03-15 00:00:00", "31/02/1980"])).tolist()
        ['1980-03-15', '1980-03-15', '1980-03-15', '1980-03-15', None]
    """
    return on_uniques(_none(s), _parse_dates)


def standardise_nino(s: pd.Series) -> pd.Series:
    """National Insurance numbers validated (HMRC prefix rules) to 8 characters, suffix dropped; invalid to None.

    Examples:
        >>> standardise_nino(pd.Series(["ab 12 34 56 c", "QQ123456C", "GB123456A"])).tolist()
        ['AB123456', None, None]
    """
    t = _none(s).astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    valid = t.str.match(_NINO_RE).fillna(False).astype(bool)
    return _none(t.str[:8].where(valid, None))


def standardise_phone(s: pd.Series) -> pd.Series:
    """UK phone numbers to national digits (``0...``, 10-11 digits); anything else to None.

    Examples:
        >>> standardise_phone(pd.Series(["+44 (0)20 7946 0018", "07700 900123", "123"])).tolist()
        ['02079460018', '07700900123', None]
    """
    t = _none(s).astype("string").str.replace(r"\(0\)", "", regex=True).str.replace(r"\D", "", regex=True)
    t = t.str.replace(r"^(?:0044|44)", "0", regex=True)
    t = t.where(t.str.startswith("0") | (t.str.len() != 10), "0" + t)
    valid = t.str.match(r"^0\d{9,10}$").fillna(False).astype(bool) & ~t.str.match(r"^0(\d)\1+$").fillna(False).astype(bool)
    return _none(t.where(valid, None))


def standardise_email(s: pd.Series) -> pd.Series:
    """Emails lower-cased and validated; Gmail dots and +tags removed.

    Examples:
        >>> standardise_email(pd.Series([" J.Smith+x@GoogleMail.com ", "not an email"])).tolist()
        ['jsmith@gmail.com', None]
    """
    t = _none(s).astype("string").str.strip().str.lower()
    valid = t.str.match(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$").fillna(False).astype(bool)
    parts = t.str.extract(r"^(?P<local>[^@]+)@(?P<domain>.+)$")
    domain = parts["domain"].replace({"googlemail.com": "gmail.com"})
    local = parts["local"].str.replace(r"\+.*$", "", regex=True)
    local = local.where(domain != "gmail.com", local.str.replace(".", "", regex=False))
    return _none((local + "@" + domain).where(valid, None))


def standardise_postcode(s: pd.Series) -> pd.DataFrame:
    """UK postcodes to ``OUT IN`` with their sector (``OUT I``); other codes kept cleaned, without a sector.

    Examples:
        >>> standardise_postcode(pd.Series(["sw1a1aa", "4350"])).values.tolist()
        [['SW1A 1AA', 'SW1A 1'], ['4350', None]]
    """
    t = _none(s).astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    parts = t.str.extract(_UK_POSTCODE_RE)
    uk = parts["out"].notna()
    postcode = without_placeholder_postcodes((parts["out"] + " " + parts["in"]).where(uk, t))
    sector = (parts["out"] + " " + parts["in"].str[0]).where(uk & postcode.notna(), None)
    return pd.DataFrame({"postcode": _none(postcode), "postcode_sector": _none(sector)}, index=s.index)


def _normalise_address_text(values: pd.Series) -> pd.Series:
    t = values.astype("string").str.lower()
    t = t.str.replace(r"\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b", " ", regex=True)  # embedded UK postcode
    t = t.str.replace(r"(\d)\s*/\s*(\d)", r"\1 \2", regex=True)
    t = t.str.replace(r"[^a-z0-9 ]", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    t = t.str.replace(_ABBREVIATION_RE, lambda m: _ADDRESS_ABBREVIATIONS[m.group(1)], regex=True)
    return _none(t)


def standardise_address(records: pd.DataFrame) -> pd.DataFrame:
    """Free-text or part addresses to one normalised line, its numbers ("12a", "2") and its words.

    Examples:
        >>> standardise_address(pd.DataFrame({"address": ["Flat 2, 12 High St., AB1 2CD"]})).values.tolist()
        [['flat 2 12 high street', '2 12', 'flat high street']]
    """
    parts = [_col(records, c) for c in ADDRESS_PART_ORDER if c in records.columns]
    joined = pd.Series([None] * len(records), index=records.index, dtype="object")
    if parts:
        text = parts[0].astype("string").fillna("")
        for part in parts[1:]:
            text = text + " " + part.astype("string").fillna("")
        joined = _none(text.str.strip())
    free = _col(records, P.address)
    text = free.where(free.notna(), joined)
    address = without_placeholder_address(on_uniques(text, _normalise_address_text))
    numbers = address.astype("string").str.findall(r"\b\d+[a-z]?\b").str.join(" ")
    words = address.astype("string").str.replace(r"\b\d\w*\b", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    return pd.DataFrame(
        {"address": address, "address_numbers": _none(numbers), "address_words": _none(words)}, index=records.index
    )


def standardise_uprn(s: pd.Series) -> pd.Series:
    """UPRNs as digit strings without leading zeros or a float ``.0``; anything else to None."""
    t = _none(s).astype("string").str.strip().str.replace(r"\.0+$", "", regex=True).str.lstrip("0")
    valid = t.str.match(r"^\d{1,12}$").fillna(False).astype(bool)
    return _none(t.where(valid, None))


def _standardise_names(records: pd.DataFrame) -> pd.DataFrame:
    first = on_uniques(_col(records, P.first_name), clean_name_text)
    titled = on_uniques(first, split_title)
    first_tokens = titled["rest"].astype("string").str.extract(r"^(?P<first>\S+)\s*(?P<more>.*)$")
    last = on_uniques(on_uniques(_col(records, P.last_name), clean_name_text), split_suffix)
    middle = on_uniques(_col(records, P.middle_names), clean_name_text)
    middle = _none(middle.where(middle.notna(), first_tokens["more"]))
    title = on_uniques(_col(records, P.title), clean_name_text)
    title = title.where(title.notna(), titled["title"])
    out = pd.DataFrame(
        {
            "title": title,
            "first_name": _none(first_tokens["first"]),
            "middle_names": middle,
            "last_name": last["rest"],
            "name_suffix": last["name_suffix"],
        },
        index=records.index,
    )
    full = _col(records, P.full_name)
    need = full.notna() & (out["first_name"].isna() | out["last_name"].isna())
    if need.any():
        parsed = on_uniques(full[need], parse_full_name)
        for column in out.columns:
            out.loc[need, column] = out.loc[need, column].where(out.loc[need, column].notna(), parsed[column])
    out["last_name"] = on_uniques(out["last_name"], canonical_surname)
    out["first_name"] = _none(out["first_name"].astype("string").str.replace("-", " ", regex=False))
    return without_placeholder_names(out)


def standardise_people(records: pd.DataFrame, *, extra_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Canonical person fields cleaned and parsed, plus derived keys for blocking and comparison.

    Input: ``unique_id``, ``source`` (optional) and any ``PersonRecord`` canonical fields as strings,
    missing or None. Extra identifier columns named in ``extra_columns`` pass through trimmed and lower-cased.

    Examples:
        >>> df = pd.DataFrame({"unique_id": ["a:1"], "full_name": ["Mr John MacDonald Jr"], "date_of_birth": ["3/4/1950"]})
        >>> standardise_people(df)[["first_name", "last_name", "name_suffix", "date_of_birth"]].values.tolist()
        [['john', 'mcdonald', 'jr', '1950-04-03']]
    """
    if P.unique_id not in records.columns:
        raise InputError(f"person records need a '{P.unique_id}' column")
    ids = records[P.unique_id].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        raise InputError(f"'{P.unique_id}' must be present and unique on every record")
    records = records.reset_index(drop=True)
    out = pd.DataFrame({P.unique_id: ids.reset_index(drop=True).astype(object)})
    if P.source in records.columns:
        out[P.source] = _none(records[P.source]).fillna("input")
    else:
        out[P.source] = ids.reset_index(drop=True).str.split(":", n=1).str[0].where(ids.str.contains(":"), "input")
    names = _standardise_names(records)
    out = pd.concat([out, names], axis=1)
    out["first_initial"] = _none(out["first_name"].astype("string").str[0])
    out["last_initial"] = _none(out["last_name"].astype("string").str[0])
    out["last_metaphone"] = metaphone(out["last_name"], first_token=True)
    out["first_metaphone"] = metaphone(out["first_name"], first_token=True)
    out[P.date_of_birth] = without_placeholder_dates(standardise_date(_col(records, P.date_of_birth)))
    out[P.date_of_death] = without_placeholder_dates(standardise_date(_col(records, P.date_of_death)))
    out["dob_year"] = _none(out[P.date_of_birth].astype("string").str[:4])
    out[P.nino] = without_placeholder_ninos(standardise_nino(_col(records, P.nino)))
    out[P.email] = without_placeholder_emails(on_uniques(_col(records, P.email), standardise_email))
    out[P.phone] = without_placeholder_phones(on_uniques(_col(records, P.phone), standardise_phone))
    out[P.uprn] = standardise_uprn(_col(records, P.uprn))
    out = pd.concat([out, on_uniques(_col(records, P.postcode), standardise_postcode)], axis=1)
    out = pd.concat([out, standardise_address(records)], axis=1)
    for column in extra_columns:
        if column not in records.columns:
            raise InputError(f"extra identifier column '{column}' is not in the records")
        out[column] = _none(_col(records, column).astype("string").str.strip().str.lower())
    out.attrs[STANDARDISED_FLAG] = True
    return out
