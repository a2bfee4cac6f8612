"""The file that keeps standardised person records between runs (``<hub.yaml folder>/cache/``).

A memo, not a store: :mod:`matching.standardise_memo` reuses a row only when its input and the standardising code
are unchanged, so a missing, stale or unreadable file costs one cold standardisation and nothing else. The hub
database stays the system of record; the file holds no more than the matcher's standardised view of records the hub
already holds (names, dates of birth, addresses), so it lives beside the hub's configuration with the same care.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from matching.standardise_memo import standardise_reusing, standardise_version
from schemas.config import HubConfig

log = logging.getLogger(__name__)

CACHE_SUBDIR = "cache"
PREFIX = "standardised-people-"


def cache_dir(config: HubConfig) -> Path:
    """Where a hub's caches live: ``<hub.yaml folder>/cache``."""
    return Path(config.base_dir) / CACHE_SUBDIR


def _read(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - an unreadable memo is only a cold start
        log.warning("standardised-records cache %s unreadable (%s): standardising every record", path.name,
                    err.__class__.__name__)
        return None


def _write(path: Path, frame: pd.DataFrame) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
        for old in path.parent.glob(f"{PREFIX}*.parquet"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as err:  # a read-only or full disk slows the next run down; it must not fail this one
        log.warning("standardised-records cache not written (%s): the next run standardises every record",
                    err.__class__.__name__)


def standardise_with_cache(folder: Path, records: pd.DataFrame, *,
                           extra_columns: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """Standardised ``records`` (flagged for ``link_people``), reusing the cache file in ``folder`` (see
    :func:`cache_dir`); returns the frame and how many rows were standardised afresh. The file is rewritten when
    anything changed."""
    version = standardise_version(list(records.columns), extra_columns)
    path = folder / f"{PREFIX}{version}.parquet"
    previous = _read(path)
    frame, fresh = standardise_reusing(records, previous, extra_columns=extra_columns)
    if fresh or previous is None or len(previous) != len(frame):
        _write(path, frame)
    return frame, fresh


def forget_everything(folder: Path) -> None:
    """Delete the cache (after an erasure: the hub forgot a person, so must every copy of their records). The
    next run standardises every record once."""
    for old in folder.glob(f"{PREFIX}*"):
        old.unlink(missing_ok=True)
