"""Exceptions raised by the matching library (one base class, specific subclasses)."""

from __future__ import annotations


class MatchingError(Exception):
    """Base class for every error raised by ``matching``."""


class SettingsError(MatchingError):
    """Match settings that do not validate (raised when the settings object is built)."""


class InputError(MatchingError):
    """Input records missing a required column or holding an unusable value (names the field, never the value)."""


class ModelError(MatchingError):
    """A Fellegi-Sunter model that cannot be fitted, loaded or applied."""
