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


def _decode(value: object) -> object:
    # Undecodable bytes become U+FFFD, which validation quarantines as a wrong-encoding row.
    return value.decode("utf-8", errors="replace") if isinstance(value, (bytes, bytearray, memoryview)) else value


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value a stripped string or None: validation parses, not the database driver."""
    out: dict[str, pd.Series] = {}
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("bytes", "mixed"):
            values = values.map(_decode)
        present = values.notna()
        strings = values.astype(str).str.strip()
        out[str(col)] = strings.where(present & (strings != ""), None).astype(object)
    return pd.DataFrame(out, index=frame.index)


def object_frame(records: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Rows from a driver as object columns: no float coercion, so an integer key with NULLs stays "12", not "12.0"."""
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in zip(columns, zip(*records))})
