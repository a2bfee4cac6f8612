"""Column contracts for the data frames that pass between rooms (one class per frame)."""

from __future__ import annotations


class PersonRecord:
    """Canonical person fields of a source record, as mapped from a source by ``hub.yaml``.

    Every field is optional except the record key; a source maps whichever it holds.
    Free-text ``full_name`` is parsed into parts when the parts are absent, and an address
    may come as free text (``address``) or as parts (``flat`` … ``address_line_5``).
    """

    unique_id = "unique_id"  # "<source>:<source_key>", unique across the hub
    source = "source"
    source_key = "source_key"
    title = "title"
    first_name = "first_name"
    middle_names = "middle_names"
    last_name = "last_name"
    full_name = "full_name"
    date_of_birth = "date_of_birth"  # ISO yyyy-mm-dd string after validation
    date_of_death = "date_of_death"
    nino = "nino"
    email = "email"
    phone = "phone"
    uprn = "uprn"
    address = "address"
    flat = "flat"
    house_number = "house_number"
    house_name = "house_name"
    street = "street"
    locality = "locality"
    town = "town"
    address_line_1 = "address_line_1"
    address_line_2 = "address_line_2"
    address_line_3 = "address_line_3"
    address_line_4 = "address_line_4"
    address_line_5 = "address_line_5"
    postcode = "postcode"
    updated_at = "updated_at"

    NAME_FIELDS = ("title", "first_name", "middle_names", "last_name", "full_name")
    IDENTITY_FIELDS = ("date_of_birth", "date_of_death", "nino", "email", "phone", "uprn")
    ADDRESS_PART_FIELDS = (
        "flat",
        "house_number",
        "house_name",
        "street",
        "locality",
        "town",
        "address_line_1",
        "address_line_2",
        "address_line_3",
        "address_line_4",
        "address_line_5",
    )
    CANONICAL_FIELDS = NAME_FIELDS + IDENTITY_FIELDS + ("address",) + ADDRESS_PART_FIELDS + ("postcode",)


class StreetFrame:
    """Streets (BLPU street records, AddressBase record 11/15): one row per USRN."""

    usrn = "usrn"
    street_description = "street_description"
    locality = "locality"
    town = "town"
    admin_area = "admin_area"

    COLUMNS = ("usrn", "street_description", "locality", "town", "admin_area")


class PropertyFrame:
    """Properties (BLPUs, AddressBase record 21): one row per UPRN."""

    uprn = "uprn"
    parent_uprn = "parent_uprn"
    classification = "classification"  # e.g. RD02, RD06, CR
    blpu_state = "blpu_state"  # 1 under construction, 2 in use, 3 unoccupied, 4 no longer exists, 6 planning permission
    logical_status = "logical_status"
    easting = "easting"  # EPSG:27700 metres
    northing = "northing"
    latitude = "latitude"  # WGS84, derived
    longitude = "longitude"
    postcode = "postcode"

    COLUMNS = (
        "uprn",
        "parent_uprn",
        "classification",
        "blpu_state",
        "logical_status",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "postcode",
    )


class LpiFrame:
    """Addresses of properties (LPIs, AddressBase record 24; PAF record 28 rows use ``kind='paf'``)."""

    lpi_key = "lpi_key"
    uprn = "uprn"
    kind = "kind"  # "lpi" or "paf"
    logical_status = "logical_status"  # 1 approved, 3 alternative, 6 provisional, 8 historical
    organisation = "organisation"
    sao_start_number = "sao_start_number"
    sao_start_suffix = "sao_start_suffix"
    sao_end_number = "sao_end_number"
    sao_end_suffix = "sao_end_suffix"
    sao_text = "sao_text"
    pao_start_number = "pao_start_number"
    pao_start_suffix = "pao_start_suffix"
    pao_end_number = "pao_end_number"
    pao_end_suffix = "pao_end_suffix"
    pao_text = "pao_text"
    usrn = "usrn"
    street_description = "street_description"
    locality = "locality"
    town = "town"
    postcode = "postcode"
    address = "address"  # single-line formatted address, built from the parts

    COLUMNS = (
        "lpi_key",
        "uprn",
        "kind",
        "logical_status",
        "organisation",
        "sao_start_number",
        "sao_start_suffix",
        "sao_end_number",
        "sao_end_suffix",
        "sao_text",
        "pao_start_number",
        "pao_start_suffix",
        "pao_end_number",
        "pao_end_suffix",
        "pao_text",
        "usrn",
        "street_description",
        "locality",
        "town",
        "postcode",
        "address",
    )


class RejectFrame:
    """Rows a reader could not load: where they were and why."""

    line = "line"
    record_type = "record_type"
    key = "key"
    field = "field"
    reason = "reason"

    COLUMNS = ("line", "record_type", "key", "field", "reason")


class AddressMatchFrame:
    """Result of matching free-text addresses to the gazetteer: one row per input."""

    id = "id"
    uprn = "uprn"
    score = "score"  # calibrated probability the UPRN is right, 0-1
    band = "band"  # auto | review | none
    reason = "reason"

    COLUMNS = ("id", "uprn", "score", "band", "reason")


class PairFrame:
    """Scored candidate pairs of person records."""

    unique_id_l = "unique_id_l"
    unique_id_r = "unique_id_r"
    match_weight = "match_weight"  # log2 Bayes factor, summed over comparisons
    match_probability = "match_probability"
    band = "band"  # auto | review | none
    rule = "rule"  # deterministic rule that decided, if any

    COLUMNS = ("unique_id_l", "unique_id_r", "match_weight", "match_probability", "band", "rule")


class ClusterFrame:
    """Person clusters: one row per record."""

    unique_id = "unique_id"
    cluster_id = "cluster_id"

    COLUMNS = ("unique_id", "cluster_id")


class Band:
    """Decision bands shared by address and person matching."""

    AUTO = "auto"
    REVIEW = "review"
    NONE = "none"
