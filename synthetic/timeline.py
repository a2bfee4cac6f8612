"""The day loop: draw each day's life events, then release the source edits whose lag has run out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.events import RATES, EVENT_COLUMNS, Sim, World
from synthetic.gazgen import Gazetteer
from synthetic.sources import CATEGORIES
from synthetic.state import stamp


def _pick(w: World, n: int, ok, tries: int = 60) -> list[int]:
    """Up to ``n`` distinct random people satisfying ``ok`` (rejection sampling, O(n))."""
    out: list[int] = []
    seen: set[int] = set()
    total = len(w.alive)
    for _ in range(n):
        for _ in range(tries):
            pos = int(w.rng.integers(0, total))
            if pos not in seen and w.alive[pos] and w.present[pos] and ok(pos):
                out.append(pos)
                seen.add(pos)
                break
    return out


def _households(w: World, n: int) -> list[int]:
    out = []
    for _ in range(n):
        for _ in range(60):
            h = int(w.rng.integers(1, w.next_hh))
            if w.hh_uprn.get(h) is not None and w.members.get(h) and h not in out:
                out.append(h)
                break
    return out


def _day(w: World, day: int, n_hh: int, n_people: int, event_rate: float = 1.0) -> None:
    w.day = day
    rng = w.rng
    today = np.datetime64(w.date())
    live = np.flatnonzero(w.alive & w.present)
    age = (today - w.dob[live]).astype(np.int64) / 365.25
    q = np.minimum(0.5, np.exp(-10.2 + 0.092 * age)) * event_rate / 365.0
    for pos in live[rng.random(len(live)) < q]:
        if w.alive[pos]:
            w.die(int(pos))
    poisson = lambda rate, base: int(rng.poisson(base * rate * event_rate / 365.0))  # noqa: E731
    for h in _households(w, poisson(RATES["move"], n_hh)):
        new = w.take_vacant()
        if new is not None:
            w.move_household(h, new)
    for h in _households(w, poisson(RATES["leave_area"], n_hh)):
        w.move_household(h, None)
    for _ in range(poisson(RATES["arrive"], n_hh)):
        w.arrive()
    single = lambda pos: (len(w.members[int(w.hh_of[pos])]) == 1 or w.role[pos] == "other") and 22 <= w.age(pos) <= 50  # noqa: E731
    for _ in range(poisson(RATES["marriage"], n_people)):
        women = _pick(w, 1, lambda p: single(p) and not w.male[p])
        men = _pick(w, 1, lambda p: w.male[p] and 22 <= w.age(p) <= 55 and w.role[p] in ("head", "other")
                    and not any(w.role[x] == "partner" for x in w.members[int(w.hh_of[p])]))
        if women and men and w.hh_of[women[0]] != w.hh_of[men[0]]:
            w.marry(women[0], men[0])
    y, m, d = today.astype(object).year, today.astype(object).month, today.astype(object).day
    by, bm, bd = (a[live] for a in w.birth_ymd)
    for pos in live[(by == y - 18) & (bm == m) & (bd == d)]:
        w.event("new_adult", int(pos), new_uprn=w.hh_uprn.get(int(w.hh_of[pos])))
        if w.pid(int(pos)) not in w.er:
            key = w.new_key("electoral_register", "ER")
            if w.schedule("electoral_register", 0, 60, "new", key, w.row(int(pos), w.hh_uprn.get(int(w.hh_of[pos]))), p=0.7):
                w.er[w.pid(int(pos))] = key
    for pos in _pick(w, poisson(RATES["leave_home"], n_people * 0.04), lambda p: w.role[p] in ("adult_child", "child") and w.age(p) >= 18):
        w.leave_home(pos)
    for pos in _pick(w, poisson(RATES["claim_new"], n_people * 0.8), lambda p: w.pid(p) not in w.ben and w.age(p) >= 18):
        key = w.new_key("benefits", "BC")
        uprn = w.hh_uprn.get(int(w.hh_of[pos]))
        if w.schedule("benefits", 0, 10, "new", key, w.row(pos, uprn, claim_ref=key.replace("BC", "HB"))):
            w.ben[w.pid(pos)] = key
    for pos in _pick(w, poisson(RATES["claim_end"], len(w.ben)), lambda p: w.pid(p) in w.ben):
        w.event("closed_account", pos)
        w.schedule("benefits", 0, 5, "delete", w.ben.pop(w.pid(pos)))
    for pos in _pick(w, poisson(0.12, n_people), lambda p: w.age(p) >= 18):
        key = w.new_key("service_requests", "SR")
        received = today.astype("datetime64[s]") + np.timedelta64(int(rng.integers(8 * 3600, 20 * 3600)), "s")
        row = w.row(pos, w.hh_uprn.get(int(w.hh_of[pos])), category=CATEGORIES[int(rng.integers(0, len(CATEGORIES)))])
        w.schedule("service_requests", 0, 0, "new", key, {**row, "start": received})


def _release(w: World, day: int) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    dirty: dict[str, dict[str, dict]] = {}
    deleted: dict[str, list[str]] = {}
    for source, op, key, payload in w.pending.pop(day, []):
        s = w.src[source]
        if op == "new":
            s.cache[key] = {"key": key, **payload}
            rec = s.cache[key]
        elif op == "delete":
            if s.get(key) is None:
                continue
            s.cache[key] = None  # type: ignore[assignment]
            dirty.get(source, {}).pop(key, None)
            deleted.setdefault(source, []).append(key)
            continue
        else:
            rec = s.get(key)
            if rec is None:
                continue
            rec.update(payload)
        dirty.setdefault(source, {})[key] = rec
    out: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    for source in sorted(set(dirty) | set(deleted)):
        recs = list(dirty.get(source, {}).values())
        frame = pd.DataFrame(recs) if recs else pd.DataFrame(columns=["key", "person_id", "uprn", "last_name"])
        if recs:
            frame["updated_at"] = stamp(w.rng, np.datetime64(w.date(day)), len(frame))
            frame["person_id"] = frame.person_id.astype("Int64")
        out[source] = (frame, deleted.get(source, []))
    return out


def simulate(rng: np.random.Generator, days: int, gaz: Gazetteer, hh: pd.DataFrame, people: pd.DataFrame, stock: pd.Series,
             state: dict[str, pd.DataFrame], addr: pd.DataFrame | None = None, *, event_rate: float = 1.0) -> Sim:
    """Run ``days`` days of life events from the day-0 world; nothing is written here. ``event_rate`` multiplies
    the yearly rates of every life event (see ``SynthSettings.event_rate``)."""
    if days == 0:
        p = people.assign(resident_day0=True, last_name_final=people.last_name, alive_final=True, resident_final=True,
                          household_id_final=people.household_id, uprn_final=people.uprn)
        return Sim({}, pd.DataFrame(columns=EVENT_COLUMNS), p)
    w = World(rng, days, gaz, hh, people, stock, state, event_rate=event_rate)
    changes = {}
    for day in range(1, days + 1):
        _day(w, day, n_hh=len(hh), n_people=len(people), event_rate=event_rate)
        changes[day] = _release(w, day)
    events = pd.DataFrame(w.events, columns=EVENT_COLUMNS)
    for col in ("old_uprn", "new_uprn"):
        events[col] = events[col].astype("Int64")
    p = w.people.copy()
    p["resident_day0"] = np.arange(len(p)) < w.n0
    p["last_name_final"] = w.last
    p["alive_final"] = w.alive
    p["resident_final"] = w.present & w.alive
    p["household_id_final"] = w.hh_of
    p["uprn_final"] = pd.array([w.hh_uprn.get(int(h)) if a else None for h, a in zip(w.hh_of, p.resident_final)], dtype="Int64")
    return Sim(changes, events, p)
