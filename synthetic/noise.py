"""Noise the way departmental systems get it: typos, nicknames, initials, Mac/Mc, swapped dates, abbreviations."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.names import nickname_table
from synthetic.places import ABBREVIATIONS
from synthetic.rand import key_int, key_uniform

NOISE_KINDS = (
    "typo", "nickname", "initials", "swapped_names", "mac_mc", "dob_day_month_swap", "dob_missing", "abbreviation",
    "flat_notation", "postcode_missing", "postcode_typo", "case_punctuation", "stale_address",
)
_KEYBOARD = "QWERTYUIOPASDFGHJKLZXCVBNM"
_TYPE_RE = re.compile(r"\b(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class NoiseRates:
    """Probability per record of each kind of noise (mac_mc applies to Mac/Mc surnames only)."""

    typo: float = 0.0
    nickname: float = 0.0
    initials: float = 0.0
    swapped_names: float = 0.0
    mac_mc: float = 0.0
    dob_day_month_swap: float = 0.0
    dob_missing: float = 0.0
    abbreviation: float = 0.0
    flat_notation: float = 0.0
    postcode_missing: float = 0.0
    postcode_typo: float = 0.0
    case_punctuation: float = 0.0
    stale_address: float = 0.0


class NoiseLog:
    """Collects (source, source_key, field, kind) for every noise applied: part of the ground truth."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, source: str, keys: np.ndarray, field: str, kind: str) -> None:
        if len(keys):
            self.parts.append(pd.DataFrame({"source": source, "source_key": keys, "field": field, "kind": kind}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["source", "source_key", "field", "kind"])
        return pd.concat(self.parts, ignore_index=True)


def typo(word: str, r1: int, r2: int) -> str:
    """One keyboard slip: substitution, deletion, transposition or doubled letter (pure)."""
    if not isinstance(word, str) or len(word) < 3:
        return word
    i = 1 + r1 % (len(word) - 2)
    op = r2 % 4
    if op == 0:
        c = _KEYBOARD[r2 % 26]
        c = c if c != word[i].upper() else _KEYBOARD[(r2 + 1) % 26]
        return word[:i] + (c if word[i].isupper() else c.lower()) + word[i + 1 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if word[i] != word[i + 1] else word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def mac_mc(name: str) -> str:
    """MacDonald <-> McDonald (upper-case input)."""
    if name.startswith("MAC") and len(name) > 4:
        return "MC" + name[3:]
    if name.startswith("MC"):
        return "MAC" + name[2:]
    return name


def _pick(keys: np.ndarray, salt: str, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
    hit = key_uniform(keys, salt) < rate
    return hit if eligible is None else hit & eligible


def person_noise(df: pd.DataFrame, source: str, rates: NoiseRates, seed: int, log: NoiseLog) -> pd.DataFrame:
    """Noise on name, date-of-birth fields of stated-record frame ``df`` (column ``key`` is the record key)."""
    df = df.copy()
    keys = df.key.to_numpy()
    s = f"{seed}:{source}"
    first = df.first_name.to_numpy(dtype=object).copy()
    last = df.last_name.to_numpy(dtype=object).copy()
    middle = df.middle_name.to_numpy(dtype=object).copy()
    nicks = nickname_table()
    can_nick = np.array([f in nicks for f in first])
    m = _pick(keys, s + ":nickname", rates.nickname, can_nick)
    choice = key_int(keys[m], s + ":nickname_i", 1000)
    first[m] = [nicks[f][c % len(nicks[f])] for f, c in zip(first[m], choice)]
    log.add(source, keys[m], "first_name", "nickname")
    m = _pick(keys, s + ":initials", rates.initials, ~m)
    first[m] = [f[:1] for f in first[m]]
    middle[m] = [x[:1] if isinstance(x, str) else x for x in middle[m]]
    log.add(source, keys[m], "first_name", "initials")
    is_mac = np.array([isinstance(x, str) and (x.startswith("MAC") or x.startswith("MC")) for x in last])
    m = _pick(keys, s + ":mac_mc", rates.mac_mc, is_mac)
    last[m] = [mac_mc(x) for x in last[m]]
    log.add(source, keys[m], "last_name", "mac_mc")
    m = _pick(keys, s + ":typo", rates.typo)
    which = key_int(keys, s + ":typo_f", 2)
    r1, r2 = key_int(keys, s + ":typo_1", 997), key_int(keys, s + ":typo_2", 991)
    for field, arr, w in (("first_name", first, 0), ("last_name", last, 1)):
        mm = m & (which == w)
        arr[mm] = [typo(x, a, b) for x, a, b in zip(arr[mm], r1[mm], r2[mm])]
        log.add(source, keys[mm], field, "typo")
    m = _pick(keys, s + ":swapped_names", rates.swapped_names)
    first[m], last[m] = last[m], first[m].copy()
    log.add(source, keys[m], "first_name", "swapped_names")
    df["first_name"], df["last_name"], df["middle_name"] = first, last, middle
    if "date_of_birth" in df:
        dob = pd.to_datetime(df.date_of_birth)
        ok = dob.notna().to_numpy() & (dob.dt.day.to_numpy() <= 12) & (dob.dt.day.to_numpy() != dob.dt.month.to_numpy())
        m = _pick(keys, s + ":dob_swap", rates.dob_day_month_swap, ok)
        if m.any():
            d = dob[m]
            swapped = pd.to_datetime(pd.DataFrame({"year": d.dt.year, "month": d.dt.day, "day": d.dt.month}))
            dob = dob.copy()
            dob[m] = swapped
        log.add(source, keys[m], "date_of_birth", "dob_day_month_swap")
        mm = _pick(keys, s + ":dob_missing", rates.dob_missing, ~m)
        dob[mm] = pd.NaT
        log.add(source, keys[mm], "date_of_birth", "dob_missing")
        df["date_of_birth"] = dob.to_numpy()
    return df


def address_noise(df: pd.DataFrame, source: str, rates: NoiseRates, seed: int, log: NoiseLog) -> pd.DataFrame:
    """Noise on the stated address parts: abbreviations, flat notation, postcodes, street typos."""
    df = df.copy()
    keys = df.key.to_numpy()
    s = f"{seed}:{source}"
    street = df.street.to_numpy(dtype=object).copy()
    m = _pick(keys, s + ":abbreviation", rates.abbreviation)
    pick = key_int(keys[m], s + ":abbr_i", 10)
    street[m] = [_TYPE_RE.sub(lambda mt, p=p: ABBREVIATIONS[mt.group(1)][p % len(ABBREVIATIONS[mt.group(1)])], x) for x, p in zip(street[m], pick)]
    changed = m & (street != df.street.to_numpy())
    log.add(source, keys[changed], "street", "abbreviation")
    df["street"] = street
    sao = df.sao.to_numpy(dtype=object).copy()
    pao = df.pao_num.to_numpy(dtype=object).copy()
    flat_after = np.zeros(len(df), dtype=bool)
    m = _pick(keys, s + ":flat_notation", rates.flat_notation, (sao != "") & (pao != ""))
    style = key_int(keys, s + ":flat_style", 3)
    label = np.array([x.replace("FLAT ", "") if isinstance(x, str) else x for x in sao], dtype=object)
    # "2/12 HIGH ST" only for simple labels; tenement labels (1/2, 2F1) move after the street instead
    simple = np.array([isinstance(x, str) and len(x) <= 2 and x.isalnum() for x in label])
    slash = m & (style == 0) & simple
    pao[slash] = label[slash] + "/" + pao[slash]
    sao[slash] = ""
    flat_after[m & ((style == 1) | ((style == 0) & ~simple))] = True
    short = m & (style == 2)
    short_label = np.array([len(x) <= 4 for x in label[short]], dtype=bool)
    sao[short] = np.where(label[short] != sao[short], label[short], np.where(short_label, "FLAT " + sao[short], sao[short]))
    changed = m & ((sao != df.sao.to_numpy()) | (pao != df.pao_num.to_numpy()) | flat_after)
    log.add(source, keys[changed], "sao", "flat_notation")
    df["sao"], df["pao_num"], df["flat_after"] = sao, pao, flat_after
    pc = df.postcode.to_numpy(dtype=object).copy()
    m = _pick(keys, s + ":postcode_missing", rates.postcode_missing)
    pc[m] = ""
    log.add(source, keys[m], "postcode", "postcode_missing")
    mm = _pick(keys, s + ":postcode_typo", rates.postcode_typo, ~m & (pc != ""))
    kind = key_int(keys[mm], s + ":pc_kind", 3)
    pc[mm] = [_pc_typo(p, k) for p, k in zip(pc[mm], kind)]
    log.add(source, keys[mm], "postcode", "postcode_typo")
    df["postcode"] = pc
    return df


def _pc_typo(pc: str, kind: int) -> str:
    if kind == 0:
        return pc[:-2] + pc[-1] + pc[-2] if pc[-1] != pc[-2] else pc[:-1] + "X"
    if kind == 1:
        return pc.replace(" ", "")
    sector = pc[-3]
    return pc[:-3] + str((int(sector) + 1) % 10) + pc[-2:]


def case_punctuation(values: np.ndarray, keys: np.ndarray, source: str, field: str, rate: float, seed: int, log: NoiseLog) -> np.ndarray:
    """Lower, title or mixed case and dropped or extra punctuation on free text."""
    values = np.asarray(values, dtype=object).copy()
    m = _pick(keys, f"{seed}:{source}:{field}:case", rate) & np.array([isinstance(v, str) and v != "" for v in values])
    kind = key_int(keys[m], f"{seed}:{source}:{field}:case_k", 4)
    out = []
    for v, k in zip(values[m], kind):
        if k == 0:
            out.append(v.lower())
        elif k == 1:
            out.append(v.title())
        elif k == 2:
            out.append(v.replace(",", "").replace("'", ""))
        else:
            out.append(v.replace(", ", ",").replace(".", ""))
    values[m] = out
    log.add(source, keys[m], field, "case_punctuation")
    return values
