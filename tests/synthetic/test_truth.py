"""Ground truth is complete and every kind of noise and life event occurs."""

from __future__ import annotations

import sqlite3

import pandas as pd

from schemas.config import load_config
from synthetic.noise import NOISE_KINDS, typo
from synthetic.sources import SOURCES, SPECS

EVENT_TYPES = {"move", "marriage", "death", "new_adult", "new_tenancy", "closed_account"}


def _table(council, name: str) -> pd.DataFrame:
    spec = SPECS[name]
    if spec.table is None:
        return pd.concat([pd.read_csv(f, dtype=str) for f in sorted((council.out_dir / "drops" / name).glob("*.csv"))])
    with sqlite3.connect(council.out_dir / "sources" / f"{name}.sqlite") as con:
        return pd.read_sql(f'select * from "{spec.table}"', con, dtype=str)


def test_every_source_record_has_truth(council):
    truth = pd.read_csv(council.truth_dir / "records.csv", dtype={"source_key": str})
    ptruth = pd.read_csv(council.truth_dir / "property_records.csv", dtype={"source_key": str})
    for spec in SOURCES:
        rows = _table(council, spec.name)
        t = (truth if spec.kind == "person" else ptruth).query("source == @spec.name and day == 0")
        assert len(rows) == council.rows[spec.name] > 0
        assert set(rows[spec.key]) == set(t.source_key), spec.name
        assert t.uprn.notna().all()
        if spec.kind == "person":
            assert t.person_id.notna().all()
    assert len(SOURCES) >= 8 and sum(s.kind == "person" for s in SOURCES) >= 5


def test_truth_uprn_is_the_stated_address(council):
    """Noise-free council tax rows state exactly the address of their true UPRN (checked on the UPRN column)."""
    with sqlite3.connect(council.out_dir / "sources" / "council_tax.sqlite") as con:
        ct = pd.read_sql("select account_ref, uprn_ref from ctax_account where uprn_ref is not null", con)
    truth = pd.read_csv(council.truth_dir / "records.csv", dtype={"source_key": str}).query("source == 'council_tax'")
    merged = ct.merge(truth, left_on="account_ref", right_on="source_key")
    assert len(merged) > 500 and (merged.uprn_ref == merged.uprn).all()


def test_every_noise_kind_occurs(council):
    noise = pd.read_csv(council.truth_dir / "noise.csv")
    assert set(NOISE_KINDS) <= set(noise.kind)
    assert set(council.noise) >= set(NOISE_KINDS)


def test_noise_is_visible_in_the_data(council):
    noise = pd.read_csv(council.truth_dir / "noise.csv")
    people = pd.read_csv(council.truth_dir / "people.csv").set_index("person_id")
    truth = pd.read_csv(council.truth_dir / "records.csv", dtype={"source_key": str}).query("day == 0")
    tenancy = _table(council, "housing_tenancies").merge(truth, left_on="tenant_key", right_on="source_key")
    nick = noise.query("source == 'housing_tenancies' and kind == 'nickname'").source_key
    sample = tenancy[tenancy.tenant_key.isin(nick)]
    assert len(sample) and (sample.forename.str.upper().to_numpy() != people.loc[sample.person_id, "first_name"].to_numpy()).all()
    clean = tenancy[~tenancy.tenant_key.isin(noise.query("source == 'housing_tenancies'").source_key)]
    assert (clean.ni_number.to_numpy() == people.loc[clean.person_id, "nino"].to_numpy()).all()


def test_typo_is_one_edit():
    from rapidfuzz.distance import Levenshtein

    for r1 in range(5):
        for r2 in range(8):
            out = typo("ROBERTSON", r1, r2)
            assert out != "ROBERTSON" and Levenshtein.distance(out, "ROBERTSON") <= 2


def test_events_cover_every_type(council):
    ev = pd.read_csv(council.truth_dir / "events.csv")
    assert EVENT_TYPES <= set(ev.event_type)
    assert ev.day.between(1, council.days).all()
    marriage = ev[ev.event_type == "marriage"]
    assert (marriage.old_last_name != marriage.new_last_name).any()
    moves = ev[ev.event_type == "move"]
    assert (moves.old_uprn != moves.new_uprn).all()


def test_hard_cases_in_population(council):
    p = pd.read_csv(council.truth_dir / "people.csv", dtype={"date_of_birth": str})
    assert p.twin.sum() >= 2
    twins = p[p.twin].groupby(["household_id", "date_of_birth"]).size()
    assert (twins >= 2).any()
    jr = p[p.junior]
    assert len(jr)
    heads = p[p.role == "head"].set_index("household_id")
    assert (jr.first_name.to_numpy() == heads.loc[jr.household_id, "first_name"].to_numpy()).all()
    assert (p.birth_surname != p.last_name).sum() > 50  # married (and hyphenated) surnames
    top = p.last_name.value_counts()
    assert top.index[0] in {"SMITH", "BROWN", "WILSON", "CAMPBELL", "STEWART", "THOMSON", "ROBERTSON"}
    assert p.first_name.value_counts().iloc[0] > 0.01 * len(p)
    adults = p[pd.to_datetime(p.date_of_birth) < pd.Timestamp("2008-01-01")]
    assert adults.nino.str.fullmatch(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]").all()
    assert p.nino.is_unique


def test_hub_yaml_validates(council):
    cfg = load_config(council.hub_yaml)
    assert {s.name for s in cfg.sources} == {s.name for s in SOURCES}
    kinds = {s.name: s.kind for s in cfg.sources}
    assert kinds["valuation_list"] == kinds["business_rates"] == kinds["housing_stock"] == "property"
    assert cfg.source("housing_tenancies").date_format == "%d/%m/%Y"
    assert cfg.source("service_requests").is_file
    assert cfg.source("valuation_list").attributes["council_tax_band"] == "band"
    assert all(s.updated_at for s in cfg.sources)
    assert cfg.gazetteer.path.is_file()
    names = [c for s in cfg.sources for c in s.fields.values()]
    assert len({s.key for s in cfg.sources}) == len(cfg.sources) and len(set(names)) > 30


def test_noise_rates_are_realistic(council):
    """Most records are clean; the service-request feed is the messiest source."""
    noise = pd.read_csv(council.truth_dir / "noise.csv", dtype={"source_key": str})
    truth = pd.concat([pd.read_csv(council.truth_dir / f, dtype={"source_key": str}) for f in ("records.csv", "property_records.csv")])
    records = truth.groupby("source").source_key.nunique()
    noisy = noise.groupby("source").source_key.nunique() / records
    assert noisy.notna().all() and (noisy > 0).all() and (noisy <= 1).all()
    assert noisy["service_requests"] == noisy.max() and (noisy.drop("service_requests") < 0.6).all()
    typo_rate = noise.query("kind == 'typo'").groupby("source").source_key.nunique() / records
    assert (typo_rate.dropna() < 0.08).all()
