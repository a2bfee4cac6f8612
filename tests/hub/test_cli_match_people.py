"""``mdh match people --settings``: an analyst's match settings (YAML or JSON) reach the matcher; bad ones are named."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from hub.cli import app

ROWS = [
    {"id": "1", "given": "Ann", "surname": "Lee", "dob": "01/02/1970", "pc": "LS1 4AB"},
    {"id": "2", "given": "Anne", "surname": "Lee", "dob": "1970-02-01", "pc": "LS1 4AB"},
    {"id": "3", "given": "Tom", "surname": "Lee", "dob": "1999-09-09", "pc": "LS1 4AB"},
    {"id": "4", "given": "Tim", "surname": "Ray", "dob": "1999-09-09", "pc": "M1 1AE"},
]
MAP = "source_key=id,first_name=given,last_name=surname,date_of_birth=dob,postcode=pc"


def _run(tmp_path: Path, *extra: str):
    src = tmp_path / "people.csv"
    pd.DataFrame(ROWS).to_csv(src, index=False)
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["match", "people", str(src), "--map", MAP, "--out", str(out),
                                      "--pairs", str(pairs), *extra])
    return result, pairs


def _scored(pairs: Path) -> set[tuple[str, str]]:
    p = pd.read_csv(pairs, dtype=str)
    return {tuple(sorted((a.split(":")[1], b.split(":")[1]))) for a, b in zip(p.unique_id_l, p.unique_id_r)}


def test_settings_file_chooses_the_blocking_rules(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("min_pair_probability: 0.0\n")  # every scored pair is written, however unlikely
    result, pairs = _run(tmp_path, "--settings", str(settings))
    assert result.exit_code == 0, result.output
    assert ("1", "3") in _scored(pairs)  # same postcode and surname initial
    settings.write_text("min_pair_probability: 0.0\nblocking_rules:\n  - {name: dob, keys: [date_of_birth]}\n")
    result, pairs = _run(tmp_path, "--settings", str(settings))
    assert result.exit_code == 0, result.output
    assert _scored(pairs) == {("1", "2"), ("3", "4")}  # only pairs sharing a date of birth


def test_json_settings_and_threshold_options_combine(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"auto_threshold": 0.999, "review_threshold": 0.5}))
    result, _ = _run(tmp_path, "--settings", str(settings), "--review", "0.9")
    assert result.exit_code == 0, result.output
    result, _ = _run(tmp_path, "--settings", str(settings), "--auto", "0.4")  # below the file's review threshold
    assert result.exit_code == 2 and "review_threshold (0.5) <= auto_threshold (0.4)" in result.output


def test_bad_settings_are_named(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("hard_negativs: false\n")
    result, _ = _run(tmp_path, "--settings", str(settings))
    assert result.exit_code == 2 and "unknown match settings ['hard_negativs']" in result.output
    settings.write_text("- just a list\n")
    result, _ = _run(tmp_path, "--settings", str(settings))
    assert result.exit_code == 2 and "expected a mapping" in result.output
    result, _ = _run(tmp_path, "--settings", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "cannot read" in result.output
