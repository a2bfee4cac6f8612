"""Building the matchers the pipeline uses from the hub store's reference data."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from hub.gazetteer_store import read_stored_gazetteer
from schemas.config import HubConfig


def stored_gazetteer_matcher(engine: Engine, config: HubConfig) -> Callable[[], object]:
    """A factory for the address matcher over the hub's gazetteer, built only when first needed."""

    def build() -> object:
        from gazetteer import AddressMatcher

        return AddressMatcher(read_stored_gazetteer(engine), auto_threshold=config.thresholds.auto_merge,
                              review_threshold=config.thresholds.review)

    return build
