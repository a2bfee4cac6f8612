"""Field layouts of record-type gazetteer CSVs (AddressBase Premium and GeoPlace DTF 7.3).

Each record type lists its known layouts, shortest first. A row is read with the layout of
exactly its field count, else the longest layout it covers (later versions append fields), so
no fixed column count is assumed. Only the fields the gazetteer keeps are named; the rest
are read and ignored.
"""

from __future__ import annotations

_COMMON = ["RECORD_IDENTIFIER", "CHANGE_TYPE", "PRO_ORDER"]

ABP: dict[str, list[list[str]]] = {
    "10": [["RECORD_IDENTIFIER", "CUSTODIAN_NAME", "LOCAL_CUSTODIAN_CODE", "PROCESS_DATE", "VOLUME_NUMBER",
            "ENTRY_DATE", "TIME_STAMP", "VERSION", "FILE_TYPE"]],
    "11": [
        _COMMON + ["USRN", "RECORD_TYPE", "SWA_ORG_REF_NAMING", "STATE", "STATE_DATE", "STREET_SURFACE",
                   "STREET_CLASSIFICATION", "VERSION", "STREET_START_DATE", "STREET_END_DATE", "LAST_UPDATE_DATE",
                   "RECORD_ENTRY_DATE", "STREET_START_X", "STREET_START_Y", "STREET_END_X", "STREET_END_Y",
                   "STREET_TOLERANCE"],
        _COMMON + ["USRN", "RECORD_TYPE", "SWA_ORG_REF_NAMING", "STATE", "STATE_DATE", "STREET_SURFACE",
                   "STREET_CLASSIFICATION", "VERSION", "STREET_START_DATE", "STREET_END_DATE", "LAST_UPDATE_DATE",
                   "RECORD_ENTRY_DATE", "STREET_START_X", "STREET_START_Y", "STREET_START_LAT", "STREET_START_LONG",
                   "STREET_END_X", "STREET_END_Y", "STREET_END_LAT", "STREET_END_LONG", "STREET_TOLERANCE"],
    ],
    "15": [_COMMON + ["USRN", "STREET_DESCRIPTION", "LOCALITY", "TOWN_NAME", "ADMINISTRATIVE_AREA", "LANGUAGE",
                      "START_DATE", "END_DATE", "LAST_UPDATE_DATE", "ENTRY_DATE"]],
    "21": [
        _COMMON + ["UPRN", "LOGICAL_STATUS", "BLPU_STATE", "BLPU_STATE_DATE", "PARENT_UPRN", "X_COORDINATE",
                   "Y_COORDINATE", "RPC", "LOCAL_CUSTODIAN_CODE", "START_DATE", "END_DATE", "LAST_UPDATE_DATE",
                   "ENTRY_DATE", "POSTAL_ADDRESS", "POSTCODE_LOCATOR", "MULTI_OCC_COUNT"],
        _COMMON + ["UPRN", "LOGICAL_STATUS", "BLPU_STATE", "BLPU_STATE_DATE", "PARENT_UPRN", "X_COORDINATE",
                   "Y_COORDINATE", "LATITUDE", "LONGITUDE", "RPC", "LOCAL_CUSTODIAN_CODE", "COUNTRY", "START_DATE",
                   "END_DATE", "LAST_UPDATE_DATE", "ENTRY_DATE", "ADDRESSBASE_POSTAL", "POSTCODE_LOCATOR",
                   "MULTI_OCC_COUNT"],
    ],
    "23": [_COMMON + ["UPRN", "XREF_KEY", "CROSS_REFERENCE", "VERSION", "SOURCE"]],
    "24": [_COMMON + ["UPRN", "LPI_KEY", "LANGUAGE", "LOGICAL_STATUS", "START_DATE", "END_DATE",
                      "LAST_UPDATE_DATE", "ENTRY_DATE", "SAO_START_NUMBER", "SAO_START_SUFFIX", "SAO_END_NUMBER",
                      "SAO_END_SUFFIX", "SAO_TEXT", "PAO_START_NUMBER", "PAO_START_SUFFIX", "PAO_END_NUMBER",
                      "PAO_END_SUFFIX", "PAO_TEXT", "USRN", "USRN_MATCH_INDICATOR", "AREA_NAME", "LEVEL",
                      "OFFICIAL_FLAG"]],
    "28": [_COMMON + ["UPRN", "PARENT_ADDRESSABLE_UPRN", "RM_UDPRN", "ORGANISATION_NAME", "DEPARTMENT_NAME",
                      "SUB_BUILDING_NAME", "BUILDING_NAME", "BUILDING_NUMBER", "DEPENDENT_THOROUGHFARE",
                      "THOROUGHFARE", "DOUBLE_DEPENDENT_LOCALITY", "DEPENDENT_LOCALITY", "POST_TOWN", "POSTCODE"]],
    "29": [["RECORD_IDENTIFIER"]],
    "30": [_COMMON + ["UPRN"], _COMMON + ["UPRN", "SUCC_KEY", "START_DATE", "END_DATE", "LAST_UPDATE_DATE",
                                          "ENTRY_DATE", "SUCCESSOR"]],
    "31": [_COMMON + ["UPRN", "ORG_KEY", "ORGANISATION", "LEGAL_NAME"]],
    "32": [_COMMON + ["UPRN", "CLASS_KEY", "CLASSIFICATION_CODE", "CLASS_SCHEME", "SCHEME_VERSION", "START_DATE",
                      "END_DATE"]],
    "99": [["RECORD_IDENTIFIER", "NEXT_VOLUME_NUMBER", "RECORD_COUNT"]],
}

# GeoPlace Data Transfer Format 7.3 (LLPG exports): BLPU carries its class; LPIs carry postcode.
DTF73: dict[str, list[list[str]]] = {
    "10": ABP["10"],
    "11": [_COMMON + ["USRN", "RECORD_TYPE", "SWA_ORG_REF_NAMING", "STATE", "STATE_DATE", "STREET_SURFACE",
                      "STREET_CLASSIFICATION", "VERSION", "STREET_START_DATE", "STREET_END_DATE",
                      "LAST_UPDATE_DATE", "RECORD_ENTRY_DATE", "STREET_START_X", "STREET_START_Y", "STREET_END_X",
                      "STREET_END_Y", "STREET_TOLERANCE"]],
    "12": [_COMMON + ["USRN"]],
    "15": [_COMMON + ["USRN", "STREET_DESCRIPTION", "LOCALITY", "TOWN_NAME", "ADMINISTRATIVE_AREA", "LANGUAGE"]],
    "21": [_COMMON + ["UPRN", "LOGICAL_STATUS", "BLPU_STATE", "BLPU_STATE_DATE", "BLPU_CLASS", "PARENT_UPRN",
                      "X_COORDINATE", "Y_COORDINATE", "RPC", "LOCAL_CUSTODIAN_CODE", "START_DATE", "END_DATE",
                      "LAST_UPDATE_DATE", "ENTRY_DATE", "ORGANISATION"]],
    "22": [_COMMON + ["UPRN"]],
    "23": [_COMMON + ["UPRN"]],
    "24": [_COMMON + ["UPRN", "LPI_KEY", "LANGUAGE", "LOGICAL_STATUS", "START_DATE", "END_DATE", "ENTRY_DATE",
                      "LAST_UPDATE_DATE", "SAO_START_NUMBER", "SAO_START_SUFFIX", "SAO_END_NUMBER",
                      "SAO_END_SUFFIX", "SAO_TEXT", "PAO_START_NUMBER", "PAO_START_SUFFIX", "PAO_END_NUMBER",
                      "PAO_END_SUFFIX", "PAO_TEXT", "USRN", "LEVEL", "POSTALLY_ADDRESSABLE", "POSTCODE",
                      "POST_TOWN", "OFFICIAL_FLAG"]],
    "29": [["RECORD_IDENTIFIER"]],
    "30": [_COMMON + ["UPRN"], _COMMON + ["UPRN", "SUCC_KEY", "START_DATE", "END_DATE", "LAST_UPDATE_DATE",
                                          "ENTRY_DATE", "SUCCESSOR"]],
    "31": [_COMMON + ["UPRN", "ORG_KEY", "ORGANISATION", "LEGAL_NAME"]],
    "32": [_COMMON + ["UPRN", "CLASS_KEY", "CLASSIFICATION_CODE", "CLASS_SCHEME", "SCHEME_VERSION", "START_DATE",
                      "END_DATE"]],
    "99": ABP["99"],
}

FORMATS = {"abp": ABP, "dtf73": DTF73}
