"""Field validators shared at every boundary: UK postcodes, NI numbers and dates (vectorised over Series)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

# BS7666 postcode shapes: A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA, AA9A 9AA (plus the GIR 0AA special case).
POSTCODE_RE = re.compile(r"^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})$")
# HMRC NINO rules: first letter not D F I Q U V, second not D F I O Q U V, some prefixes never issued.
NINO_RE = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d", "%d %b %Y", "%d %B %Y", "%d/%m/%y", "%Y/%m/%d")
EARLIEST_BIRTH = pd.Timestamp("1880-01-01")


def normalise_postcode(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Canonical "AB1 2CD" postcodes and a mask of values that are present but malformed.

    Examples:
        >>> pcs, bad = normalise_postcode(pd.Series(["sw1a1aa", "SW1A 1AA", "nonsense", None]))
        >>> list(pcs), list(bad)
        (['SW1A 1AA', 'SW1A 1AA', None, None], [False, False, True, False])
    """
    compact = series.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    present = compact.notna() & (compact != "")
    valid = present & compact.str.match(POSTCODE_RE.pattern).fillna(False).astype(bool)
    canonical = (compact.str[:-3] + " " + compact.str[-3:]).where(valid)
    return canonical.astype(object).where(valid, None), (present & ~valid).astype(bool)


def normalise_nino(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Upper-case NI numbers without spaces and a mask of present-but-invalid values.

    Examples:
        >>> ninos, bad = normalise_nino(pd.Series(["ab 12 34 56 c", "QQ123456C", None]))
        >>> list(ninos), list(bad)
        (['AB123456C', None, None], [False, True, False])
    """
    compact = series.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    present = compact.notna() & (compact != "")
    valid = present & compact.str.match(NINO_RE.pattern).fillna(False).astype(bool)
    return compact.astype(object).where(valid, None), (present & ~valid).astype(bool)


def parse_dates(series: pd.Series, *, date_format: str | None = None, today: dt.date | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO dates (yyyy-mm-dd) and a mask of values that are present but unparseable or impossible.

    With ``date_format`` only that format is accepted (a source's declared format); otherwise common
    UK formats are tried in turn, day before month.

    Examples:
        >>> iso, bad = parse_dates(pd.Series(["03/02/1980", "1980-02-31", "2999-01-01", None]))
        >>> list(iso), list(bad)
        (['1980-02-03', None, None, None], [False, True, True, False])
    """
    text = series.astype("string").str.strip()
    present = text.notna() & (text != "")
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    formats = (date_format,) if date_format else DATE_FORMATS
    for fmt in formats:
        todo = present & parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    if not date_format:
        # Timestamps such as "1980-02-03 00:00:00" from database drivers.
        todo = present & parsed.isna()
        if todo.any():
            parsed[todo] = pd.to_datetime(text[todo], errors="coerce", format="ISO8601")
    limit = pd.Timestamp(today or dt.date.today())
    possible = parsed.notna() & (parsed >= EARLIEST_BIRTH) & (parsed <= limit)
    iso = parsed.dt.strftime("%Y-%m-%d").astype(object).where(possible, None)
    return iso, (present & ~possible).astype(bool)
