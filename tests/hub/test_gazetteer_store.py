"""Writing a gazetteer into the hub: bulk paths on SQLite and PostgreSQL, idempotent reloads, deletions, rollback."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gazetteer import read_gazetteer
from hub.gazetteer_store import read_stored_gazetteer, store_gazetteer
from hub.store import open_hub
from schemas import Lpi, Property, Street

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gazetteer"))
import gazetteer_fixtures as F  # noqa: E402

UPDATE = """10,"OS AddressBase Premium",9999,2024-02-01,1,2024-02-01,10:00:00,1.0,"C"
24,"U",1,102,"4720L000003","ENG",1,2000-01-01,,2024-02-01,2000-01-01,,,,,"FLAT 2A",12,,14,,"",7001,1,"",,"Y"
24,"D",2,101,"4720L000002","ENG",1,2000-01-01,,2024-02-01,2000-01-01,,,,,"FLAT 1",12,,14,,"",7001,1,"",,"Y"
21,"D",3,103,1,2,2000-01-01,,430500,433500,53.8,-1.5,1,4720,"E",2000-01-01,,2020-01-01,2000-01-01,"D","LS6 2BB",0
99,3,0,2024-02-01,10:00:00
"""


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Street, Property, Lpi))  # type: ignore[return-value]


def _snapshot(engine) -> pd.DataFrame:
    g = read_stored_gazetteer(engine)
    return g.lpis.sort_values("lpi_key").reset_index(drop=True)


def _check_store(url: str, tmp_path: Path) -> None:
    engine = open_hub(url)
    full = tmp_path / "full.csv"
    full.write_text(F.ABP_NEW)
    gaz = read_gazetteer(full)
    summary = store_gazetteer(engine, gaz)
    assert _counts(engine) == (2, 4, 6)
    assert (summary.streets, summary.properties, summary.lpis) == (2, 4, 6)
    first = _snapshot(engine)
    stored = first.set_index("lpi_key")
    assert stored.loc["4720L000003", "sao_text"] == "FLAT 2"
    assert stored.loc["PAF12345", "kind"] == "paf" and stored.loc["4720L000005", "logical_status"] == 8
    with engine.connect() as c:
        loaded_at = c.execute(text("select loaded_at from property where uprn = 100")).scalar_one()
        assert loaded_at is not None
    store_gazetteer(engine, read_gazetteer(full))  # reload: nothing changes
    assert _counts(engine) == (2, 4, 6)
    pd.testing.assert_frame_equal(first, _snapshot(engine))
    upd = tmp_path / "update.csv"
    upd.write_text(UPDATE)
    s2 = store_gazetteer(engine, read_gazetteer(upd))  # CHANGE_TYPE U updates, D deletes (a property with its LPIs)
    after = _snapshot(engine).set_index("lpi_key")
    assert after.loc["4720L000003", "sao_text"] == "FLAT 2A"
    assert "4720L000002" not in after.index
    assert not (after["uprn"] == 103).any()
    assert s2.deleted >= 2 and _counts(engine)[1] == 3
    engine.dispose()


def test_sqlite_bulk_load_reload_and_changes(tmp_path):
    _check_store(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)


def test_postgresql_copy_load_reload_and_changes(pg_fresh_url, tmp_path):
    _check_store(pg_fresh_url, tmp_path)


def test_mariadb_generic_path_load_reload_and_changes(maria_fresh_url, tmp_path):
    _check_store(maria_fresh_url, tmp_path)


def test_failed_load_leaves_the_hub_as_it_was(tmp_path, monkeypatch):
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    full = tmp_path / "full.csv"
    full.write_text(F.ABP_NEW)
    gaz = read_gazetteer(full)
    gaz.lpis.loc[0, "lpi_key"] = None  # NOT NULL primary key: the LPI step fails after streets and properties
    with pytest.raises(Exception):
        store_gazetteer(engine, gaz)
    assert _counts(engine) == (0, 0, 0)


def test_cli_loads_a_zip_of_chunks(tmp_path):
    import zipfile

    import yaml
    from typer.testing import CliRunner

    from hub.cli import app

    lines = F.ABP_NEW.splitlines(keepends=True)
    z = tmp_path / "abp.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("abp_1.csv", "".join(lines[:12]))
        zf.writestr("abp_2.csv", "".join(lines[12:]))
    (tmp_path / "p.csv").write_text("ref,name\n")
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"hub": "sqlite:///hub.db", "gazetteer": {"path": "abp.zip"}, "sources": [
        {"name": "people", "url": "p.csv", "key": "ref", "fields": {"full_name": "name"}}]}))
    out = CliRunner().invoke(app, ["gazetteer", "load", str(z), "--config", str(cfg)])
    assert out.exit_code == 0, out.output
    assert "4 properties, 6 addresses loaded; 4 rejected" in " ".join(out.output.split())
    assert "abp_1.csv line 10: non-numeric UPRN" in out.output
    assert _counts(open_hub(f"sqlite:///{tmp_path / 'hub.db'}")) == (2, 4, 6)
