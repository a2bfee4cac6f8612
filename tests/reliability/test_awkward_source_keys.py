"""Source keys as councils write them (slashes, spaces, `%`, `?`, `#`, non-ASCII) are readable through the xref API."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api import create_app
from schemas import SourceRecord
from tests.api.steward_hub import build_hub

KEYS = ("T1076685/1", "12/3456/A", "ACC 0042", "100%", "Q?1", "H#2", "Zoë-7", "/leading", "trailing/")


@pytest.mark.parametrize("key", KEYS)
def test_xref_reads_any_source_key(tmp_path: Path, key: str) -> None:
    hub = build_hub(tmp_path)
    with Session(hub.engine) as s, s.begin():
        s.get(SourceRecord, hub.records["C1"]).source_key = key
    client = TestClient(create_app(hub.config, engine=hub.engine, secret_key="t"))

    r = client.get(f"/api/v1/xref/ctax/{quote(key, safe='')}", headers={"Authorization": f"Bearer {hub.tokens['reader']}"})

    assert r.status_code == 200, r.text
    assert r.json()["person_id"] == hub.person("C1")
    assert ("ctax", key) in {(x["source"], x["source_key"]) for x in r.json()["sources"]}
