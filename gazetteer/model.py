"""The in-memory gazetteer: streets, properties, addresses, rejects and deletions as data frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.columns import LpiFrame, PropertyFrame, RejectFrame, StreetFrame


class DeletionFrame:
    """Keys a change-only update deletes (CHANGE_TYPE 'D'), for the store to apply."""

    table = "table"  # "street" | "property" | "lpi" | "classification" | "organisation"
    key_column = "key_column"  # usrn | uprn | lpi_key | ...
    key = "key"
    line = "line"

    COLUMNS = ("table", "key_column", "key", "line")


class SuccessorFrame:
    """Successor cross-references (AddressBase Premium record 30): the UPRN that replaced a retired one."""

    uprn = "uprn"
    successor_uprn = "successor_uprn"
    start_date = "start_date"
    end_date = "end_date"

    COLUMNS = ("uprn", "successor_uprn", "start_date", "end_date")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty frame with the given columns (object dtype)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class Gazetteer:
    """Everything one gazetteer file holds, ready for the hub store or the matcher."""

    streets: pd.DataFrame
    properties: pd.DataFrame
    lpis: pd.DataFrame
    rejects: pd.DataFrame
    deletions: pd.DataFrame
    fmt: str
    rows_read: int
    rows_loaded: int = 0  # rows_read == rows_loaded + len(rejects)
    counts: dict[str, int] = field(default_factory=dict)  # rows loaded per record type
    successors: pd.DataFrame = field(default_factory=lambda: empty_frame(SuccessorFrame.COLUMNS))
    files: pd.DataFrame = field(default_factory=lambda: empty_frame(("file", "rows")))  # data rows per chunk

    @property
    def reconciles(self) -> bool:
        """True when every row read was either loaded or rejected."""
        return self.rows_read == self.rows_loaded + len(self.rejects)

    @classmethod
    def empty(cls, fmt: str) -> Gazetteer:
        return cls(
            streets=empty_frame(StreetFrame.COLUMNS),
            properties=empty_frame(PropertyFrame.COLUMNS),
            lpis=empty_frame(LpiFrame.COLUMNS),
            rejects=empty_frame(RejectFrame.COLUMNS),
            deletions=empty_frame(DeletionFrame.COLUMNS),
            fmt=fmt,
            rows_read=0,
        )
