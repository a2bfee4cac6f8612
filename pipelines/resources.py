"""Dagster resources: the hub store and its configuration, read from one hub.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.run_lock import orchestrated_step
from hub.store import make_engine, open_hub, refresh_statistics
from schemas import Run
from schemas.config import HubConfig, load_config


class HubResource(ConfigurableResource):
    """The hub store and configuration for a run.

    ``full_rebuild`` re-extracts every source in full and re-matches every record (IDs of unchanged
    clusters stay the same); otherwise runs are incremental.

    Inside a run the resource holds the hub's run lock (hub/run_lock.py) for as long as it is initialised: the
    whole run under the in-process executor, each step under the multiprocess executor (steps are processes).
    A step waits up to ``run_lock_wait_s`` for it, so the steps of one run take turns; a run that still finds the
    hub held (an ``mdh run`` or another deployment) then fails, naming the run that holds it. Sensors and other
    uses outside a run take no lock (they only read).
    """

    config_path: str
    full_rebuild: bool = False
    run_lock_wait_s: float = 3600.0

    _config: HubConfig | None = PrivateAttr(default=None)
    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._config = load_config(self.config_path)
        self._engine = open_hub(self._config.hub)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["HubResource"]:
        if context.run is None:  # a sensor or schedule evaluation: reads only, no run to lock for
            self.setup_for_execution(context)
        else:  # the hub is migrated under the lock, not before it (parallel steps of a run on a new hub)
            self._config = load_config(self.config_path)
            self._engine = make_engine(self._config.hub)
        try:
            if context.run is None:
                yield self
            else:
                with orchestrated_step(self._engine, context.run.run_id, wait_s=self.run_lock_wait_s):
                    yield self
        finally:
            self.teardown_after_execution(context)

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

    def refresh_statistics(self, context: object) -> list[str]:
        """After a stage's bulk writes: re-analyse the hub tables it changed (PostgreSQL; see
        ``hub.store.refresh_statistics``), logging which."""
        analysed = refresh_statistics(self.engine)
        if analysed:
            context.log.info(f"planner statistics refreshed: {', '.join(analysed)}")
        return analysed

    def run_id(self, dagster_run_id: str) -> int:
        """The hub's run-log row for this Dagster run, created by whichever asset asks first."""
        with Session(self.engine) as session, session.begin():
            run = session.scalar(select(Run).where(Run.dagster_run_id == dagster_run_id))
            if run is None:
                run = Run(kind="full" if self.full_rebuild else "incremental", dagster_run_id=dagster_run_id)
                session.add(run)
                session.flush()
            return run.id
