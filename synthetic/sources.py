"""The departmental sources: each one's schema, noise rates and how it writes a record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from synthetic import addresses as A
from synthetic.noise import NoiseLog, NoiseRates, address_noise, case_punctuation, person_noise
from synthetic.places import NDR_DESCRIPTION

CATEGORIES = np.array(["MISSED BIN", "POTHOLE", "FLY-TIPPING", "NOISE COMPLAINT", "STREET LIGHT FAULT", "GRAFFITI",
                       "DOG FOULING", "BULKY UPLIFT", "BLOCKED DRAIN", "ABANDONED VEHICLE"], dtype=object)
_LOCATION_TEMPLATES = np.array(["{}", "{}", "{}", "outside {}", "rear of {}", "at {}", "{} - back court", "near {}"], dtype=object)


@dataclass(frozen=True)
class SourceSpec:
    """One synthetic departmental source and its ``hub.yaml`` mapping."""

    name: str
    kind: str  # person | property
    table: str | None  # None: a CSV drop folder
    key: str
    trust: int
    updated_at: str
    fields: dict[str, str]
    rates: NoiseRates
    render: Callable[..., pd.DataFrame]
    date_format: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    int_columns: tuple[str, ...] = ()


def _stated(state: pd.DataFrame, people: pd.DataFrame | None, addr: pd.DataFrame) -> pd.DataFrame:
    """Join record state (key, person_id, uprn, last_name) to the person's truth and the stated address."""
    df = state.reset_index(drop=True).copy()
    if people is not None:
        p = people.reindex(df.person_id.to_numpy())
        for col in ("title", "first_name", "middle_name", "date_of_birth", "nino", "phone", "email", "junior", "senior"):
            df[col] = p[col].to_numpy()
    parts = addr.reindex(df.uprn.to_numpy())
    for col in ("sao", "pao_num", "pao_name", "street", "locality", "town", "postcode", "classification"):
        df[col] = parts[col].fillna("").to_numpy()
    return df


def _d(values: pd.Series | np.ndarray, fmt: str) -> np.ndarray:
    s = pd.to_datetime(pd.Series(values))
    return np.where(s.notna(), s.dt.strftime(fmt), None).astype(object)


def _blank(a: np.ndarray) -> np.ndarray:
    return np.where(pd.isna(a) | (a == ""), None, a).astype(object)


def _opt(df: pd.DataFrame, col: str) -> np.ndarray:
    """An optional state column (closure reason, date of death): ``None`` where the state never set it."""
    if col not in df:
        return np.full(len(df), None, dtype=object)
    return _blank(df[col].to_numpy(dtype=object))


def _suffixed(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog, rate: float) -> np.ndarray:
    """Surnames with JNR/SNR where a father and son share a name and the clerk noted it (not noise: a real marker)."""
    from synthetic.rand import key_uniform

    last = df.last_name.to_numpy(dtype=object).copy()
    u = key_uniform(df.key.to_numpy(), f"{seed}:{spec.name}:suffix")
    jr = df.junior.fillna(False).to_numpy(dtype=bool) & (u < rate)
    sr = df.senior.fillna(False).to_numpy(dtype=bool) & (u < rate)
    last[jr] = last[jr] + np.where(u[jr] < rate / 2, " JNR", " JR")
    last[sr] = last[sr] + np.where(u[sr] < rate / 2, " SNR", " SR")
    log.add(spec.name, df.key.to_numpy()[jr | sr], "last_name", "name_suffix")
    return last


def render_council_tax(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    df = df.assign(last_name=_suffixed(df, spec, seed, log, 0.3))
    mid = np.array([m[:1] if isinstance(m, str) else "" for m in df.middle_name], dtype=object)
    name = df.last_name + ", " + df.first_name + np.where(mid != "", " " + mid, "")
    keys = df.key.to_numpy()
    return pd.DataFrame({
        "account_ref": keys,
        "lead_name": case_punctuation(name.to_numpy(), keys, spec.name, "full_name", spec.rates.case_punctuation, seed, log),
        "prop_addr": case_punctuation(A.one_line(df, with_postcode=False), keys, spec.name, "address", spec.rates.case_punctuation, seed, log),
        "post_code": _blank(df.postcode.to_numpy()),
        "uprn_ref": np.where(df.uprn_held.to_numpy(), df.uprn.to_numpy(), None),
        "liable_from": _d(df.start, "%Y-%m-%d"), "liable_to": _d(df.end, "%Y-%m-%d"),
        "account_status": np.where(df.end.notna(), "CLOSED", "LIVE"), "close_reason": _opt(df, "end_reason"),
        "last_modified": df.updated_at.to_numpy(),
    })


def render_electoral_register(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    forenames = df.first_name + np.where(df.middle_name.notna() & (df.middle_name.fillna("").str.len() > 0), " " + df.middle_name.fillna(""), "")
    lines = A.address_lines(df)
    out = pd.DataFrame({"elector_no": keys, "forenames": forenames.to_numpy(), "surname": _suffixed(df, spec, seed, log, 0.4)})
    for i, line in enumerate(lines, 1):
        out[f"qual_addr_{i}"] = _blank(case_punctuation(line, keys, spec.name, f"address_{i}", spec.rates.case_punctuation / 5, seed, log))
    out["postcode"] = _blank(df.postcode.to_numpy())
    out["registered_on"] = _d(df.start, "%Y-%m-%d")
    out["last_changed"] = df.updated_at.to_numpy()
    return out


def render_housing(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    flat_after = df.get("flat_after", pd.Series(False, index=df.index)).to_numpy()
    return pd.DataFrame({
        "tenant_key": keys, "tenancy_ref": df.tenancy_ref.to_numpy(), "title": df.title.to_numpy(),
        "forename": case_punctuation(df.first_name.to_numpy(), keys, spec.name, "first_name", spec.rates.case_punctuation, seed, log),
        "surname": case_punctuation(df.last_name.to_numpy(), keys, spec.name, "last_name", spec.rates.case_punctuation, seed, log),
        "dob": _d(df.date_of_birth, "%d/%m/%Y"), "ni_number": df.nino.to_numpy(),
        "flat_no": _blank(np.where(flat_after, "", df.sao.to_numpy())),
        "house_no": _blank(df.pao_num.to_numpy()), "house_name": _blank(df.pao_name.to_numpy()),
        "street_name": _blank(np.where(flat_after, df.street + " " + df.sao, df.street)),
        "district": _blank(df.locality.to_numpy()), "town": df.town.to_numpy(), "post_code": _blank(df.postcode.to_numpy()),
        "tenancy_start": _d(df.start, "%d/%m/%Y"), "tenancy_end": _d(df.end, "%d/%m/%Y"),
        "end_reason": _opt(df, "end_reason"), "updated": df.updated_at.to_numpy(),
    })


def render_benefits(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    lines = A.address_lines(df)
    out = pd.DataFrame({
        "claimant_id": keys, "claim_ref": df.claim_ref.to_numpy(),
        "title": [t.title() if isinstance(t, str) else t for t in df.title],
        "first_name": df.first_name.str.title().to_numpy(), "middle_name": df.middle_name.str.title().to_numpy(),
        "surname": df.last_name.str.title().to_numpy(), "birth_date": _d(df.date_of_birth, "%Y-%m-%d"), "nino": df.nino.to_numpy(),
    })
    for i, line in enumerate(lines[:4], 1):
        if i == 4:
            line = A.join(line, lines[4])
        t = pd.Series(line).str.title().str.replace(r"(\d)([A-Z])\b", lambda m: m.group(1) + m.group(2).upper(), regex=True).to_numpy()
        out[f"address_line_{i}"] = _blank(case_punctuation(t, keys, spec.name, f"address_{i}", spec.rates.case_punctuation, seed, log))
    out["post_code"] = _blank(df.postcode.to_numpy())
    out["tel_no"] = df.phone.to_numpy()
    out["email_address"] = df.email.to_numpy()
    out["claim_end"] = _d(df.end, "%Y-%m-%d")
    out["end_reason"] = _opt(df, "end_reason")
    out["date_of_death"] = _d(_opt(df, "date_of_death"), "%Y-%m-%d")
    out["modified_at"] = df.updated_at.to_numpy()
    return out


def render_service_requests(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    from synthetic.rand import key_int

    keys = df.key.to_numpy()
    style = key_int(keys, f"{seed}:sr:name_style", 4)
    title = df.title.fillna("").str.title()
    initial = df.first_name.str[:1]
    name = np.select(
        [style == 0, style == 1, style == 2],
        [(title + " " + initial + " " + df.last_name.str.title()).str.strip(), df.first_name + " " + df.last_name,
         df.last_name + " " + df.first_name.str.title()],
        df.first_name.str.title() + " " + df.last_name.str.title(),
    )
    addr = A.one_line(df, with_postcode=False)
    addr = np.where(df.postcode.to_numpy() != "", addr + " " + df.postcode.to_numpy(), addr)
    tmpl = _LOCATION_TEMPLATES[key_int(keys, f"{seed}:sr:loc", len(_LOCATION_TEMPLATES))]
    location = np.array([t.format(a) for t, a in zip(tmpl, addr)], dtype=object)
    return pd.DataFrame({
        "RequestID": keys, "DateReceived": _d(df.start, "%d/%m/%Y %H:%M"),
        "CustomerName": case_punctuation(name.astype(object), keys, spec.name, "full_name", spec.rates.case_punctuation, seed, log),
        "ContactPhone": df.phone.to_numpy(), "ContactEmail": df.email.to_numpy(),
        "Location": case_punctuation(location, keys, spec.name, "address", spec.rates.case_punctuation, seed, log),
        "Category": df.category.to_numpy(), "LastUpdated": df.updated_at.to_numpy(),
    })


def render_valuation_list(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    return pd.DataFrame({
        "ba_reference": keys, "band": df.band.to_numpy(),
        "address": case_punctuation(A.one_line(df, with_postcode=False), keys, spec.name, "address", spec.rates.case_punctuation, seed, log),
        "postcode": _blank(df.postcode.to_numpy()), "effective_date": _d(df.start, "%Y-%m-%d"), "updated_at": df.updated_at.to_numpy(),
    })


def render_business_rates(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    lines = A.address_lines(df)
    out = pd.DataFrame({"prop_ref": keys, "description": [NDR_DESCRIPTION.get(c, "PREMISES") for c in df.classification],
                        "rateable_value": df.rateable_value.to_numpy()})
    for i in range(4):
        out[f"addr{i + 1}"] = _blank(lines[i] if i < 3 else A.join(lines[3], lines[4]))
    out["postcode"] = _blank(df.postcode.to_numpy())
    out["updated_at"] = df.updated_at.to_numpy()
    return out


def render_housing_stock(df: pd.DataFrame, spec: SourceSpec, seed: int, log: NoiseLog) -> pd.DataFrame:
    keys = df.key.to_numpy()
    cls = df.classification.to_numpy()
    return pd.DataFrame({
        "stock_ref": keys, "tenure": df.tenure.to_numpy(),
        "property_type": np.where(cls == "RD06", "FLAT", np.where(cls == "RD04", "TERRACED HOUSE", "HOUSE")),
        "flat_ref": _blank(df.sao.to_numpy()), "bldg_no": _blank(df.pao_num.to_numpy()), "bldg_name": _blank(df.pao_name.to_numpy()),
        "street": df.street.to_numpy(), "area": _blank(df.locality.to_numpy()), "post_code": _blank(df.postcode.to_numpy()),
        "uprn": np.where(df.uprn_held.to_numpy(), df.uprn.to_numpy(), None), "last_update": df.updated_at.to_numpy(),
    })


def render(spec: SourceSpec, state: pd.DataFrame, people: pd.DataFrame | None, addr: pd.DataFrame, seed: int, log: NoiseLog) -> pd.DataFrame:
    """Source rows for record ``state`` rows, noised the way this source gets it."""
    df = _stated(state, people if spec.kind == "person" else None, addr)
    if spec.kind == "person":
        df = person_noise(df, spec.name, spec.rates, seed, log)
    df = address_noise(df, spec.name, spec.rates, seed, log)
    return spec.render(df, spec, seed, log)


_ER_FIELDS = {"first_name": "forenames", "last_name": "surname", **{f"address_line_{i}": f"qual_addr_{i}" for i in range(1, 6)}, "postcode": "postcode"}
SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("council_tax", "person", "ctax_account", "account_ref", 3, "last_modified",
               {"full_name": "lead_name", "address": "prop_addr", "postcode": "post_code", "uprn": "uprn_ref"},
               NoiseRates(typo=0.02, nickname=0.01, initials=0.04, swapped_names=0.004, mac_mc=0.15, abbreviation=0.3,
                          flat_notation=0.12, postcode_missing=0.01, postcode_typo=0.01, case_punctuation=0.04, stale_address=0.01),
               render_council_tax, attributes={"start_date": "liable_from", "end_date": "liable_to", "status": "account_status",
                                               "end_reason": "close_reason"},
               int_columns=("uprn_ref",)),
    SourceSpec("electoral_register", "person", "elector", "elector_no", 2, "last_changed", _ER_FIELDS,
               NoiseRates(typo=0.012, nickname=0.004, swapped_names=0.002, mac_mc=0.08, abbreviation=0.08, flat_notation=0.05,
                          postcode_missing=0.004, postcode_typo=0.004, case_punctuation=0.03, stale_address=0.03),
               render_electoral_register),
    SourceSpec("housing_tenancies", "person", "tenancy", "tenant_key", 4, "updated",
               {"title": "title", "first_name": "forename", "last_name": "surname", "date_of_birth": "dob", "nino": "ni_number",
                "flat": "flat_no", "house_number": "house_no", "house_name": "house_name", "street": "street_name",
                "locality": "district", "town": "town", "postcode": "post_code"},
               NoiseRates(typo=0.02, nickname=0.02, swapped_names=0.01, mac_mc=0.1, dob_day_month_swap=0.02, dob_missing=0.03,
                          abbreviation=0.2, flat_notation=0.1, postcode_missing=0.03, postcode_typo=0.02, case_punctuation=0.05),
               render_housing, date_format="%d/%m/%Y",
               attributes={"start_date": "tenancy_start", "end_date": "tenancy_end", "end_reason": "end_reason"}),
    SourceSpec("benefits", "person", "claimant", "claimant_id", 5, "modified_at",
               {"title": "title", "first_name": "first_name", "middle_names": "middle_name", "last_name": "surname",
                "date_of_birth": "birth_date", "nino": "nino", **{f"address_line_{i}": f"address_line_{i}" for i in range(1, 5)},
                "postcode": "post_code", "phone": "tel_no", "email": "email_address", "date_of_death": "date_of_death"},
               NoiseRates(typo=0.01, nickname=0.01, mac_mc=0.05, dob_day_month_swap=0.01, dob_missing=0.005, abbreviation=0.15,
                          flat_notation=0.05, postcode_missing=0.01, postcode_typo=0.01, case_punctuation=0.03, stale_address=0.01),
               render_benefits, attributes={"end_date": "claim_end", "end_reason": "end_reason"}),
    SourceSpec("service_requests", "person", None, "RequestID", 1, "LastUpdated",
               {"full_name": "CustomerName", "phone": "ContactPhone", "email": "ContactEmail", "address": "Location"},
               NoiseRates(typo=0.05, nickname=0.15, initials=0.1, swapped_names=0.03, mac_mc=0.2, abbreviation=0.5,
                          flat_notation=0.3, postcode_missing=0.4, postcode_typo=0.05, case_punctuation=0.4),
               render_service_requests),
    SourceSpec("valuation_list", "property", "vo_list", "ba_reference", 3, "updated_at", {"address": "address", "postcode": "postcode"},
               NoiseRates(abbreviation=0.05, flat_notation=0.05, postcode_missing=0.005, postcode_typo=0.005, case_punctuation=0.01),
               render_valuation_list, attributes={"council_tax_band": "band", "valuation_ref": "ba_reference", "effective_date": "effective_date"}),
    SourceSpec("business_rates", "property", "ndr_hereditament", "prop_ref", 2, "updated_at",
               {"address_line_1": "addr1", "address_line_2": "addr2", "address_line_3": "addr3", "address_line_4": "addr4", "postcode": "postcode"},
               NoiseRates(abbreviation=0.2, flat_notation=0.1, postcode_missing=0.02, postcode_typo=0.02),
               render_business_rates, attributes={"rateable_value": "rateable_value", "description": "description"},
               int_columns=("rateable_value",)),
    SourceSpec("housing_stock", "property", "stock_property", "stock_ref", 4, "last_update",
               {"flat": "flat_ref", "house_number": "bldg_no", "house_name": "bldg_name", "street": "street", "locality": "area",
                "postcode": "post_code", "uprn": "uprn"},
               NoiseRates(abbreviation=0.15, flat_notation=0.15, postcode_missing=0.02, postcode_typo=0.01),
               render_housing_stock, attributes={"stock_ref": "stock_ref", "tenure": "tenure", "property_type": "property_type"},
               int_columns=("uprn",)),
)
SPECS = {s.name: s for s in SOURCES}
