"""CSV in, CSV out: the analyst's ``mdh match people`` entry point over ``link_people``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from connectors.text_files import TextFileError, read_text_table
from matching.errors import InputError
from matching.linker import link_people
from matching.settings import MatchSettings
from schemas.columns import ClusterFrame, PairFrame
from schemas.columns import PersonRecord as P


def parse_column_map(text: str) -> dict[str, str]:
    """``"first_name=given_name,last_name=surname"`` to ``{"first_name": "given_name", ...}``.

    Examples:
        >>> parse_column_map("first_name=given_name, last_name=surname")
        {'first_name': 'given_name', 'last_name': 'surname'}
    """
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        canonical, sep, column = item.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InputError(f"column map entry '{item}' is not canonical=column")
        out[canonical.strip()] = column.strip()
    return out


# Cells that mean "no value" in exports from databases and spreadsheets ("NA" is not one: it is a surname).
MISSING_CELLS = frozenset({"", "NULL", "null", "Null", "N/A", "n/a", "#N/A", "NaN", "nan", "None", "<NA>"})


def read_people_csv(path: str | Path, column_map: dict[str, str], *, source: str | None = None) -> pd.DataFrame:
    """One delimited file (any of , ; | tab; UTF-8 or Windows-1252) as canonical person records: mapped columns
    renamed, empty cells missing, ``unique_id = source:key``."""
    path = Path(path)
    try:
        raw = read_text_table(path)
    except (OSError, TextFileError) as err:
        raise InputError(str(err) if isinstance(err, TextFileError) else f"{path.name}: cannot read ({err.strerror})") from err
    raw = raw.where(~raw.isin(MISSING_CELLS), None)
    missing = [c for c in column_map.values() if c not in raw.columns]
    if missing:
        raise InputError(f"{path.name}: mapped columns not in the file: {missing}; its columns are {list(raw.columns)}")
    source = source or path.stem
    out = pd.DataFrame({canonical: raw[column] for canonical, column in column_map.items()})
    key_col = column_map.get(P.source_key) or column_map.get(P.unique_id)
    keys = raw[key_col].astype(str) if key_col else pd.Series(range(len(raw)), dtype=str).astype(str)
    out[P.source] = source
    out[P.source_key] = keys.to_numpy()
    out[P.unique_id] = (source + ":" + keys).to_numpy()
    return out


def match_people_file(
    input_csv: str | Path,
    *,
    link_csv: str | Path | None = None,
    column_map: dict[str, str],
    out_csv: str | Path,
    pairs_csv: str | Path | None = None,
    settings: MatchSettings = MatchSettings(),  # noqa: B008 - frozen dataclass
) -> None:
    """Match people in one CSV (dedupe) or link two (``link_csv``); write ``unique_id, cluster_id`` (and pairs).

    ``column_map`` maps canonical fields to the file's columns (the same map for both files); map
    ``source_key`` to a key column to keep your own ids, otherwise the row number is used.
    """
    frames = [read_people_csv(input_csv, column_map, source="input" if link_csv else None)]
    if link_csv is not None:
        frames.append(read_people_csv(link_csv, column_map, source="link"))
        settings = replace(settings, link_only=True)
    extra = tuple(c for c in column_map if c not in P.CANONICAL_FIELDS and c not in (P.source_key, P.unique_id))
    if extra:
        settings = replace(settings, extra_id_columns=tuple(dict.fromkeys(settings.extra_id_columns + extra)))
    result = link_people(pd.concat(frames, ignore_index=True), settings=settings)
    result.clusters[list(ClusterFrame.COLUMNS)].to_csv(out_csv, index=False)
    if pairs_csv is not None:  # PairFrame.COLUMNS first, then each comparison's level (gamma_*) and weight_*
        extra = [c for c in result.pairs.columns if c not in PairFrame.COLUMNS]
        result.pairs.to_csv(pairs_csv, index=False, columns=list(PairFrame.COLUMNS) + extra)
