"""Households and people: realistic British names and ages, spouses, twins, Sr/Jr, maiden names, NINOs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.models import DAY0
from synthetic.names import TITLES_FEMALE_MARRIED, TITLES_FEMALE_SINGLE, TITLES_MALE, name_tables

# household type: (weight, adults in couple?, children range, other adults range)
HOUSEHOLD_TYPES = ("single", "couple", "family", "lone_parent", "share", "extended")
_WEIGHTS = np.array([0.30, 0.28, 0.22, 0.10, 0.05, 0.05])
_NINO_BAD = set("DFIQUV")
_NINO_PREFIXES = np.array(
    [a + b for a in "ABCEGHJKLMNOPRSTWXYZ" for b in "ABCEGHJKLMNPRSTWXYZ" if a + b not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}],
    dtype=object,
)
_DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example.com"], dtype=object)


def _draw(rng: np.random.Generator, table: str, n: int) -> np.ndarray:
    names, p = name_tables()[table]
    return np.array([s.upper() for s in names], dtype=object)[rng.choice(len(names), size=n, p=p)]


def households(rng: np.random.Generator, people: int) -> pd.DataFrame:
    """Household types and sizes adding up to exactly ``people``."""
    est = int(people / 2.2) + 16
    htype = rng.choice(len(HOUSEHOLD_TYPES), size=est, p=_WEIGHTS)
    kids = np.where(np.isin(htype, [2, 3]), rng.choice([1, 2, 3], size=est, p=[0.45, 0.4, 0.15]), 0)
    others = np.where(htype == 4, rng.integers(1, 4, size=est), np.where(htype == 5, rng.choice([1, 2], size=est, p=[0.8, 0.2]), 0))
    partner = np.isin(htype, [1, 2, 5]).astype(np.int64)
    size = 1 + partner + kids + others
    end = int(np.searchsorted(np.cumsum(size), people))
    htype, kids, others, partner, size = (a[: end + 1].copy() for a in (htype, kids, others, partner, size))
    over = int(size.sum()) - people
    while over > 0:  # trim the last household to land exactly on ``people``
        if others[-1]:
            others[-1] -= 1
        elif kids[-1]:
            kids[-1] -= 1
        elif partner[-1]:
            partner[-1] = 0
            htype[-1] = 0
        size[-1] -= 1
        over -= 1
    return pd.DataFrame({
        "household_id": np.arange(1, len(htype) + 1), "htype": np.array(HOUSEHOLD_TYPES, dtype=object)[htype],
        "partner": partner, "kids": kids, "others": others, "size": size,
    })


def _head_age(rng: np.random.Generator, htype: np.ndarray) -> np.ndarray:
    n = len(htype)
    band = rng.random(n)
    young, mid, old = rng.uniform(19, 40, n), rng.uniform(40, 65, n), rng.uniform(65, 96, n)
    age = np.where(band < 0.4, young, np.where(band < 0.65, mid, old))
    age = np.where(htype == "family", rng.uniform(24, 56, n), age)
    age = np.where(htype == "lone_parent", rng.uniform(20, 52, n), age)
    age = np.where(htype == "share", rng.uniform(18, 36, n), age)
    return np.where(htype == "extended", rng.uniform(44, 72, n), age)


def people_frame(rng: np.random.Generator, hh: pd.DataFrame, first_person_id: int = 1) -> pd.DataFrame:
    """One row per person of the given households (truth: names, dates of birth, identifiers)."""
    size = hh["size"].to_numpy()
    hidx = np.repeat(np.arange(len(hh)), size)
    pos = np.arange(len(hidx)) - np.repeat(np.cumsum(size) - size, size)
    partner = hh.partner.to_numpy()[hidx]
    kids = hh.kids.to_numpy()[hidx]
    htype = hh.htype.to_numpy()[hidx]
    role = np.select(
        [pos == 0, (pos == 1) & (partner == 1), pos < 1 + partner + kids, htype == "extended"],
        ["head", "partner", "child", "adult_child"], "other",
    ).astype(object)
    n = len(hidx)
    # ages
    head_age = _head_age(rng, hh.htype.to_numpy())[hidx]
    age = head_age.copy()
    age = np.where(role == "partner", np.clip(head_age + rng.normal(0, 3, n), 18, 100), age)
    age = np.where(role == "child", rng.uniform(0, 1, n) * np.minimum(17.9, head_age - 18), age)
    age = np.where(role == "adult_child", 18 + rng.uniform(0, 1, n) * np.clip(head_age - 38, 0.5, 17), age)
    age = np.where(role == "other", rng.uniform(18, 40, n), age)
    # sex: heads of couples mostly male, lone parents mostly female, partners mostly opposite
    head_male = np.where(np.isin(hh.htype, ["couple", "family", "extended"]), rng.random(len(hh)) < 0.93,
                         np.where(hh.htype == "lone_parent", rng.random(len(hh)) < 0.15, rng.random(len(hh)) < 0.5))
    male = rng.random(n) < 0.5
    male = np.where(role == "head", head_male[hidx], male)
    male = np.where(role == "partner", np.where(rng.random(n) < 0.96, ~head_male[hidx], head_male[hidx]), male)
    first = np.where(male, _draw(rng, "male", n), _draw(rng, "female", n))
    middle = np.where(male, _draw(rng, "male", n), _draw(rng, "female", n))
    middle = np.where(rng.random(n) < 0.62, middle, None)
    head_surname = _draw(rng, "surname", len(hh))[hidx]
    own = _draw(rng, "surname", n)
    married = (role == "partner") & (male != head_male[hidx]) & (rng.random(n) < 0.75)
    birth_surname = np.where(np.isin(role, ["head", "child", "adult_child"]), head_surname, own)
    last = np.where(married, head_surname, birth_surname)
    hyphen = married & (rng.random(n) < 0.05)
    last = np.where(hyphen, birth_surname + "-" + head_surname, last)
    # father and son sharing a name (Sr/Jr), twins sharing a birthday
    head_first = first[np.repeat(np.cumsum(size) - size, size)]
    junior = (role == "adult_child") & male & head_male[hidx] & (rng.random(n) < 0.35)
    first = np.where(junior, head_first, first)
    dob = np.datetime64(DAY0) - np.floor(age * 365.25).astype("timedelta64[D]") - rng.integers(0, 365, n).astype("timedelta64[D]")
    senior = np.zeros(n, dtype=bool)
    senior[np.repeat(np.cumsum(size) - size, size)[junior]] = True  # the father of a junior heads the household
    twin = np.zeros(n, dtype=bool)
    prev_child = np.r_[False, (role[:-1] == "child") & (hidx[:-1] == hidx[1:])]
    twin_pick = (role == "child") & prev_child & (rng.random(n) < 0.06)
    idx = np.flatnonzero(twin_pick)
    dob[idx] = dob[idx - 1]
    twin[idx] = twin[idx - 1] = True
    age_now = (np.datetime64(DAY0) - dob).astype(np.int64) / 365.25
    df = pd.DataFrame({
        "person_id": np.arange(first_person_id, first_person_id + n),
        "household_id": hh.household_id.to_numpy()[hidx], "role": role, "sex": np.where(male, "M", "F"),
        "first_name": first, "middle_name": middle, "last_name": last, "birth_surname": birth_surname,
        "date_of_birth": dob, "twin": twin, "junior": junior, "senior": senior,
    })
    df["title"] = np.where(male, TITLES_MALE[rng.integers(0, len(TITLES_MALE), n)],
                           np.where(married, TITLES_FEMALE_MARRIED[rng.integers(0, len(TITLES_FEMALE_MARRIED), n)],
                                    TITLES_FEMALE_SINGLE[rng.integers(0, len(TITLES_FEMALE_SINGLE), n)]))
    df.loc[age_now < 16, "title"] = None
    df["nino"] = _ninos(rng, n)
    adult = age_now >= 18
    df["phone"] = np.where(adult & (rng.random(n) < 0.75), "07" + _digits(rng, n, 9), None)
    local = np.char.lower((df.first_name + "." + df.last_name.str.replace("'", "", regex=False)).to_numpy().astype(str))
    num = np.where(rng.random(n) < 0.5, rng.integers(1, 99, n).astype(str), "")
    df["email"] = np.where(adult & (rng.random(n) < 0.55), local.astype(object) + num + "@" + _DOMAINS[rng.integers(0, 4, n)], None)
    return df


def _digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.char.zfill(rng.integers(0, 10**k, n).astype(str), k).astype(object)


def _ninos(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique, well-formed National Insurance numbers (valid prefixes, suffix A-D)."""
    space = len(_NINO_PREFIXES) * 1_000_000
    pick = rng.choice(space, size=n, replace=False)
    pre, num = np.divmod(pick, 1_000_000)
    return _NINO_PREFIXES[pre] + np.char.zfill(num.astype(str), 6).astype(object) + np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, n)]


def age_on(dob: np.ndarray, day: np.datetime64) -> np.ndarray:
    """Whole years of age on ``day``."""
    d = pd.DatetimeIndex(dob)
    t = pd.Timestamp(day)
    return (t.year - d.year - ((t.month, t.day) < (0, 0)) - ((d.month > t.month) | ((d.month == t.month) & (d.day > t.day)))).to_numpy()
