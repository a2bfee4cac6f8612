"""Reuse an earlier run's standardised records: standardise only the records whose matcher input changed.

Standardising every live record (names parsed, metaphones, dates, phones, addresses) is most of an incremental
run's matching time at a quarter of a million people, though only about 1 % of records change in a night. A row is
reused only when its **input** is byte-for-byte what it was (a digest of every input column) and the code that
standardises it is the same (:func:`standardise_version`), so the output is exactly what
:func:`~matching.standardise.standardise_people` would give; the memo can only save time, never change a result.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from matching import names as _names_module
from matching import placeholders as _placeholders_module
from matching import standardise as _standardise_module
from matching.standardise import STANDARDISED_FLAG, standardise_people
from schemas.columns import PersonRecord as P

DIGEST = "input_digest"


def standardise_version(columns: list[str] | tuple[str, ...], extra_columns: tuple[str, ...] = ()) -> str:
    """What a stored standardisation depends on besides each row: the standardising code, pandas, the input
    columns and the extra identifier columns. Any change gives a new version (and a cold start)."""
    h = hashlib.sha256()
    for module in (_standardise_module, _names_module, _placeholders_module):
        h.update(Path(module.__file__).read_bytes())
    h.update(pd.__version__.encode())
    h.update("\x1f".join(sorted(columns)).encode())
    h.update(b"\x1e" + "\x1f".join(extra_columns).encode())
    return h.hexdigest()[:16]


def input_digests(records: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest per row of every input column (name order independent; ``None`` and ``""`` differ).

    Examples:
        >>> a = pd.DataFrame({"unique_id": ["1", "2"], "last_name": ["Lee", None]})
        >>> b = pd.DataFrame({"last_name": ["Lee", ""], "unique_id": ["1", "2"]})
        >>> (input_digests(a) == input_digests(b)).tolist()
        [True, False]
    """
    cols = sorted(records.columns)
    # Typed as text (None stays missing) so that 7 and "7" or a float UPRN and its text do not collide by accident.
    frame = pd.DataFrame({c: records[c].map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                                             else f"{type(v).__name__}:{v}") if records[c].dtype != object
                          else records[c] for c in cols})
    return pd.util.hash_pandas_object(frame, index=False, categorize=True).to_numpy(dtype=np.uint64)


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing text as ``None``, as :func:`standardise_people` gives it (a stored copy may come back with NaN), in
    place: ``frame`` is the caller's own copy."""
    out = frame
    for column in out.columns:
        if out[column].dtype == object:
            missing = out[column].isna().to_numpy()
            if missing.any():
                out[column] = out[column].where(~missing, None)
    return out


def standardise_reusing(records: pd.DataFrame, previous: pd.DataFrame | None, *,
                        extra_columns: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """``standardise_people(records)``, reusing rows of ``previous`` whose ``unique_id`` and input digest match.

    Args:
        records: the matcher's input (``unique_id`` and raw fields).
        previous: an earlier result of this function (standardised columns plus ``input_digest``), or None.

    Returns:
        The standardised frame in ``records``' order, with an ``input_digest`` column to keep for next time, and how
        many rows were standardised afresh.

    Examples:
        >>> recs = pd.DataFrame({"unique_id": ["1", "2"], "first_name": ["ANN", "Bob"], "last_name": ["Lee", "Mac Kay"]})
        >>> first, fresh = standardise_reusing(recs, None)
        >>> recs.loc[1, "first_name"] = "Robert"
        >>> again, fresh_again = standardise_reusing(recs, first)
        >>> fresh, fresh_again, again["first_name"].tolist()
        (2, 1, ['ann', 'robert'])
    """
    digests = input_digests(records)
    ids = records[P.unique_id].astype(str).to_numpy(dtype=object)
    reuse = np.zeros(len(records), dtype=bool)
    prev, pos = None, None
    if previous is not None and len(previous) and DIGEST in previous.columns:
        prev = previous.drop_duplicates(P.unique_id, keep="last")
        pos = pd.Index(prev[P.unique_id].astype(str)).get_indexer(ids)
        found = pos >= 0
        reuse[found] = prev[DIGEST].to_numpy(dtype=np.uint64)[pos[found]] == digests[found]
    todo = records.loc[~reuse]
    fresh = standardise_people(todo, extra_columns=extra_columns) if len(todo) else None
    if not reuse.any():
        out = (fresh if fresh is not None else standardise_people(records, extra_columns=extra_columns)).copy()
    else:
        out = _stored_rows(prev, np.where(reuse, pos, 0))  # a stored row for every record; not reused ones replaced
        if fresh is not None:
            out = _with_fresh_rows(out, fresh, np.flatnonzero(~reuse))
    out[DIGEST] = digests
    out.attrs[STANDARDISED_FLAG] = True
    return out, int((~reuse).sum())


def _stored_rows(prev: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The stored standardised rows at ``positions`` (one copy), missing text as ``None``."""
    columns = [j for j, c in enumerate(prev.columns) if c != DIGEST]
    out = prev.iloc[positions, columns]
    out.index = pd.RangeIndex(len(out))
    return _missing_as_none(out)


def _with_fresh_rows(stored: pd.DataFrame, fresh: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``stored`` with ``rows`` replaced by ``fresh`` (in order). In place when every column keeps its dtype; otherwise
    as ``pd.concat`` would type the union."""
    fresh = fresh[stored.columns]
    if all(stored[c].dtype == fresh[c].dtype for c in stored.columns):
        for j in range(len(stored.columns)):
            stored.iloc[rows, j] = fresh.iloc[:, j].to_numpy()
        return stored
    keep = np.ones(len(stored), dtype=bool)
    keep[rows] = False
    parts = [stored[keep].set_axis(np.flatnonzero(keep)), fresh.set_axis(rows)]
    out = pd.concat(parts).sort_index()
    out.index = pd.RangeIndex(len(out))
    return out
