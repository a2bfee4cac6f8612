"""Synthetic UK council with ground truth: gazetteer, departmental sources, life events (issue 3)."""

from __future__ import annotations

from synthetic.apply import apply_day
from synthetic.council import write_council
from synthetic.models import CouncilManifest, DayChanges, SynthError, SynthSettings

__all__ = ["CouncilManifest", "DayChanges", "SynthError", "SynthSettings", "apply_day", "write_council"]
