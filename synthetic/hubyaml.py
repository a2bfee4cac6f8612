"""The ``hub.yaml`` that maps every synthetic source, checked with the hub's own config loader."""

from __future__ import annotations

from pathlib import Path

import yaml

from synthetic.sources import SOURCES

# What each synthetic source is to the council (drives the property cross-checks).
ROLES = {"council_tax": "council_tax", "electoral_register": "electoral_register", "housing_tenancies": "housing_tenancy",
         "benefits": "benefits", "service_requests": "other", "valuation_list": "council_tax_valuation",
         "business_rates": "business_rates", "housing_stock": "housing_stock"}
# How golden IDs and change events go back to some of the systems; the others read the API's change feed.
PUBLISH = {
    "council_tax": [{"kind": "sql_writeback", "table": "mdh_xref"}, {"kind": "sql_events", "table": "mdh_events"}],
    "benefits": [{"kind": "sql_events", "table": "mdh_events"}],
    "housing_tenancies": [{"kind": "files", "folder": "outbox/housing_tenancies", "format": "json"}],
}
# Sources that hold each person once (one elector, one claimant per person). Not the tenancy system: it
# holds one record per tenancy, so a tenant who moves to another council home appears again.
DEDUPLICATED = {"electoral_register", "benefits"}
# Service requests name where a problem was reported, not where the requester lives: below this trust a
# source neither moves a person's current address nor records a death.
EVENT_MIN_TRUST = 2


def hub_config(urls: dict[str, str]) -> dict:
    """The configuration as a plain mapping (paths relative to the council folder)."""
    sources = []
    for spec in SOURCES:
        src: dict = {"name": spec.name}
        if spec.kind != "person":
            src["kind"] = spec.kind
        if spec.name in ROLES:
            src["role"] = ROLES[spec.name]
        if spec.name in DEDUPLICATED:
            src["deduplicated"] = True
        if spec.name in PUBLISH:
            src["publish"] = PUBLISH[spec.name]
        src["url"] = urls[spec.name]
        if spec.table:
            src["table"] = spec.table
        src.update({"key": spec.key, "trust": spec.trust, "updated_at": spec.updated_at})
        if spec.date_format:
            src["date_format"] = spec.date_format
        src["fields"] = dict(spec.fields)
        if spec.attributes:
            src["attributes"] = dict(spec.attributes)
        sources.append(src)
    return {
        "hub": "sqlite:///hub.db",
        "gazetteer": {"path": "gazetteer/addressbase_premium.csv"},
        "thresholds": {"auto_merge": 0.99, "review": 0.8},
        "events": {"min_trust": EVENT_MIN_TRUST},
        "sources": sources,
    }


def write_hub_yaml(out_dir: Path, urls: dict[str, str]) -> Path:
    """Write ``hub.yaml`` into ``out_dir`` and validate it with ``schemas.config.load_config``."""
    from schemas.config import load_config

    path = Path(out_dir) / "hub.yaml"
    text = "# Synthetic council written by `mdh synth`; paths resolve from this folder.\n"
    text += yaml.safe_dump(hub_config(urls), sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")
    load_config(path)
    return path
