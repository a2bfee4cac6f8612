"""Explainable probabilistic people linkage: standardise -> Index -> Compare -> Classify -> Cluster."""

from __future__ import annotations

from matching.errors import InputError, MatchingError, ModelError, SettingsError
from matching.explain import Contribution, explain_pair
from matching.fileio import match_people_file, parse_column_map
from matching.linker import MatchResult, link_people
from matching.model import FellegiSunterModel
from matching.settings import BlockingRule, Constraints, MatchSettings
from matching.standardise import standardise_people

__all__ = [
    "BlockingRule",
    "Constraints",
    "Contribution",
    "FellegiSunterModel",
    "InputError",
    "MatchResult",
    "MatchSettings",
    "MatchingError",
    "ModelError",
    "SettingsError",
    "explain_pair",
    "link_people",
    "match_people_file",
    "parse_column_map",
    "standardise_people",
]
