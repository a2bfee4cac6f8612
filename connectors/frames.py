"""The raw-row chunk that every extractor yields, and the string normalisation they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROW_NUMBER = "_row_number"
DROP_FILE = "_file"


@dataclass(frozen=True)
class ExtractChunk:
    """A chunk of raw rows, every value a string or None, with where each row came from.

    ``watermark`` is the highest ``updated_at`` value that is safe to resume after: every row with that
    value or less has been yielded by this chunk or an earlier one (None when no value is safe yet).
    """

    rows: pd.DataFrame
    watermark: str | None
    files: tuple[Path, ...] = ()  # drops fully read once this chunk is loaded


def _clean(value: object) -> object:
    """One raw value as a stripped string, or None for NULL, NaN and blank."""
    if value is None:
        return None
    if value.__class__ is str:
        value = value.strip()  # type: ignore[union-attr]
        return value or None
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Undecodable bytes become U+FFFD, which validation quarantines as a wrong-encoding row.
        value = bytes(value).decode("utf-8", errors="replace")
    text = str(value).strip()
    return text or None


def _column(values: list[object] | tuple[object, ...]) -> pd.Series:
    # Strings (the common case) are stripped inline; only other types pay for the function call.
    return pd.Series([(v.strip() or None) if v.__class__ is str else _clean(v) for v in values],  # type: ignore[union-attr]
                     dtype=object)


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value a stripped string or None: validation parses, not the database driver."""
    out = pd.DataFrame({str(c): _column(frame[c].tolist()) for c in frame.columns})
    out.index = frame.index
    return out


def records_as_strings(records: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Driver rows straight to string columns: no float coercion, so an integer key with NULLs stays "12", not "12.0"."""
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame({c: _column(v) for c, v in zip(columns, zip(*records))})
