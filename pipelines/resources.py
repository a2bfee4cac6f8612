"""Dagster resources: the hub store and its configuration, read from one hub.yaml."""

from __future__ import annotations

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.store import open_hub
from schemas import Run
from schemas.config import HubConfig, load_config


class HubResource(ConfigurableResource):
    """The hub store and configuration for a run.

    ``full_rebuild`` re-extracts every source in full and re-matches every record (IDs of unchanged
    clusters stay the same); otherwise runs are incremental.
    """

    config_path: str
    full_rebuild: bool = False

    _config: HubConfig | None = PrivateAttr(default=None)
    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._config = load_config(self.config_path)
        self._engine = open_hub(self._config.hub)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @property
    def config(self) -> HubConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_hub(self.config.hub)
        return self._engine

    def run_id(self, dagster_run_id: str) -> int:
        """The hub's run-log row for this Dagster run, created by whichever asset asks first."""
        with Session(self.engine) as session, session.begin():
            run = session.scalar(select(Run).where(Run.dagster_run_id == dagster_run_id))
            if run is None:
                run = Run(kind="full" if self.full_rebuild else "incremental", dagster_run_id=dagster_run_id)
                session.add(run)
                session.flush()
            return run.id
