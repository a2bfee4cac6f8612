"""Tests for hub.yaml validation: good files load, bad ones name the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from schemas.config import ConfigError, load_config

GOOD = {
    "hub": "sqlite:///demo/hub.db",
    "gazetteer": {"path": "demo/gazetteer.csv"},
    "thresholds": {"auto_merge": 0.99, "review": 0.80},
    "sources": [
        {"name": "council_tax", "url": "sqlite:///demo/sources/council_tax.sqlite", "table": "ctax_account",
         "key": "account_ref", "trust": 3, "updated_at": "last_modified", "date_format": "%d/%m/%Y",
         "fields": {"full_name": "lead_name", "address": "prop_addr", "postcode": "post_code"}},
        {"name": "requests", "url": "drops/requests", "key": "ref", "fields": {"full_name": "who", "address": "where"}},
    ],
}


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def test_good_config_resolves_relative_paths_from_its_folder(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.hub == f"sqlite:///{tmp_path / 'demo/hub.db'}"
    assert cfg.gazetteer.path == tmp_path / "demo/gazetteer.csv"
    assert cfg.sources[0].url == f"sqlite:///{tmp_path / 'demo/sources/council_tax.sqlite'}"
    assert cfg.sources[1].url == str(tmp_path / "drops/requests") and cfg.sources[1].is_file
    assert cfg.source("council_tax").trust == 3


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["thresholds"].update(review=1.5), "thresholds.review"),
    (lambda d: d["thresholds"].update(review=0.995), "must not exceed auto_merge"),
    (lambda d: d["sources"][0]["fields"].update(shoe_size="x"), "unknown canonical field"),
    (lambda d: d["sources"][0].pop("key"), "sources.0.key: Field required"),
    (lambda d: d["sources"][0].update(query="select 1"), "exactly one of 'table' or 'query'"),
    (lambda d: d["sources"][0].update(name="Council Tax"), "sources.0.name"),
    (lambda d: d["sources"].append(dict(d["sources"][1])), "repeated: ['requests']"),
    (lambda d: d["sources"][1].update(fields={"address": "where"}), "must map 'full_name'"),
    (lambda d: d.update(survivorship={"shoe_size": "trust"}), "unknown golden attribute"),
    (lambda d: d.update(survivorship={"last_name": "loudest"}), "survivorship.last_name"),
    (lambda d: d.update(colour="blue"), "colour: Extra inputs are not permitted"),
    (lambda d: d.pop("hub"), "hub: Field required"),
])
def test_bad_config_names_key_and_problem(tmp_path: Path, mutate, expected: str) -> None:
    import copy

    doc = copy.deepcopy(GOOD)
    mutate(doc)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, doc))
    assert expected in str(err.value)
    assert str(tmp_path / "hub.yaml") in str(err.value)


def test_missing_file_and_bad_yaml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "hub: [unclosed"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))
