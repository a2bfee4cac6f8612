"""Text normalisation shared by the parser, the gazetteer index and the matcher."""

from __future__ import annotations

import re

import pandas as pd

# Street-type and common address abbreviations → full words (BS7666 / PAF usage).
ABBREVIATIONS: dict[str, str] = {
    "RD": "ROAD", "AVE": "AVENUE", "AV": "AVENUE", "AVN": "AVENUE", "CRES": "CRESCENT",
    "CRESC": "CRESCENT", "CRS": "CRESCENT", "GDNS": "GARDENS", "GDS": "GARDENS", "GDN": "GARDEN", "GRDNS": "GARDENS",
    "CL": "CLOSE", "CT": "COURT", "CRT": "COURT", "DR": "DRIVE", "DRV": "DRIVE", "LN": "LANE",
    "PL": "PLACE", "SQ": "SQUARE", "TER": "TERRACE", "TERR": "TERRACE", "TCE": "TERRACE",
    "GRN": "GREEN", "GRO": "GROVE", "GR": "GROVE", "GRV": "GROVE", "PK": "PARK", "WY": "WAY",
    "HO": "HOUSE", "HSE": "HOUSE", "BLDGS": "BUILDINGS", "BLDG": "BUILDING", "CTS": "COURTS",
    "MT": "MOUNT", "UPR": "UPPER", "LWR": "LOWER", "GT": "GREAT", "LT": "LITTLE", "APT": "APARTMENT",
    "APTS": "APARTMENTS", "FLT": "FLAT", "PDE": "PARADE", "CTR": "CENTRE", "CNTR": "CENTRE",
    "EST": "ESTATE", "WLK": "WALK", "BVD": "BOULEVARD", "BLVD": "BOULEVARD", "HTS": "HEIGHTS",
    "VW": "VIEW", "YD": "YARD", "MWS": "MEWS", "CLS": "CLOSE", "ST.": "ST", "STR": "STREET",
    "HWY": "HIGHWAY", "BDWY": "BROADWAY", "CNR": "CORNER", "COTT": "COTTAGE", "COTTS": "COTTAGES",
    "FM": "FARM", "RISE": "RISE", "WHF": "WHARF", "QUAY": "QUAY", "ESPL": "ESPLANADE",
    "PRDE": "PARADE", "ROW": "ROW", "GATE": "GATE", "BRIDGE": "BRIDGE", "CIRC": "CIRCUS",
    "WKS": "WORKS", "IND": "INDUSTRIAL", "BSNS": "BUSINESS", "BUS": "BUSINESS",
}

# Words that end a street name: used to find the street in unpunctuated text.
STREET_TYPES = frozenset(
    "ROAD STREET AVENUE CRESCENT GARDENS CLOSE COURT DRIVE LANE PLACE SQUARE TERRACE GREEN GROVE "
    "PARK WAY WALK PARADE MEWS ROW HILL RISE VIEW WYND VENNEL BRAE LOAN GATE QUAY WHARF HIGHWAY "
    "BROADWAY BOULEVARD ESPLANADE CIRCUS YARD CAUSEWAY APPROACH PASSAGE CROFT END FOLD BANK "
    "VALE DALE MOUNT HEIGHTS CHASE GLADE LEA MEAD PROMENADE WALKWAY CLOSE DRIVEWAY STREET".split()
)

# Tokens too common to carry identity in addresses (weight nothing in token overlap).
NOISE_TOKENS = frozenset("FLAT APARTMENT UNIT THE OF AND AT ROOM SUITE".split())

_KEEP = re.compile(r"[^A-Z0-9/\-, ]")
_SPACES = re.compile(r"\s+")
_ABBR_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)) + r")\b")
# "ST" after a word in the same part is Street ("HIGH ST"); at the start, or after a number, Saint.
_ST_STREET = re.compile(r"(?<=[A-Z]) ST\b(?! [A-Z]+ (?:ROAD|STREET|AVENUE|LANE|CLOSE|PLACE|SQUARE|GARDENS|DRIVE|CRESCENT|WAY|TERRACE)\b)")
_ST_SAINT = re.compile(r"\bST\b")


def clean(text: object) -> str:
    """Upper-case, drop punctuation except ``/ - ,``, turn ``&`` into ``AND``, squeeze spaces."""
    if not isinstance(text, str):
        return ""
    s = text.upper().replace("&", " AND ").replace("'", "").replace(".", " ").replace(";", ",")
    s = s.replace("\n", ",").replace("|", ",")
    s = _KEEP.sub(" ", s)
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"\s*-\s*", "-", s)
    s = re.sub(r"\s*/\s*", "/", s)
    return _SPACES.sub(" ", s).strip(" ,")


def expand(text: str) -> str:
    """Expand abbreviations in cleaned text; ``ST`` becomes STREET or SAINT by position."""
    s = _ABBR_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    if "ST" in s:
        s = _ST_STREET.sub(" STREET", s)
        s = _ST_SAINT.sub("SAINT", s)
    return s


def normalise_text(text: object) -> str:
    """:func:`clean` then :func:`expand`; the form every comparison works on."""
    return expand(clean(text))


def normalise_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_text` over unique values (addresses repeat a lot)."""
    vals = values.astype(object).where(values.notna(), "")
    uniq = pd.unique(vals)
    mapping = {u: normalise_text(u) for u in uniq}
    return vals.map(mapping)


def tokens(text: str) -> list[str]:
    """Word tokens of normalised text (no pure numbers, no noise words)."""
    return [t for t in re.split(r"[ ,/\-]+", text) if t and not t.isdigit() and t not in NOISE_TOKENS]
