"""The bad-input corpus (tests/data/bad/) driven through a CSV drop folder and ingest_source into a real SQLite hub."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hub.ingest import ExtractSummary, ingest_source
from hub.store import open_hub, table_names
from schemas import ExtractBatch, QuarantinedRow, SourceRecord, SourceSystem
from schemas.config import SourceConfig

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
FIELDS = {"first_name": "first_name", "last_name": "last_name", "date_of_birth": "dob",
          "address": "address", "postcode": "postcode"}


@dataclass(frozen=True)
class Expect:
    """What a drop file holds (counted by hand, not by the csv module) and where each row must end up."""

    rows: int
    loaded: frozenset[str] | None = None  # None: the outcome is not pinned (see the file's own test)
    quarantined: dict[str, str] = field(default_factory=dict)  # source key -> quarantine field


CORPUS: dict[str, Expect] = {
    "semicolon.csv": Expect(3, frozenset({"S1", "S2", "S3"})),
    "cp1252.csv": Expect(2, frozenset({"C1", "C2"})),
    "cp1252_bom.csv": Expect(2),  # found: a UTF-8 BOM before a cp1252 body mangles the header (docs/RELIABILITY.md)
    "utf8_bom.csv": Expect(2, frozenset({"U1", "U2"})),
    "ragged.csv": Expect(4, frozenset({"G1", "R4"}), {"R2": "(row)", "R3": "(row)"}),
    "embedded_newlines.csv": Expect(3, frozenset({"N1", "N2", "N3"})),
    "sql_injection.csv": Expect(3, frozenset({"Q1", "Q2", "Q3'; DELETE FROM source_system;--"})),
    "impossible_dates.csv": Expect(6, frozenset({"G1"}), {k: "date_of_birth" for k in ("D2", "D3", "D4", "D5", "D6")}),
    "long_name.csv": Expect(2, frozenset({"G1"}), {"L2": "last_name"}),
    "emoji.csv": Expect(2, frozenset({"E1", "E2"})),
    "nul_bytes.csv": Expect(3, frozenset({"G1"}), {"Z2": "first_name", "Z3": "address"}),
}


@pytest.fixture
def hub(tmp_path: Path):  # noqa: ANN201 - an Engine
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


def _drop(tmp_path: Path, *names: str) -> SourceConfig:
    folder = tmp_path / "drops"
    folder.mkdir()
    for name in names:
        shutil.copy(BAD / name, folder / name)
    return SourceConfig(name="drops", url=str(folder), key="ref", fields=FIELDS)


def _records(engine: Engine) -> dict[str, SourceRecord]:
    with Session(engine) as s:
        return {r.source_key: r for r in s.scalars(select(SourceRecord))}


def _quarantine(engine: Engine) -> list[QuarantinedRow]:
    with Session(engine) as s:
        return list(s.scalars(select(QuarantinedRow)))


def _assert_reconciled(engine: Engine, summary: ExtractSummary, rows: int) -> None:
    assert summary.status == "ok", summary.error
    assert summary.extracted == rows, "rows lost or invented between the file and the extract"
    assert summary.reconciles and summary.extracted == summary.loaded + summary.quarantined
    quarantined = _quarantine(engine)
    assert len(quarantined) == summary.quarantined
    assert len(_records(engine)) == summary.loaded
    assert all(q.field and q.reason for q in quarantined), "every quarantined row names a field and a reason"
    with Session(engine) as s:
        batch = s.scalars(select(ExtractBatch)).one()
        assert (batch.status, batch.extracted, batch.loaded, batch.quarantined) == (
            "ok", summary.extracted, summary.loaded, summary.quarantined)


def test_corpus_holds_every_listed_file() -> None:
    assert sorted(p.name for p in BAD.glob("*.csv")) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_drop_is_loaded_or_quarantined_never_lost(name: str, tmp_path: Path, hub: Engine) -> None:
    expect = CORPUS[name]
    summary = ingest_source(hub, _drop(tmp_path, name), chunksize=2)  # small chunks: several commits per file
    _assert_reconciled(hub, summary, expect.rows)
    if expect.loaded is not None:
        assert set(_records(hub)) == expect.loaded
        assert {q.source_key: q.field for q in _quarantine(hub)} == expect.quarantined
    # The file was consumed once and kept: archived, not deleted.
    assert not any((tmp_path / "drops").glob("*.csv"))
    assert (tmp_path / "drops" / "_archive" / name).read_bytes() == (BAD / name).read_bytes()


def test_sql_injection_names_are_data_and_tables_survive(tmp_path: Path, hub: Engine) -> None:
    before = table_names(hub)
    ingest_source(hub, _drop(tmp_path, "sql_injection.csv"))
    recs = _records(hub)
    assert recs["Q1"].last_name == "Robert'); DROP TABLE students;--"
    assert recs["Q2"].first_name == "' OR '1'='1" and recs["Q2"].last_name == "x'; DROP TABLE source_record;--"
    assert recs["Q3'; DELETE FROM source_system;--"].last_name == 'Brown"; DROP TABLE quarantined_row;--'
    assert table_names(hub) == before
    with Session(hub) as s:
        assert s.scalar(select(func.count()).select_from(SourceSystem)) == 1


def test_decoded_text_is_kept_verbatim(tmp_path: Path, hub: Engine) -> None:
    ingest_source(hub, _drop(tmp_path, "cp1252.csv", "utf8_bom.csv", "emoji.csv", "embedded_newlines.csv",
                             "semicolon.csv"))
    recs = _records(hub)
    for key in ("C1", "U1"):  # Windows-1252 and UTF-8 with BOM decode to the same text
        assert (recs[key].first_name, recs[key].last_name, recs[key].address) == ("Zoë", "O’Brien", "1 Café Street Leeds")
    assert recs["E1"].last_name == "Smith 👩\u200d👩\u200d👧" and recs["E2"].last_name == "Jones🇬🇧"
    assert recs["N1"].address == "Flat 1\r\n1 High Street\nLeeds" and recs["N2"].first_name == 'Bob "Bobby"'
    assert recs["S1"].address == "1 High Street, Leeds" and recs["S1"].date_of_birth == "1980-02-03"


def test_whole_corpus_in_one_drop_folder_reconciles(tmp_path: Path, hub: Engine) -> None:
    summary = ingest_source(hub, _drop(tmp_path, *CORPUS), chunksize=3)
    _assert_reconciled(hub, summary, sum(e.rows for e in CORPUS.values()))


def test_cp1252_file_with_utf8_bom_loads(tmp_path: Path, hub: Engine) -> None:
    ingest_source(hub, _drop(tmp_path, "cp1252_bom.csv"))
    assert set(_records(hub)) == {"W1", "W2"}
