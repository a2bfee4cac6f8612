"""Delimited text files as councils' systems write them: UTF-8 or Windows-1252, with or without a byte-order
mark, separated by commas, semicolons, pipes or tabs.

Used by CSV drops (streamed, row by row) and by the analysts' commands (``mdh match people``, ``mdh match
addresses``), which read a whole file at once.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

SAMPLE_BYTES = 64 * 1024
DECODE_BLOCK = 1 << 20
DELIMITERS = ",;|\t"


class TextFileError(ValueError):
    """A delimited file that cannot be read as a table; the message names the file and the line."""


def detect_encoding(path: Path, declared: str = "utf-8") -> str:
    """The first encoding that decodes the whole file, checked block by block (never the whole file in memory):
    the declared one, then UTF-8, then Windows-1252; Latin-1 (every byte decodes) as the last resort."""
    first = "utf-8-sig" if codecs.lookup(declared).name == "utf-8" else declared
    for enc in dict.fromkeys((first, "utf-8-sig", "cp1252")):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(DECODE_BLOCK):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"  # every byte decodes: nothing is lost, validation flags oddities


def delimited_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, list[str]]]:
    """``(line number, values)`` of every row, in the file's own encoding and delimiter."""
    enc = detect_encoding(path, encoding)
    with path.open("rb") as raw:
        # A UTF-8 BOM in front of a Windows-1252 body: skip it, or it becomes "ï»¿" in the first header.
        bom = raw.read(3) == codecs.BOM_UTF8
    with path.open("r", encoding=enc, newline="") as fh:
        if bom and enc != "utf-8-sig":
            fh.read(3)
        start = fh.tell()
        sample = fh.read(SAMPLE_BYTES)
        fh.seek(start)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        for values in reader:
            yield reader.line_num, list(values)


def _blank(values: list[object]) -> bool:
    return not any(v is not None and str(v).strip() for v in values)


def header_and_rows(rows: Iterable[tuple[int, list[object]]]) -> tuple[list[str] | None, Iterator[tuple[int, list[object]]]]:
    """Split ``(line, values)`` rows into the header (the first non-blank row, trimmed, empty trailing columns
    dropped; None for a file with none) and the data rows after it (blank rows skipped, empty cells beyond the
    header's width dropped). Shared by CSV and Excel drops and the analysts' whole-file reads.

    Examples:
        >>> header, data = header_and_rows([(1, ["", ""]), (2, ["id", " name ", ""]), (3, ["1", "Ann", "", ""]), (4, [None])])
        >>> header, list(data)
        (['id', 'name'], [(3, ['1', 'Ann'])])
    """
    rows = iter(rows)
    header: list[str] | None = None
    for _, values in rows:
        if not _blank(values):
            header = [str(h).strip() if h is not None else "" for h in values]
            while header and header[-1] == "":
                header.pop()  # spreadsheets often carry empty trailing columns
            break

    def data() -> Iterator[tuple[int, list[object]]]:
        for line, values in rows:
            if _blank(values):
                continue
            values = list(values)
            while len(values) > len(header) and (values[-1] is None or str(values[-1]).strip() == ""):
                values.pop()
            yield line, values

    return header, data()


def read_text_table(path: str | Path, encoding: str = "utf-8") -> pd.DataFrame:
    """A whole delimited file as text columns named by its header row (blank rows skipped, cells trimmed, empty
    cells ""). A row with more values than the header has columns is an error naming its line; a shorter row
    is padded with "".

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:  # a BOM, then Windows-1252 text separated by semicolons
        ...     p = Path(d) / "people.csv"
        ...     _ = p.write_bytes(codecs.BOM_UTF8 + "ID;Forename\\n1;Seán\\n\\n2; Ann \\n".encode("cp1252"))
        ...     read_text_table(p)
          ID Forename
        0  1     Seán
        1  2      Ann
    """
    path = Path(path)
    header, data = header_and_rows(delimited_rows(path, encoding))
    if header is None:
        raise TextFileError(f"{path.name}: no header row (the file is empty)")
    rows: list[list[str]] = []
    for line, values in data:
        cells = [str(v).strip() for v in values]
        if len(cells) > len(header):
            raise TextFileError(f"{path.name} line {line}: {len(cells)} values for {len(header)} columns")
        rows.append(cells + [""] * (len(header) - len(cells)))
    return pd.DataFrame(rows, columns=header, dtype=object)
