"""File drops: CSV and Excel files in a folder (or one file), streamed in chunks, each file processed once then archived."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from connectors import ConnectorError
from connectors.frames import DROP_FILE, ROW_NUMBER, ExtractChunk, as_strings
from connectors.text_files import delimited_rows, header_and_rows
from schemas.config import SourceConfig

ARCHIVE_DIR = "_archive"
CSV_SUFFIXES = frozenset({".csv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx"})
DROP_SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES
RAGGED = "_ragged"


def _is_drop(name: str) -> bool:
    """A finished drop file: not hidden, not a temp/partial upload, not an Excel lock file (``~$x.xlsx``)."""
    if name.startswith((".", "~$")) or name.endswith((".tmp", ".part", ".partial")):
        return False
    return os.path.splitext(name)[1].lower() in DROP_SUFFIXES


def pending_drops(cfg: SourceConfig) -> list[Path]:
    """Drop files waiting in the folder (or the single configured file), oldest name first."""
    path = Path(cfg.url)
    if path.is_dir():
        return sorted(path / e.name for e in os.scandir(path) if e.is_file() and _is_drop(e.name))
    if path.is_file():
        return [path]
    raise ConnectorError(f"source {cfg.name}: no file or folder at the configured path")


def has_new_drops(cfg: SourceConfig) -> bool:
    """Cheap check for a sensor: is at least one drop file waiting? Stops at the first one; never reads a file.

    A single configured file counts as new while it exists (it is re-read in full and diffed by content hash);
    a database source has no drops and returns False.
    """
    if not cfg.is_file:
        return False
    path = Path(cfg.url)
    if path.is_file():
        return True
    if not path.is_dir():
        return False
    with os.scandir(path) as entries:
        return any(e.is_file() and _is_drop(e.name) for e in entries)


def check_archivable(cfg: SourceConfig) -> None:
    """Fail before reading anything if consumed drops could not be moved to ``_archive``.

    Tries the very operation archiving needs (create the archive folder, move a hidden probe file from the drop
    folder into it, remove it), so a read-only mount, a full disk or an ``_archive`` that is not a folder is
    found even when running as root, for whom permission bits do not apply.
    """
    folder = Path(cfg.url)
    if not folder.is_dir():
        return  # a single configured file is never archived
    archive = folder / ARCHIVE_DIR
    try:
        archive.mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".mdh-archive-probe-", dir=folder)
        os.close(fd)
        moved = archive / Path(probe).name
        try:
            os.replace(probe, moved)
        finally:
            for leftover in (Path(probe), moved):
                leftover.unlink(missing_ok=True)
    except OSError as err:
        raise ConnectorError(f"source {cfg.name}: drops cannot be archived in {archive}: "
                             f"{err.strerror or err.__class__.__name__}; nothing was read") from err


def archive_drops(cfg: SourceConfig, files: tuple[Path, ...]) -> None:
    """Move consumed drops into the folder's ``_archive`` so each file is processed once (a same-named drop gets a suffix)."""
    for path in files:
        if Path(cfg.url).is_file() or not path.exists():
            continue  # a single configured file is re-read in full each run (content-hash diff)
        archive = path.parent / ARCHIVE_DIR
        target = archive / path.name
        if target.exists():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            target = archive / f"{path.stem}.{stamp}{path.suffix}"
        try:
            archive.mkdir(exist_ok=True)
            shutil.move(str(path), target)
        except OSError as err:
            # The file's rows are loaded; it stays in the folder and its next read is a no-op (content-hash diff).
            raise ConnectorError(f"source {cfg.name}: drop {path.name} loaded but not archived in {archive}: "
                                 f"{err.strerror or err.__class__.__name__}") from err


def _cell(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel stores every number as a float: keys and UPRNs must not become "123.0"
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return value


def _xlsx_rows(cfg: SourceConfig, path: Path) -> Iterator[tuple[int, list[object]]]:
    try:
        import openpyxl  # optional dependency: only Excel drops need it
    except ImportError as err:
        raise ConnectorError(f"source {cfg.name}: {path.name} is an Excel drop but openpyxl is not installed") from err
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt workbook fails this source only, named
        raise ConnectorError(f"source {cfg.name}: cannot open Excel drop {path.name}: {err.__class__.__name__}") from err
    try:
        sheet = book.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell(v) for v in values]
    finally:
        book.close()


def _frame(buffer: list[dict[str, object]]) -> pd.DataFrame:
    frame = as_strings(pd.DataFrame(buffer))
    frame[ROW_NUMBER] = frame[ROW_NUMBER].astype(int)
    return frame


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=[ROW_NUMBER, DROP_FILE])


def file_chunks(cfg: SourceConfig, chunksize: int) -> Iterator[ExtractChunk]:
    """Stream every pending drop in chunks; the last chunk of a file names it so it is archived once loaded."""
    pending = pending_drops(cfg)
    if pending:
        check_archivable(cfg)
    for path in pending:
        rows = _xlsx_rows(cfg, path) if path.suffix.lower() in EXCEL_SUFFIXES else delimited_rows(path, cfg.encoding)
        header, data = header_and_rows(rows)
        buffer: list[dict[str, object]] = []
        for line, values in data:
            row: dict[str, object] = dict(zip(header, values))
            if len(values) != len(header) and path.suffix.lower() in CSV_SUFFIXES:
                row[RAGGED] = f"{len(values)} values for {len(header)} columns"
            row[ROW_NUMBER] = line
            row[DROP_FILE] = path.name
            buffer.append(row)
            if len(buffer) >= chunksize:
                yield ExtractChunk(rows=_frame(buffer), watermark=None)
                buffer = []
        yield ExtractChunk(rows=_frame(buffer) if buffer else _empty(), watermark=None, files=(path,))
