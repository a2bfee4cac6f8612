"""Day-0 record state of every source: who each record is about, which UPRN it states, its dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.gazgen import Gazetteer
from synthetic.models import DAY0
from synthetic.noise import NoiseLog
from synthetic.population import age_on
from synthetic.sources import CATEGORIES, SPECS

STATE_COLUMNS = ("key", "person_id", "uprn", "last_name", "start", "end", "updated_at")
_D0 = np.datetime64(DAY0)


def stamp(rng: np.random.Generator, day: np.datetime64 | np.ndarray, n: int) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' stamps during office hours of ``day``."""
    secs = rng.integers(7 * 3600, 19 * 3600, n).astype("timedelta64[s]")
    t = np.asarray(day).astype("datetime64[D]").astype("datetime64[s]") + secs
    return np.char.replace(np.datetime_as_string(t, unit="s").astype(str), "T", " ").astype(object)


def past_days(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    return _D0 - rng.integers(lo, hi, n).astype("timedelta64[D]")


def occupy(rng: np.random.Generator, gaz: Gazetteer, hh: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Put households into dwellings (bigger households in bigger homes) and mark council stock."""
    dw = gaz.dwellings()
    cls = dw.classification.to_numpy()
    cap = np.select([cls == "RD06", cls == "RD04", cls == "RD03"], [1.0, 2.0, 3.0], 4.0) + rng.normal(0, 1.2, len(dw))
    chosen = rng.choice(len(dw), size=len(hh), replace=False)
    chosen = chosen[np.argsort(cap[chosen])]
    order = np.argsort(hh["size"].to_numpy() + rng.normal(0, 1.2, len(hh)), kind="stable")
    uprn = np.empty(len(hh), dtype=np.int64)
    uprn[order] = dw.uprn.to_numpy()[chosen]
    # a few households live in commercial premises (flat over the pub, caretaker's house): a real DQ finding
    com = gaz.blpus[gaz.blpus.classification.isin(["CR06", "CR08"]) & (gaz.blpus.logical_status == 1)].uprn.to_numpy()
    k = min(len(com), max(1, round(0.002 * len(hh))))
    uprn[rng.choice(len(hh), size=k, replace=False)] = rng.choice(com, size=k, replace=False)
    hh = hh.assign(uprn=uprn)
    p_stock = np.select([cls == "RD06", cls == "RD04", cls == "RD03"], [0.35, 0.3, 0.1], 0.03)
    stock = pd.Series(rng.random(len(dw)) < p_stock, index=dw.uprn.to_numpy())
    return hh, stock


def _keys(rng: np.random.Generator, prefix: str, n: int, width: int = 8) -> np.ndarray:
    nums = rng.choice(10**width - 10 ** (width - 1), size=n, replace=False) + 10 ** (width - 1)
    return (prefix + nums.astype(str).astype(object)).astype(object)


def _stale(rng: np.random.Generator, src: str, state: pd.DataFrame, dwellings: np.ndarray, log: NoiseLog) -> pd.DataFrame:
    rate = SPECS[src].rates.stale_address
    m = rng.random(len(state)) < rate
    state.loc[m, "uprn"] = dwellings[rng.integers(0, len(dwellings), m.sum())]
    log.add(src, state.key.to_numpy()[m], "address", "stale_address")
    return state


def _frame(key: np.ndarray, person_id: np.ndarray, uprn: np.ndarray, last_name: np.ndarray, start: np.ndarray, end: np.ndarray,
           updated_at: np.ndarray, **extra: np.ndarray) -> pd.DataFrame:
    """Record state rows: who (person_id), which address (uprn), the surname the source knows, dates."""
    return pd.DataFrame({"key": key, "person_id": person_id, "uprn": uprn, "last_name": last_name, "start": start,
                         "end": end, "updated_at": updated_at, **extra})


def initial_state(rng: np.random.Generator, gaz: Gazetteer, hh: pd.DataFrame, people: pd.DataFrame, stock: pd.Series,
                  log: NoiseLog) -> dict[str, pd.DataFrame]:
    """Record state of all eight sources at day 0 (``people`` carries each person's ``uprn``)."""
    dwellings = gaz.dwellings().uprn.to_numpy()
    out: dict[str, pd.DataFrame] = {}
    heads = people[people.role == "head"]
    adults = people[age_on(people.date_of_birth.to_numpy(), _D0) >= 18]
    # council tax: the head is liable; some older accounts elsewhere, a few never closed
    n = len(heads)
    ct = _frame(_keys(rng, "CT", n), heads.person_id.to_numpy(), heads.uprn.to_numpy(), heads.last_name.to_numpy(),
                past_days(rng, n, 30, 9000), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), stamp(rng, past_days(rng, n, 1, 1500), n))
    ct = _stale(rng, "council_tax", ct, dwellings, log)
    old = heads.sample(frac=0.15, random_state=rng.integers(1 << 31))  # earlier accounts of people who moved within the area
    m = len(old)
    end = past_days(rng, m, 40, 3000)
    ended = np.where(rng.random(m) < 0.05, np.datetime64("NaT"), end).astype("datetime64[D]")  # closure missed
    hist = _frame(_keys(rng, "CT", m, 9), old.person_id.to_numpy(), dwellings[rng.integers(0, len(dwellings), m)],
                  old.last_name.to_numpy(), end - rng.integers(200, 4000, m).astype("timedelta64[D]"), ended, stamp(rng, end, m),
                  end_reason=np.where(np.isnat(ended), None, "MOVED OUT").astype(object))
    ct = pd.concat([ct, hist], ignore_index=True)
    ct["uprn_held"] = rng.random(len(ct)) < 0.7
    out["council_tax"] = ct
    # electoral register: most adults, half of the 16-17 year-old attainers
    age = age_on(people.date_of_birth.to_numpy(), _D0)
    er_p = people[((age >= 18) & (rng.random(len(people)) < 0.9)) | ((age >= 16) & (age < 18) & (rng.random(len(people)) < 0.5))]
    n = len(er_p)
    out["electoral_register"] = _stale(rng, "electoral_register", _frame(
        _keys(rng, "ER", n, 7), er_p.person_id.to_numpy(), er_p.uprn.to_numpy(), er_p.last_name.to_numpy(),
        past_days(rng, n, 20, 5000), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), stamp(rng, past_days(rng, n, 1, 700), n)),
        dwellings, log)
    # housing tenancies: lead tenant of a council home, joint tenant partner
    in_stock = stock.reindex(people.uprn.to_numpy()).astype("boolean").fillna(False).to_numpy(dtype=bool)
    tenants = people[in_stock & ((people.role == "head") | ((people.role == "partner") & (rng.random(len(people)) < 0.7)))]
    tenancy_of = pd.Series(_keys(rng, "T", hh.household_id.size, 7), index=hh.household_id.to_numpy())
    n = len(tenants)
    tref = tenancy_of.reindex(tenants.household_id.to_numpy()).to_numpy()
    seq = np.where(tenants.role.to_numpy() == "head", "1", "2")
    start = past_days(rng, n, 30, 8000)
    hstate = _frame(tref + "/" + seq, tenants.person_id.to_numpy(), tenants.uprn.to_numpy(), tenants.last_name.to_numpy(),
                    start, np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), stamp(rng, past_days(rng, n, 1, 900), n), tenancy_ref=tref)
    out["housing_tenancies"] = hstate
    # benefits: tenants and pensioners claim more often
    a_age = age_on(adults.date_of_birth.to_numpy(), _D0)
    a_stock = stock.reindex(adults.uprn.to_numpy()).astype("boolean").fillna(False).to_numpy(dtype=bool)
    p = np.where(a_stock, 0.4, np.where(a_age >= 66, 0.2, 0.06))
    cl = adults[rng.random(len(adults)) < p]
    n = len(cl)
    out["benefits"] = _stale(rng, "benefits", _frame(
        _keys(rng, "BC", n), cl.person_id.to_numpy(), cl.uprn.to_numpy(), cl.last_name.to_numpy(), past_days(rng, n, 10, 4000),
        np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), stamp(rng, past_days(rng, n, 1, 400), n),
        claim_ref=_keys(rng, "HB", n, 7)), dwellings, log)
    # service requests over the past year
    n = max(5, int(len(people) * 0.12))
    req = adults.iloc[rng.integers(0, len(adults), n)]
    received = past_days(rng, n, 1, 365).astype("datetime64[s]") + rng.integers(8 * 3600, 20 * 3600, n).astype("timedelta64[s]")
    out["service_requests"] = _frame(_keys(rng, "SR", n, 9), req.person_id.to_numpy(), req.uprn.to_numpy(), req.last_name.to_numpy(),
                                     received, np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                                     stamp(rng, np.minimum(received.astype("datetime64[D]") + rng.integers(0, 20, n).astype("timedelta64[D]"),
                                                           _D0 - np.timedelta64(1, "D")), n),
                                     category=CATEGORIES[rng.integers(0, len(CATEGORIES), n)])
    out.update(property_state(rng, gaz, stock, set(hh.uprn.to_numpy().tolist())))
    for name, df in out.items():
        df["person_id"] = df.person_id.astype("Int64") if "person_id" in df else pd.array([pd.NA] * len(df), dtype="Int64")
    return out


def property_state(rng: np.random.Generator, gaz: Gazetteer, stock: pd.Series, occupied: set[int]) -> dict[str, pd.DataFrame]:
    """Valuation list, business rates and housing stock at day 0."""
    b = gaz.blpus
    out: dict[str, pd.DataFrame] = {}
    live_dw = b[b.is_dwelling & (b.logical_status == 1)]
    gone = b[b.is_dwelling & (b.logical_status == 8)]
    vl = pd.concat([live_dw, gone[rng.random(len(gone)) < 0.6]])  # a demolished house still on the list
    n = len(vl)
    cls = vl.classification.to_numpy()
    lo = np.select([cls == "RD06", cls == "RD04", cls == "RD03"], [0, 1, 2], 3)
    band = np.array(list("ABCDEFGH"), dtype=object)[np.clip(lo + rng.integers(0, 4, n), 0, 7)]
    empty = np.full(n, None, dtype=object)
    out["valuation_list"] = _frame(_keys(rng, "", n, 11), pd.array([pd.NA] * n, dtype="Int64"), vl.uprn.to_numpy(), empty,
                                   past_days(rng, n, 300, 12000), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                                   stamp(rng, past_days(rng, n, 1, 3000), n), band=band)
    com = b[b.classification.str.match(r"^C[RIO]") & (b.logical_status == 1)]
    n = len(com)
    rv = np.round(np.exp(rng.normal(9.3, 0.8, n)), -2).astype(np.int64)
    out["business_rates"] = _frame(_keys(rng, "NDR", n, 7), pd.array([pd.NA] * n, dtype="Int64"), com.uprn.to_numpy(),
                                   np.full(n, None, dtype=object), past_days(rng, n, 100, 6000),
                                   np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), stamp(rng, past_days(rng, n, 1, 2000), n),
                                   rateable_value=rv)
    st = stock[stock].index.to_numpy()
    n = len(st)
    occ = np.isin(st, np.fromiter(occupied, dtype=np.int64, count=len(occupied)))
    tenure = np.where(~occ, "VOID", np.where(rng.random(n) < 0.08, "LEASEHOLD (RTB)", np.where(rng.random(n) < 0.9, "SECURE", "INTRODUCTORY")))
    out["housing_stock"] = _frame(_keys(rng, "HS", n, 6), pd.array([pd.NA] * n, dtype="Int64"), st, np.full(n, None, dtype=object),
                                  past_days(rng, n, 1000, 20000), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                                  stamp(rng, past_days(rng, n, 1, 2000), n), tenure=tenure.astype(object), uprn_held=rng.random(n) < 0.6)
    return out
