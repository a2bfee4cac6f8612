"""Exceptions raised by the gazetteer package (one base class)."""

from __future__ import annotations


class GazetteerError(Exception):
    """Base class for every error the gazetteer package raises."""


class FormatError(GazetteerError):
    """A gazetteer file is in no format this package can read."""


class MatchInputError(GazetteerError):
    """Addresses handed to the matcher lack a required column."""
