"""Hub store schema (SQLAlchemy 2.0 typed ORM), data-frame column contracts and configuration models."""

from schemas.base import Base
from schemas.events import ChangeEvent, EventDelivery
from schemas.gazetteer import Lpi, Property, Street
from schemas.linkage import MatchPair, ReviewTask, StewardDecision
from schemas.people import (
    AttributeLineage,
    AttributeOverride,
    GoldenPerson,
    GoldenPersonVersion,
    Residence,
    Xref,
)
from schemas.runs import AuditLog, DqMetric, HubState, Run
from schemas.sources import ExtractBatch, QuarantinedRow, SourceRecord, SourceSystem

__all__ = [
    "AttributeLineage",
    "AttributeOverride",
    "AuditLog",
    "Base",
    "ChangeEvent",
    "DqMetric",
    "EventDelivery",
    "ExtractBatch",
    "GoldenPerson",
    "GoldenPersonVersion",
    "HubState",
    "Lpi",
    "MatchPair",
    "Property",
    "QuarantinedRow",
    "ReviewTask",
    "Residence",
    "Run",
    "SourceRecord",
    "SourceSystem",
    "StewardDecision",
    "Street",
    "Xref",
]
