"""Schemathesis against the OpenAPI spec: generated requests never cause a server error and responses match the spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from api import create_app
from hub.access import hash_secret
from schemas.access import ApiToken
from tests.api.steward_hub import build_hub

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (pip install schemathesis) is not installed")

ADMIN_SECRET = "mdh_schemathesis-admin-token-for-tests-only-000000"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    hub = build_hub(Path(tmp_path_factory.mktemp("schemathesis")))
    with Session(hub.engine) as s, s.begin():
        s.add(ApiToken(name="schemathesis", role="admin", token_hash=hash_secret(ADMIN_SECRET), prefix=ADMIN_SECRET[:10]))
    app = create_app(hub.config, engine=hub.engine, secret_key="schemathesis")
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_spec(case) -> None:
    # positive_data_acceptance is left out: a valid request may meet a documented state-dependent refusal
    # (410 for a person erased by an earlier generated request; 400 for a search with no terms, which
    # OpenAPI cannot express as "at least one of"). negative_data_rejection is left out too: like most HTTP
    # APIs this one ignores unknown query parameters and extra headers, which schemathesis counts as "invalid
    # data accepted". Every other default check runs; examples are derandomised so CI sees the same cases.
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_SECRET}"},
                           excluded_checks=[schemathesis.checks.positive_data_acceptance,
                                            schemathesis.checks.negative_data_rejection])
