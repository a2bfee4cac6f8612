"""A small hub built directly in SQLite for the API, stewardship and browser tests (no matcher involved)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.access import create_token
from hub.golden import apply_clusters
from hub.store import open_hub
from schemas import Lpi, MatchPair, Property, ReviewTask, SourceRecord, SourceSystem, Xref
from schemas.config import HubConfig, parse_config
from schemas.property import DqFinding, GoldenPropertyAttribute, PropertyXref

SOURCES = (("ctax", 3), ("housing", 2), ("electoral", 1), ("valuation", 3))
RECORDS = {
    # key: (source, first, last, dob, uprn, address, postcode)
    "C1": ("ctax", "ROBERT", "SMITH", "1970-01-02", 100001, "12 HIGH STREET, TESTTOWN", "AB1 2CD"),
    "H1": ("housing", "BOB", "SMITH", "1970-01-02", 100001, "12 HIGH ST, TESTTOWN", "AB1 2CD"),
    "E1": ("electoral", "JANE", "DOE", "1980-05-06", 100002, "FLAT 2, 14 HIGH STREET, TESTTOWN", "AB1 2CE"),
    "H2": ("housing", "JANE", "DOE", "1980-06-05", 100002, "2/14 HIGH ST, TESTTOWN", "AB1 2CE"),
    "C2": ("ctax", "JOHN", "SMITH", "1995-03-04", 100001, "12 HIGH STREET, TESTTOWN", "AB1 2CD"),
    "E2": ("electoral", "JOHN", "SMITH", "1995-03-04", 100001, "12 HIGH STREET, TESTTOWN", "AB1 2CD"),
}
CLUSTERS = {"C1": "p1", "H1": "p2", "E1": "p3", "H2": "p4", "C2": "p5", "E2": "p5"}
# (left key, right key, probability, band, open a review task?)
PAIRS = (("C1", "H1", 0.93, "review", True), ("E1", "H2", 0.86, "review", True),
         ("C2", "E2", 0.9995, "auto", False), ("C1", "C2", 0.82, "review", True))


def explanation(probability: float) -> dict[str, float | int]:
    """A plausible per-comparison explanation: gamma levels and weights (log2 Bayes factors)."""
    return {"gamma_first_name": 1, "weight_first_name": 2.0, "gamma_last_name": 3, "weight_last_name": 5.5,
            "gamma_date_of_birth": 3 if probability > 0.9 else 1, "weight_date_of_birth": 7.0 if probability > 0.9 else 1.5,
            "gamma_postcode": 2, "weight_postcode": 3.0, "gamma_nino": -1, "weight_nino": 0.0}


@dataclass
class StewardHub:
    """Handles to the small hub: engine, config, record ids by key, task ids by pair, token secrets by role."""

    engine: Engine
    config: HubConfig
    records: dict[str, int]
    tasks: dict[tuple[str, str], int]
    tokens: dict[str, str] = field(default_factory=dict)
    address_task: int | None = None

    def person(self, key: str) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(Xref.person_id).where(Xref.source_record_id == self.records[key]))


_TEMPLATE: dict[str, StewardHub] = {}


def _config(folder: Path, url: str = "sqlite:///hub.db") -> HubConfig:
    return parse_config({
        "hub": url, "gazetteer": {"path": "g.csv"},
        "sources": [{"name": n, "url": f"{n}.csv", "key": "k", "trust": t, "fields": {"full_name": "n"}}
                    for n, t in SOURCES],
    }, base_dir=folder)


def build_hub(tmp_path: Path) -> StewardHub:
    """A fresh copy of the small hub in ``tmp_path`` (built once per test session, then copied: fast)."""
    if "hub" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="mdh-steward-hub-"))
        template = _build(folder)
        template.engine.dispose()  # checkpoints the WAL so the file alone is the whole database
        _TEMPLATE["hub"] = template
    template = _TEMPLATE["hub"]
    config = _config(tmp_path)
    shutil.copyfile(Path(template.config.hub[len("sqlite:///"):]), tmp_path / "hub.db")
    engine = open_hub(config.hub)
    return StewardHub(engine, config, dict(template.records), dict(template.tasks), dict(template.tokens),
                      template.address_task)


def build_hub_at(tmp_path: Path, url: str) -> StewardHub:
    """The same small hub in the database at ``url`` (for example a PostgreSQL test database)."""
    return _build(tmp_path, url)


def _build(tmp_path: Path, url: str = "sqlite:///hub.db") -> StewardHub:
    """Create the hub: sources, records, golden persons via apply_clusters, gazetteer rows, pairs, tasks, tokens."""
    config = _config(tmp_path, url)
    engine = open_hub(config.hub)
    old = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with Session(engine) as s, s.begin():
        systems = {n: SourceSystem(name=n, trust=t) for n, t in SOURCES}
        s.add_all(systems.values())
        s.flush()
        recs = {}
        for key, (src, first, last, dob, uprn, address, postcode) in RECORDS.items():
            rec = SourceRecord(source_id=systems[src].id, source_key=key, first_name=first, last_name=last,
                               full_name=f"{first} {last}", date_of_birth=dob, uprn=uprn, address=address,
                               postcode=postcode, raw={"ref": key}, content_hash=key)
            s.add(rec)
            recs[key] = rec
        s.flush()
        records = {k: r.id for k, r in recs.items()}
        s.add_all([
            Property(uprn=100001, classification="RD04", blpu_state=2, logical_status=1, easting=530047.0,
                     northing=180422.0, postcode="AB1 2CD"),
            Property(uprn=100002, parent_uprn=100003, classification="RD06", logical_status=1, easting=530060.0,
                     northing=180430.0, postcode="AB1 2CE"),
            Property(uprn=100003, classification="PP", logical_status=1, easting=530060.0, northing=180430.0),
        ])
        s.flush()
        s.add_all([
            Lpi(lpi_key="L1", uprn=100001, logical_status=1, pao_start_number=12, street_description="HIGH STREET",
                town="TESTTOWN", postcode="AB1 2CD", address="12 HIGH STREET, TESTTOWN, AB1 2CD"),
            Lpi(lpi_key="L2", uprn=100001, logical_status=8, pao_text="ROSE COTTAGE", street_description="HIGH STREET",
                town="TESTTOWN", postcode="AB1 2CD", address="ROSE COTTAGE, HIGH STREET, TESTTOWN, AB1 2CD"),
            Lpi(lpi_key="L3", uprn=100002, logical_status=1, sao_text="FLAT 2", pao_start_number=14,
                street_description="HIGH STREET", town="TESTTOWN", postcode="AB1 2CE",
                address="FLAT 2, 14 HIGH STREET, TESTTOWN, AB1 2CE"),
        ])
        clusters = pd.DataFrame([(records[k], c) for k, c in CLUSTERS.items()], columns=["record_id", "cluster_id"])
        apply_clusters(s, config, clusters, run_id=None, now=old)
        tasks = {}
        for i, (lk, rk, prob, band, review) in enumerate(PAIRS):
            left, right = sorted((records[lk], records[rk]))
            pair = MatchPair(record_id_l=left, record_id_r=right, match_weight=-6.0 + sum(
                v for k, v in explanation(prob).items() if k.startswith("weight_")), match_probability=prob, band=band,
                explanation=explanation(prob))
            s.add(pair)
            s.flush()
            if review:
                task = ReviewTask(kind="person_pair", status="open", pair_id=pair.id, score=prob,
                                  detail={"band": band}, created_at=old + dt.timedelta(days=i))
                s.add(task)
                s.flush()
                tasks[(lk, rk)] = task.id
        address_task = _property_master(s, systems["valuation"].id, old)
        tokens = {role: create_token(s, f"test-{role}", role, created_by="tests")[1]
                  for role in ("reader", "steward", "admin")}
    return StewardHub(engine, config, records, tasks, tokens, address_task)


def _property_master(s: Session, source_id: int, when: dt.datetime) -> int:
    """A valuation-list record linked to UPRN 100001 with its golden band, a finding, and one unmatched record."""
    linked = SourceRecord(source_id=source_id, source_key="V1", kind="property", address="12 HIGH STREET", postcode="AB1 2CD",
                          attributes={"band": "C", "valuation_ref": "V1"}, raw={"ref": "V1"}, content_hash="V1",
                          matched_uprn=100001, address_band="auto")
    unmatched = SourceRecord(source_id=source_id, source_key="V2", kind="property", address="THE OLD FORGE, HIGH ST",
                             postcode="AB1 2CD", attributes={"band": "D"}, raw={"ref": "V2"}, content_hash="V2",
                             address_band="none", address_hash="h2")
    s.add_all([linked, unmatched])
    s.flush()
    s.add_all([PropertyXref(source_record_id=linked.id, uprn=100001, link="matched", score=0.99),
               GoldenPropertyAttribute(uprn=100001, attribute="band", value="C", source_record_id=linked.id, rule="trust"),
               DqFinding(finding_key="two_ctax_accounts:100001", check_name="two_ctax_accounts", uprn=100001,
                         records=[{"source": "ctax", "source_key": "C1"}, {"source": "ctax", "source_key": "C2"}])])
    task = ReviewTask(kind="address", status="open", source_record_id=unmatched.id, score=0.41, created_at=when, detail={
        "source": "valuation", "source_key": "V2", "problem": "no_match", "address": "THE OLD FORGE, HIGH ST",
        "postcode": "AB1 2CD", "address_hash": "h2",
        "candidates": [{"uprn": 100001, "address": "12 HIGH STREET, TESTTOWN, AB1 2CD", "score": 0.41},
                       {"uprn": 100002, "address": "FLAT 2, 14 HIGH STREET, TESTTOWN, AB1 2CE", "score": 0.2}]})
    s.add(task)
    s.flush()
    return task.id
