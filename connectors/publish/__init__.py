"""Publish targets: the common interface (``Target.send``) and a factory from a source's ``publish`` entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connectors.publish.base import DeliveryError, OutboundEvent, Target, WritebackRow
from schemas.config import PublishTarget, SourceConfig

__all__ = ["DeliveryError", "OutboundEvent", "Target", "WritebackRow", "make_target"]

RowsFor = Callable[[Sequence[int]], list[WritebackRow]]


def make_target(target: PublishTarget, source: SourceConfig, *, rows_for: RowsFor | None = None) -> Target:
    """The sender for one ``publish`` entry of ``source`` (the subscriber); modules are imported only when used.

    ``rows_for`` lets an ``sql_writeback`` target refresh the write-back rows of the persons an event touches.
    """
    if target.kind == "sql_writeback":
        from connectors.publish.sql_writeback import SqlWritebackTarget

        return SqlWritebackTarget(target, source, rows_for=rows_for)
    if target.kind == "sql_events":
        from connectors.publish.sql_events import SqlEventsTarget

        return SqlEventsTarget(target, source)
    if target.kind == "files":
        from connectors.publish.files import FilesTarget

        return FilesTarget(target, source.name)
    if target.kind == "webhook":
        from connectors.publish.webhook import WebhookTarget

        return WebhookTarget(target, source.name)
    if target.kind == "amqp":
        from connectors.publish.amqp import AmqpTarget

        return AmqpTarget(target, source.name)
    raise DeliveryError(f"subscriber {source.name}: unknown publish target kind {target.kind!r}")
