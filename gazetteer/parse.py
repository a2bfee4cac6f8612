"""Parse free-text UK addresses into SAON / PAON / street / locality / town / postcode parts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from gazetteer.normalise import STREET_TYPES, normalise_text
from gazetteer.postcode import find_postcode

_FLOORS = {
    "BASEMENT": "B", "LOWER GROUND": "LG", "GROUND": "G", "FIRST": "1", "1ST": "1", "SECOND": "2",
    "2ND": "2", "THIRD": "3", "3RD": "3", "FOURTH": "4", "4TH": "4", "FIFTH": "5", "5TH": "5",
    "TOP": "T", "UPPER": "U",
}
_FLOOR_WORDS = "|".join(sorted(_FLOORS, key=len, reverse=True))
_FLAT_WORDS = r"FLAT|FLATS|APARTMENT|UNIT|ROOM|SUITE|STUDIO|MAISONETTE|BEDSIT"
_POS = r"(?:[0-9]{1,2}|G|B|P)F[0-9]{1,2}|(?:[0-9]{1,2}|G)/(?:[0-9]{1,2}|[LRMC])"
_NUM = r"[0-9]+ ?[A-Z]?(?![A-Z0-9])"

_FLOOR_FLAT = re.compile(
    rf"\b({_FLOOR_WORDS})(?: FLOOR)?(?: (?:FLAT|FLOOR|MAISONETTE))(?: ([0-9]+[A-Z]?|[A-Z])(?=,| [0-9]|$))?|\b({_FLOOR_WORDS}) FLOOR\b"
)
_KEYWORD_SAO = re.compile(rf"\b(?:{_FLAT_WORDS}) ({_POS}|{_NUM}|[A-Z](?![A-Z0-9]))")
_POS_SAO = re.compile(rf"(?<![A-Z0-9/])({_POS})(?![A-Z0-9/])")
_LEAD_TWO_NUMBERS = re.compile(r"^([0-9]+[A-Z]?|[A-Z])[ ,]+(?=[0-9]+ ?[A-Z]?(?:-[0-9]+[A-Z]?)?[ ,]+[A-Z])")
_PAO = re.compile(r"(?<![A-Z0-9/\-])([0-9]+)(?: ?([A-Z]))?(?:-([0-9]+)(?: ?([A-Z]))?)?(?=[ ,]|$)")
# Weak street types name estates and buildings too ("Riverside Park", "Rose Court").
_WEAK_TYPES = frozenset(
    "PARK COURT GATE HEIGHTS VIEW END BANK YARD WHARF QUAY MOUNT GREEN HILL LEA MEAD CROFT FOLD DALE VALE GLADE CHASE"
    .split()
)
_BUILDING_WORDS = frozenset(
    "HOUSE MANSIONS BUILDINGS LODGE LOFTS COTTAGE COTTAGES FLATS TOWER APARTMENTS CHAMBERS HALL BLOCK".split()
)
_REPEAT = re.compile(r"\b([A-Z]+(?: [A-Z]+){0,3})(?:,? \1\b)+")
# Service requests locate things relative to a property ("outside 12 High St", "rear of ...").
_LOCATOR = re.compile(r"^\s*(?:NEAR|AT|OUTSIDE|OPPOSITE|OPP|REAR OF|BEHIND|ADJACENT TO|ADJ TO|ADJ|NEXT TO|"
                      r"IN FRONT OF|O/S|BY|BESIDE)\b[ ,]*")
# Glasgow compact form "1/2/14 Church Street": flat 1/2 (floor/position) at number 14.
_POS_NUMBER = re.compile(r"(?<![A-Z0-9/])(?:(?:FLAT|APARTMENT|APT) )?((?:[0-9]{1,2}|G)/(?:[0-9]{1,2}|[LRMC]))/([0-9]+ ?[A-Z]?)(?=[ ,])")
# "C/6 West Church Lane": flat C at number 6 (letters other than G, which Glasgow uses for ground).
_LETTER_SLASH = re.compile(r"(?<![A-Z0-9/])([A-FH-Z])/([0-9]+[A-Z]?)(?= [A-Z])")
_ORG_WORDS = re.compile(
    r"\b(LTD|LIMITED|PLC|LLP|COUNCIL|SCHOOL|SURGERY|CHURCH|CLUB|ASSOCIATION|TRUST|BANK|HOTEL|"
    r"PRACTICE|CENTRE|SOCIETY|COMPANY|GROUP|SERVICES|PHARMACY|NURSERY|ACADEMY|COLLEGE|UNIVERSITY|"
    r"HOSPITAL|RESTAURANT|CAFE|BAR|INN|STORES|SOLICITORS|OFFICE|DEPARTMENT|PARTNERSHIP)\b"
)


@dataclass(frozen=True)
class ParsedAddress:
    """Parts of one address; empty strings / ``None`` for parts not found."""

    organisation: str = ""
    saon: str = ""  # as written, e.g. "FLAT 2", "2F1"
    sao_key: str = ""  # canonical flat key, e.g. "2", "A", "2/1", "FL:G"
    pao_start_number: int | None = None
    pao_start_suffix: str = ""
    pao_end_number: int | None = None
    pao_end_suffix: str = ""
    pao_text: str = ""  # building name
    street: str = ""
    locality: str = ""
    town: str = ""
    postcode: str | None = None
    text: str = ""  # normalised text without the postcode (for token comparison)


def sao_key(text: object) -> str:
    """Canonical key of a secondary addressable object so "Flat 2/1", "2F1" and "1st floor 2"... agree.

    Examples:
        >>> sao_key("FLAT 2F1"), sao_key("G/1"), sao_key("Apartment 3"), sao_key("Basement Flat")
        ('2/1', '0/1', '3', 'FL:B')
    """
    s = normalise_text(text).replace(",", " ").strip()
    if not s:
        return ""
    s = re.sub(rf"^(?:{_FLAT_WORDS}) ", "", s).strip()
    m = re.fullmatch(r"([0-9]{1,2}|G|B|P)F([0-9]{1,2})", s) or re.fullmatch(r"([0-9]{1,2}|G)/([0-9]{1,2}|[LRMC])", s)
    if m:
        floor = {"G": "0", "B": "-1", "P": "1"}.get(m.group(1), m.group(1).lstrip("0") or "0")
        return f"{floor}/{m.group(2).lstrip('0') or '0'}"
    m = re.fullmatch(rf"({_FLOOR_WORDS})(?: FLOOR)?(?: (?:FLAT|FLOOR|MAISONETTE))?(?: (?:FLAT )?([0-9]+[A-Z]?|[A-Z]))?", s)
    if m and (m.group(2) or s != m.group(1) or m.group(1) in ("BASEMENT", "GROUND")):
        floor = _FLOORS[m.group(1)]
        if m.group(2):
            return f"{ {'G': '0', 'B': '-1'}.get(floor, floor)}/{m.group(2)}".replace(" ", "")
        return f"FL:{floor}"
    m = re.fullmatch(r"([0-9]+) ?([A-Z]?)", s)
    if m:
        return f"{int(m.group(1))}{m.group(2)}"
    return s


def _split_building(words: list[str]) -> tuple[str, list[str]]:
    """Split "ALBERT COURT CANAL AVENUE" into a building name and the street words."""
    strong = [i for i, w in enumerate(words) if w in STREET_TYPES and w not in _WEAK_TYPES and i > 0]
    if not strong:
        return "", words
    cut = [i for i, w in enumerate(words[: strong[0] - 1]) if i >= 1 and (w in _BUILDING_WORDS or w in _WEAK_TYPES)]
    if not cut:
        return "", words
    return " ".join(words[: cut[-1] + 1]), words[cut[-1] + 1:]


def _split_street(rest: str) -> tuple[str, str, str, str]:
    """Split text after the house number into building name, street, locality, town."""
    parts = [p.strip() for p in rest.split(",") if p.strip()]
    if not parts:
        return "", "", "", ""
    building, words = _split_building(parts[0].split())
    if len(parts) > 1:
        tail = _dedupe(parts[1:])
        return building, " ".join(words), (tail[0] if len(tail) > 1 else ""), tail[-1]
    ends = [i for i, w in enumerate(words) if w in STREET_TYPES and w not in _WEAK_TYPES and i > 0]
    ends = ends or [i for i, w in enumerate(words) if w in STREET_TYPES and i > 0]
    if ends and ends[0] < len(words) - 1:
        cut = ends[0] + 1
        return building, " ".join(words[:cut]), "", " ".join(words[cut:])
    return building, " ".join(words), "", ""


def _has_type(text: str, *, strong: bool) -> bool:
    """Whether ``text`` holds a street-type word (strong: not one that also names buildings)."""
    return any(w in STREET_TYPES and not (strong and w in _WEAK_TYPES) for w in re.split(r"[ ,]+", text))


def _dedupe(parts: list[str]) -> list[str]:
    """Drop repeated town tokens ("LEEDS, LEEDS")."""
    out: list[str] = []
    for p in parts:
        if p not in out:
            out.append(p)
    return out


def parse_address(text: str) -> ParsedAddress:
    """Parse one free-text address; pure and total (never raises on any string).

    Examples:
        >>> p = parse_address("Flat 2, 12a High St, Leeds LS11AB")
        >>> (p.sao_key, p.pao_start_number, p.pao_start_suffix, p.street, p.town, p.postcode)
        ('2', 12, 'A', 'HIGH STREET', 'LEEDS', 'LS1 1AB')
    """
    s = normalise_text(text)
    postcode, s = find_postcode(s)
    s = _LOCATOR.sub("", s)
    s = re.sub(r"\s+", " ", s).strip(" ,")
    s = _REPEAT.sub(r"\1", re.sub(r"(,\s*)+", ", ", s))
    saon = ""
    tm = _POS_NUMBER.search(s)
    if tm is not None:
        saon = tm.group(1)
        s = (s[: tm.start()] + tm.group(2) + s[tm.end():]).strip(" ,")
    m = None if saon else (_FLOOR_FLAT.search(s) or _KEYWORD_SAO.search(s))
    if m is None and not saon:
        m = _POS_SAO.search(s)
        english = (m is not None and "/" in m.group(1) and re.match(r" [A-Z]", s[m.end():]) is not None
                   and not _split_building(s[m.end():].split(",")[0].split())[0])
        if english and not _PAO.search(s[: m.start()] + " " + s[m.end():]):
            a, b = m.group(1).split("/")
            if a.isdigit() and b.isdigit():  # English "2/12 High St": flat 2 at number 12
                saon = a
                s = s[: m.start()] + b + s[m.end():]
                m = None
    if m is None and not saon:
        lm = _LETTER_SLASH.search(s)
        if lm is not None and not _PAO.search(s[: lm.start()] + " " + s[lm.end():]):
            saon = lm.group(1)
            s = s[: lm.start()] + lm.group(2) + s[lm.end():]
    if m is None and not saon:
        m = _LEAD_TWO_NUMBERS.search(s)
        if m is not None:
            saon = m.group(1)
            s = s[m.end():]
            m = None
    if m is not None:
        saon = m.group(0).strip()
        s = (s[: m.start()] + " " + s[m.end():]).strip(" ,")
        s = re.sub(r"\s+", " ", re.sub(r"(\s*,\s*)+", ", ", s)).strip(" ,")
    pm = _PAO.search(s)
    org = pao_text = ""
    if pm is not None and not saon:
        rest = s[pm.end():]
        pm2 = _PAO.search(rest)
        if pm2 is not None:
            between, after = rest[: pm2.start()].strip(" ,"), rest[pm2.end():]
            if between and _has_type(after, strong=True) and not _has_type(between, strong=True):
                # "2 Castle Wharf, 3 Harbour Lane": flat 2 of a named building at number 3.
                saon = pm.group(0).strip()
                offset = pm.end()
                s = s[: pm.start()] + " " * (offset - pm.start()) + rest
                pm = _PAO.search(s, offset)
            elif (_has_type(between, strong=False) and not _has_type(after, strong=True)) or (
                    "," in rest[: pm2.start()] and re.match(r"\s*(?:,|$)", after) and pm2.group(3) is None):
                # "22 Ivy Close, Leith, 1": a trailing lone number is the flat.
                saon = pm2.group(0).strip()
                s = s[: pm.end()] + rest[: pm2.start()] + " " + rest[pm2.end():]
                s = re.sub(r"\s+", " ", re.sub(r"(\s*,\s*)+", ", ", s)).strip(" ,")
    if pm is not None and not saon and _has_type(s[: pm.start()], strong=True) \
            and not _has_type(s[pm.end():], strong=False) and pm.group(3) is None:
        # "The Lodge, Heather Lane, York, 4": a number after the street is the flat.
        saon = pm.group(0).strip()
        s = re.sub(r"\s+", " ", re.sub(r"(\s*,\s*)+", ", ", s[: pm.start()] + " " + s[pm.end():])).strip(" ,")
        pm = None
    if pm is not None:
        before, rest = s[: pm.start()].strip(" ,"), s[pm.end():].strip(" ,")
        start_n, start_s, end_n, end_s = pm.group(1), pm.group(2) or "", pm.group(3), pm.group(4) or ""
    else:
        parts = [p.strip() for p in s.split(",") if p.strip()]
        ends = [p.split()[-1] for p in parts]
        idx = next((i for i, e in enumerate(ends) if e in STREET_TYPES and e not in _WEAK_TYPES), None)
        if idx is None:
            idx = next((i for i, e in enumerate(ends) if e in STREET_TYPES), None)
        if idx is None:
            idx = 1 if len(parts) > 1 else 0
        before, rest = ", ".join(parts[:idx]), ", ".join(parts[idx:])
        start_n = end_n = None
        start_s = end_s = ""
    if before:
        bparts = [p.strip() for p in before.split(",") if p.strip()]
        if len(bparts) > 1:
            org, pao_text = bparts[0], ", ".join(bparts[1:])
        elif _ORG_WORDS.search(before) and pm is not None:
            org = before
        else:
            pao_text = before
    if pm is not None and not pao_text:
        # "12 Rose House, High Street": a number then a building name, street in the next part.
        rparts = [p.strip() for p in rest.split(",") if p.strip()]
        # "7, Queens Court, Elm Way": a weak type ("Court", "View") names the building when a street follows.
        first, second = (rparts[0].split()[-1], rparts[1].split()[-1]) if len(rparts) > 1 else ("", "")
        if second in STREET_TYPES and (first not in STREET_TYPES or (first in _WEAK_TYPES and second not in _WEAK_TYPES)):
            pao_text, rest = rparts[0], ", ".join(rparts[1:])
    building, street, locality, town = _split_street(rest)
    if building:
        pao_text = ", ".join(x for x in (pao_text, building) if x)
    return ParsedAddress(
        organisation=org,
        saon=saon,
        sao_key=sao_key(saon) if saon else "",
        # int() refuses strings of thousands of digits; no real house number has more than a few.
        pao_start_number=int(start_n) if start_n and len(start_n) <= 9 else None,
        pao_start_suffix=start_s,
        pao_end_number=int(end_n) if end_n and len(end_n) <= 9 else None,
        pao_end_suffix=end_s,
        pao_text=pao_text,
        street=street,
        locality=locality,
        town=town,
        postcode=postcode,
        text=re.sub(r"\s+", " ", s.replace(",", " ")).strip(),
    )


def parse_addresses(values: pd.Series) -> pd.DataFrame:
    """Parse a Series of addresses into a frame of :class:`ParsedAddress` fields (same index).

    Each distinct string is parsed once; council extracts repeat addresses heavily.
    """
    vals = values.astype(object).where(values.notna(), "")
    uniq = pd.unique(vals)
    parsed = pd.DataFrame([vars(parse_address(u)) for u in uniq], index=pd.Index(uniq))
    if parsed.empty:
        parsed = pd.DataFrame(columns=list(ParsedAddress.__dataclass_fields__))
    out = parsed.reindex(vals.to_numpy())
    out.index = values.index
    return out
