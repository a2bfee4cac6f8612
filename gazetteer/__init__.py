"""Corporate address gazetteer: read LLPG / AddressBase files and match addresses to UPRNs."""

from __future__ import annotations

from gazetteer.coordinates import to_wgs84, transformation_accuracy
from gazetteer.errors import FormatError, GazetteerError, MatchInputError
from gazetteer.matcher import AddressMatcher
from gazetteer.model import DeletionFrame, Gazetteer
from gazetteer.parse import ParsedAddress, parse_address, parse_addresses, sao_key
from gazetteer.postcode import normalise_postcode, normalise_postcodes
from gazetteer.readers import detect_format, read_gazetteer

__all__ = [
    "AddressMatcher", "DeletionFrame", "FormatError", "Gazetteer", "GazetteerError", "MatchInputError",
    "ParsedAddress", "detect_format", "normalise_postcode", "normalise_postcodes", "parse_address",
    "parse_addresses", "read_gazetteer", "sao_key", "to_wgs84", "transformation_accuracy",
]
