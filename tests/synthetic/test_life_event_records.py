"""Life events reach the sources the way real council systems record them: closure reasons and dates of death."""

from __future__ import annotations

import pandas as pd

from schemas.config import load_config
from synthetic.sources import SPECS


def _changes(council, name: str) -> pd.DataFrame:
    """Every upserted change row of a source over the prepared days, with its true person."""
    parts = [pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None).assign(day=int(p.parent.name[4:]))
             for p in sorted((council.out_dir / "changes").glob(f"day_*/{name}.csv"))]
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[rows["_op"] == "upsert"]
    truth = pd.read_csv(council.truth_dir / "records.csv", dtype={"source_key": str})
    truth = truth[truth["source"] == name].drop_duplicates("source_key", keep="last").set_index("source_key")
    return rows.assign(person_id=rows[SPECS[name].key].map(truth["person_id"]))


def test_deaths_reach_benefits_council_tax_and_housing_with_a_reason(council):
    events = pd.read_csv(council.truth_dir / "events.csv")
    died = events[events["event_type"] == "death"].set_index("person_id")["date"]
    ben = _changes(council, "benefits")
    dead_ben = ben[ben["date_of_death"].notna()]
    assert len(dead_ben) > 0
    assert dead_ben["person_id"].isin(died.index).all()
    assert (dead_ben["date_of_death"] == dead_ben["person_id"].map(died)).all()  # the true date of death
    assert (dead_ben["end_reason"] == "DECEASED").all() and dead_ben["claim_end"].notna().all()
    ct = _changes(council, "council_tax")
    closed = ct[ct["close_reason"].notna()]
    assert set(closed["close_reason"]) == {"DECEASED", "MOVED OUT"}
    assert closed.loc[closed["close_reason"] == "DECEASED", "person_id"].isin(died.index).all()
    assert closed["liable_to"].notna().all() and (closed["account_status"] == "CLOSED").all()
    ten = _changes(council, "housing_tenancies")
    assert ten.loc[ten["end_reason"] == "DECEASED", "person_id"].isin(died.index).all()
    # the survivor of a liable person who died gets an account of their own, not the dead person's renamed
    truth = pd.read_csv(council.truth_dir / "records.csv", dtype={"source_key": str})
    assert (truth[truth["source"] == "council_tax"].groupby("source_key")["person_id"].nunique() == 1).all()


def test_hub_yaml_maps_dates_of_death_and_closure_reasons(council):
    cfg = load_config(council.hub_yaml)
    assert cfg.source("benefits").fields["date_of_death"] == "date_of_death"
    for name in ("council_tax", "housing_tenancies", "benefits"):
        assert {"end_date", "end_reason"} <= set(cfg.source(name).attributes), name
    assert cfg.events.min_trust > cfg.source("service_requests").trust
    assert not cfg.source("housing_tenancies").deduplicated  # a tenant who moves appears again
