"""Where a gazetteer supply's rows come from: one CSV, a folder of CSV chunks, or a zip of them (streamed)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gazetteer.errors import FormatError

_CSV = re.compile(r"\.(csv|txt)$", re.IGNORECASE)
_NUMBERS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Member:
    """One CSV of a supply; ``open`` yields a text stream read straight from disk or the zip."""

    name: str
    open: Callable[[], IO[str]]


def _natural(name: str) -> list[object]:
    """Sort key putting chunk 2 before chunk 10."""
    return [int(p) if p.isdigit() else p.lower() for p in _NUMBERS.split(name)]


def _text(binary: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")


def _file_opener(path: Path) -> Callable[[], IO[str]]:
    return lambda: open(path, encoding="utf-8-sig", errors="replace", newline="")


def members(path: Path) -> list[Member]:
    """The CSV members of ``path`` in supply order (natural name order); a plain file is its own member.

    A zip is never extracted: each member is decompressed as it is read, one at a time.

    Examples:
        >>> [m.name for m in members(Path("AddressBasePremium_FULL.zip"))]  # doctest: +SKIP
        ['ABP_header.csv', 'ABP_001.csv', 'ABP_002.csv', ..., 'ABP_trailer.csv']
    """
    path = Path(path)
    if path.is_dir():
        files = sorted((p for p in path.rglob("*") if p.is_file() and _CSV.search(p.name)),
                       key=lambda p: _natural(str(p.relative_to(path))))
        found = [Member(str(p.relative_to(path)), _file_opener(p)) for p in files]
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = sorted((i.filename for i in zf.infolist() if not i.is_dir() and _CSV.search(i.filename)),
                           key=_natural)

        def opener(name: str) -> Callable[[], IO[str]]:
            @contextmanager
            def _open() -> Iterator[IO[str]]:
                with zipfile.ZipFile(path) as zf, zf.open(name) as raw:
                    yield _text(raw)
            return lambda: _open()  # type: ignore[return-value]
        found = [Member(n, opener(n)) for n in names]
    elif path.is_file():
        return [Member(path.name, _file_opener(path))]
    else:
        raise FormatError(f"{path}: no such file or folder")
    if not found:
        raise FormatError(f"{path.name}: holds no CSV files")
    return found
