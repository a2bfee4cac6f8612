"""Seeded personal values run through the whole pipeline (`mdh run`) must never show up in logs, stdout or stderr."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hub.cli import app
from pipelines.progress import _ProgressHandler
from tests.quality.council import write_council

pytestmark = pytest.mark.slow

# Distinctive values no library, message template or synthetic name list would produce on its own.
SURNAME = "Quillfeatherstonehaugh"
FIRST = "Zebediah"
DOB_ISO, DOB_UK = "1937-08-14", "14/08/1937"
STREET = "Wobblewick Crescent"
EMAIL = "zebediah.q@example.org"
NINO = "JX482913C"
SEEDS = (SURNAME, FIRST, DOB_ISO, DOB_UK, STREET, EMAIL, NINO, SURNAME.upper(), SURNAME.lower(), STREET.upper())


def _seed(config: Path) -> None:
    folder = config.parent
    with sqlite3.connect(folder / "sources" / "ctax.sqlite") as db:
        db.execute("INSERT INTO ctax VALUES ('CT90000', ?, ?, 'AB1 2DE', ?)", (f"{FIRST} {SURNAME}", f"77 {STREET}", DOB_ISO))
        # Invalid rows travel the quarantine path, whose reasons are logged and stored.
        db.execute("INSERT INTO ctax VALUES ('CT90001', ?, ?, 'NOT A PC', '31/02/1937')", (f"{FIRST} {SURNAME}", f"78 {STREET}"))
    (folder / "drops" / "housing" / "tenants.csv").write_text(
        "tenancy,tenant,address,postcode,email,nino\n"
        f"H1,{FIRST} {SURNAME},77 {STREET},AB1 2DE,{EMAIL},{NINO}\n"
        f"H2,Mr {FIRST[0]} {SURNAME},\"77 {STREET}, Testtown\",AB12DE,{EMAIL.upper()},{NINO}\n"
        f"H3,{SURNAME} {'x' * 300},{STREET},NOT A PC,,\n"
        f"H1,{FIRST} {SURNAME}-Dup,77 {STREET},AB1 2DE,,\n", encoding="utf-8")


def test_seeded_personal_values_never_reach_logs_or_console(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral Dagster instance inside tmp_path's world
    config = write_council(tmp_path / "council", people=30, drops=True)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["sources"][1]["fields"].update(email="email", nino="nino")
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    _seed(config)
    # Dagster's run log goes to the `mdh_console` logger, which does not propagate to the root logger that caplog
    # watches: spy on its handler so every Dagster record (DEBUG included, printed or not) is grepped too.
    dagster_records: list[logging.LogRecord] = []
    emit = _ProgressHandler.emit

    def spy(self: _ProgressHandler, record: logging.LogRecord) -> None:
        dagster_records.append(record)
        emit(self, record)

    monkeypatch.setattr(_ProgressHandler, "emit", spy)
    caplog.set_level(logging.DEBUG)  # root and every propagating logger at DEBUG
    for name in ("dagster", "hub", "connectors", "pipelines", "matching", "gazetteer", "quality"):
        caplog.set_level(logging.DEBUG, logger=name)

    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    captured = capsys.readouterr()
    assert result.exit_code == 0, result.output

    from sqlalchemy import create_engine, text as sql

    hub = create_engine(f"sqlite:///{config.parent / 'hub.db'}")
    with hub.connect() as conn:  # the seeds did go in: the test would catch a leak if there were one
        assert conn.execute(sql("select count(*) from source_record where last_name like :s or full_name like :f"),
                            {"s": f"%{SURNAME}%", "f": f"%{SURNAME}%"}).scalar() >= 3
        assert conn.execute(sql("select count(*) from quarantined_row")).scalar() >= 3
        assert conn.execute(sql("select count(*) from source_record where email = :e and nino = :n"),
                            {"e": EMAIL.lower(), "n": NINO}).scalar() == 2
    hub.dispose()

    assert any(r.levelno == logging.DEBUG for r in dagster_records), "Dagster's run log was not captured"
    assert caplog.records, "nothing reached the root logger: the test would prove nothing"
    lines = [r.getMessage() for r in (*caplog.records, *dagster_records)]
    lines += [repr(getattr(r, "dagster_meta", None)) for r in dagster_records]
    lines += [caplog.text, result.output, captured.out, captured.err]
    lines += [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    haystack = "\n".join(lines)
    leaks = [seed for seed in SEEDS if seed in haystack]
    assert not leaks, f"personal values found in logs/console: {leaks}"
