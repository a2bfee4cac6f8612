"""Applying a prepared day changes the sources in place, with later watermarks, and is idempotent."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from synthetic import SynthError, SynthSettings, apply_day, write_council
from synthetic.sources import SOURCES


def _dump(out: Path) -> str:
    h = hashlib.sha256()
    for spec in SOURCES:
        if spec.table is None:
            for f in sorted((out / "drops" / spec.name).glob("*.csv")):
                h.update(f.name.encode() + f.read_bytes())
            continue
        with sqlite3.connect(out / "sources" / f"{spec.name}.sqlite") as con:
            for row in con.execute(f'select * from "{spec.table}" order by "{spec.key}"'):
                h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture
def small(tmp_path: Path) -> Path:
    write_council(tmp_path, SynthSettings(people=1500, days=40, seed=3))
    return tmp_path


def test_apply_day_is_idempotent_and_moves_watermarks(small: Path):
    before = _dump(small)
    marks0 = {}
    for spec in SOURCES:
        if spec.table:
            with sqlite3.connect(small / "sources" / f"{spec.name}.sqlite") as con:
                marks0[spec.name] = con.execute(f'select max("{spec.updated_at}") from "{spec.table}"').fetchone()[0]
    drop0 = pd.read_csv(small / "drops" / "service_requests" / "requests_0000.csv")
    assert drop0.LastUpdated.max() < "2026-01-05"  # every day-0 row is older than any change
    mark0 = marks0["council_tax"]
    totals = {"up": 0, "del": 0}
    for day in range(1, 41):
        first = apply_day(small, day)
        assert not first.already_applied
        if day % 4 == 1:
            state = _dump(small)
            again = apply_day(small, day)
            assert _dump(small) == state and again.already_applied
        totals["up"] += sum(first.upserts.values())
        totals["del"] += sum(first.deletes.values())
    assert totals["up"] > 0 and totals["del"] > 0 and _dump(small) != before
    with sqlite3.connect(small / "sources" / "council_tax.sqlite") as con:
        assert con.execute("select max(last_modified) from ctax_account").fetchone()[0] > mark0
        assert con.execute("select count(*) from ctax_account where account_status = 'CLOSED'").fetchone()[0] > 0
    assert len(list((small / "drops" / "service_requests").glob("*.csv"))) > 1
    for day in (1, 20, 40):  # changed rows carry a watermark later than anything at day 0
        for f in (small / "changes" / f"day_{day:04d}").glob("*.csv"):
            spec = next(s for s in SOURCES if s.name == f.stem)
            ups = pd.read_csv(f, dtype=str).query("_op == 'upsert'")
            if len(ups) and spec.table:
                assert ups[spec.updated_at].min() > marks0[spec.name]


def test_truth_covers_rows_after_all_days(small: Path):
    for day in range(1, 41):
        apply_day(small, day)
    truth = pd.read_csv(small / "truth" / "records.csv", dtype={"source_key": str})
    with sqlite3.connect(small / "sources" / "electoral_register.sqlite") as con:
        keys = {k for (k,) in con.execute("select elector_no from elector")}
    assert keys <= set(truth.query("source == 'electoral_register'").source_key)


def test_apply_day_outside_range(small: Path):
    with pytest.raises(SynthError, match="outside"):
        apply_day(small, 41)
    with pytest.raises(SynthError, match="no synthetic council"):
        apply_day(small / "nowhere", 1)


def test_same_seed_same_council(tmp_path: Path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 5), (b, 5), (c, 6)):
        write_council(out, SynthSettings(people=400, days=10, seed=seed))
    files = ["gazetteer/addressbase_premium.csv", "gazetteer/addressbase_plus.csv", "truth/records.csv", "truth/events.csv",
             "truth/noise.csv", "hub.yaml", "changes/manifest.json"]
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert _dump(a) == _dump(b) != _dump(c)


def test_settings_are_checked():
    with pytest.raises(SynthError):
        SynthSettings(people=10)
    with pytest.raises(SynthError):
        SynthSettings(people=100, days=-1)


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_server_url(server: str, request: pytest.FixtureRequest, tmp_path: Path):
    url = request.getfixturevalue(server)
    m = write_council(tmp_path, SynthSettings(people=300, days=15, seed=1, url=url))
    assert m.source_urls["council_tax"] == url
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text("select count(*) from ctax_account")).scalar_one()
            assert n == m.rows["council_tax"]
        for day in range(1, 16):
            apply_day(tmp_path, day)
            apply_day(tmp_path, day)
        with engine.connect() as conn:
            for spec in SOURCES:
                if spec.table:
                    keys = [k for (k,) in conn.execute(sa.text(f"select {spec.key} from {spec.table}"))]
                    assert len(keys) == len(set(keys))
    finally:
        engine.dispose()


def test_deterministic_across_processes(tmp_path: Path):
    """Same seed, different interpreter hash seeds: byte-identical council (no dependence on set order)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    for h in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": h, "PYTHONPATH": str(root)}
        subprocess.run([sys.executable, "-m", "synthetic", "--people", "400", "--days", "15", "--out", str(tmp_path / h)],
                       check=True, env=env, capture_output=True, cwd=root)
    for f in ("truth/records.csv", "truth/events.csv", "truth/noise.csv", "gazetteer/addressbase_premium.csv"):
        assert (tmp_path / "1" / f).read_bytes() == (tmp_path / "2" / f).read_bytes(), f
    for day in range(1, 16):
        for f in (tmp_path / "1" / "changes" / f"day_{day:04d}").glob("*.csv"):
            assert f.read_bytes() == (tmp_path / "2" / "changes" / f"day_{day:04d}" / f.name).read_bytes()
    assert _dump(tmp_path / "1") == _dump(tmp_path / "2")
