"""The CSV-drop sensor asks for a run once per set of drops; the delivery-retry sensor only when deliveries are due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dagster import AssetKey, DagsterInstance, RunRequest, SkipReason, build_sensor_context
from sqlalchemy.orm import Session

from hub.store import open_hub
from pipelines.definitions import build_definitions
from pipelines.resources import HubResource
from schemas import ChangeEvent, EventDelivery
from schemas.config import load_config


def _evaluate(council: Path, name: str):  # noqa: ANN202 - RunRequest | SkipReason
    defs = build_definitions(load_config(council), council)
    sensor = defs.resolve_sensor_def(name)
    resources = {"hub": HubResource(config_path=str(council))}
    with DagsterInstance.ephemeral() as instance, build_sensor_context(instance=instance, resources=resources) as context:
        return sensor(context)


def test_csv_drop_sensor_requests_the_dropped_source_and_later_stages_once(council: Path) -> None:
    assert isinstance(_evaluate(council, "csv_drop_sensor"), SkipReason)
    drop = council.parent / "drops" / "housing" / "tenants_01.csv"
    drop.write_text("tenancy,tenant,address,postcode\nT1,Anna Smith,1 High Street,AB1 2DE\n", encoding="utf-8")
    (council.parent / "drops" / "housing" / "tenants_02.csv.part").write_text("still uploading", encoding="utf-8")
    request = _evaluate(council, "csv_drop_sensor")
    assert isinstance(request, RunRequest)
    keys = set(request.asset_selection)
    assert AssetKey("extract_housing") in keys and AssetKey("extract_council_tax") not in keys
    assert {AssetKey("resolved_addresses"), AssetKey("golden_persons"), AssetKey("deliveries")} <= keys
    assert request.tags["mdh/sources"] == "housing"
    assert _evaluate(council, "csv_drop_sensor").run_key == request.run_key  # same drops: deduplicated
    drop.write_text("tenancy,tenant,address,postcode\nT9,Erin Khan,2 Mill Lane,AB1 3EF\n", encoding="utf-8")
    assert _evaluate(council, "csv_drop_sensor").run_key != request.run_key


def test_delivery_retry_sensor_fires_only_for_due_deliveries(council: Path) -> None:
    engine = open_hub(load_config(council).hub)
    assert isinstance(_evaluate(council, "delivery_retry_sensor"), SkipReason)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    with Session(engine) as s, s.begin():
        event = ChangeEvent(idempotency_key="evt-1", event_type="new_person", person_id=1, payload={})
        s.add(event)
        s.flush()
        s.add(EventDelivery(event_id=event.id, subscriber="housing", status="failed", attempts=1, next_attempt_at=later))
    assert isinstance(_evaluate(council, "delivery_retry_sensor"), SkipReason)  # backing off
    with Session(engine) as s, s.begin():
        s.add(ChangeEvent(idempotency_key="evt-2", event_type="new_person", person_id=2, payload={}))
        s.flush()
        s.add(EventDelivery(event_id=2, subscriber="council_tax", status="pending"))
    request = _evaluate(council, "delivery_retry_sensor")
    assert isinstance(request, RunRequest) and request.tags["mdh/due"] == "1"
