"""Hub store schema (SQLAlchemy 2.0 typed ORM), data-frame column contracts and configuration models."""

from schemas.access import ApiToken
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
from schemas.property import DqFinding, GazetteerSeen, GoldenPropertyAttribute, PropertyXref
from schemas.runs import AuditLog, DqMetric, HubState, Run
from schemas.sources import ExtractBatch, QuarantinedRow, SourceRecord, SourceSystem

__all__ = [
    "ApiToken",
    "AttributeLineage",
    "AttributeOverride",
    "AuditLog",
    "Base",
    "ChangeEvent",
    "DqFinding",
    "DqMetric",
    "EventDelivery",
    "ExtractBatch",
    "GazetteerSeen",
    "GoldenPerson",
    "GoldenPersonVersion",
    "GoldenPropertyAttribute",
    "HubState",
    "Lpi",
    "MatchPair",
    "Property",
    "PropertyXref",
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
