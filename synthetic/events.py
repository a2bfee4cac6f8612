"""Life events over D days and how each source hears of them (with lag, partial coverage, or never)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthetic.gazgen import Gazetteer
from synthetic.models import DAY0
from synthetic.population import households, people_frame

EVENT_COLUMNS = ["day", "event_type", "person_id", "old_uprn", "new_uprn", "old_last_name", "new_last_name", "date"]
# Yearly rates: per household (move, leave_area, arrive), per person (marriage pairs), per adult child
# (leave_home), per adult (claim_new), per claim (claim_end).
# Closure reasons as the billing, benefits and housing systems record them.
MOVED, DECEASED = "MOVED OUT", "DECEASED"
RATES = {"move": 0.07, "leave_area": 0.02, "arrive": 0.02, "marriage": 0.005, "leave_home": 0.10, "claim_new": 0.02, "claim_end": 0.12}


@dataclass
class Sim:
    """Result of the simulation: change sets by day and source, the true events, and everyone ever resident."""

    changes: dict[int, dict[str, tuple[pd.DataFrame, list[str]]]]
    events: pd.DataFrame
    people: pd.DataFrame


@dataclass
class _Src:
    """One source's records as the simulation sees them: loaded lazily, changed by scheduled edits."""

    frame: pd.DataFrame  # day-0 state indexed by key
    cache: dict[str, dict] = field(default_factory=dict)
    counter: int = 0

    def get(self, key: str) -> dict | None:
        if key not in self.cache:
            if key not in self.frame.index:
                return None
            self.cache[key] = {"key": key, **self.frame.loc[key].to_dict()}
        return self.cache[key]


class World:
    """Who lives where, day by day, and what each source has been told (scheduled edits with a lag)."""

    def __init__(self, rng: np.random.Generator, days: int, gaz: Gazetteer, hh: pd.DataFrame, people: pd.DataFrame,
                 stock: pd.Series, state: dict[str, pd.DataFrame], *, event_rate: float = 1.0) -> None:
        self.rng, self.days = rng, days
        # incomers are generated up front so ids and names do not depend on the order of events
        n_in = int(len(hh) * RATES["arrive"] * event_rate * days / 365 * 1.5) + 5
        inc_hh = households(rng, max(50, int(n_in * 2.3)))
        inc_hh["household_id"] = inc_hh.household_id + int(hh.household_id.max())
        inc = people_frame(rng, inc_hh, first_person_id=int(people.person_id.max()) + 1)
        inc["uprn"] = pd.NA
        self.people = pd.concat([people, inc], ignore_index=True)
        self.incoming = list(inc_hh.household_id.to_numpy()[::-1])
        p = self.people
        self.n0 = len(people)
        self.alive = np.ones(len(p), dtype=bool)
        self.present = np.r_[np.ones(len(people), dtype=bool), np.zeros(len(inc), dtype=bool)]
        self.last = p.last_name.to_numpy(dtype=object).copy()
        self.male = (p.sex == "M").to_numpy()
        self.dob = p.date_of_birth.to_numpy().astype("datetime64[D]")
        self.role = p.role.to_numpy(dtype=object).copy()
        self.hh_of = p.household_id.to_numpy().copy()
        order = np.argsort(self.hh_of, kind="stable")  # keeps the head first within each household
        bounds = np.flatnonzero(np.diff(self.hh_of[order])) + 1
        self.members: dict[int, list[int]] = {
            int(self.hh_of[grp[0]]): grp.tolist() for grp in np.split(order, bounds) if len(grp)
        }
        born = pd.DatetimeIndex(self.dob)
        self.birth_ymd = (born.year.to_numpy(), born.month.to_numpy(), born.day.to_numpy())
        self.hh_uprn: dict[int, int | None] = dict(zip(hh.household_id.tolist(), hh.uprn.tolist()))
        self.next_hh = int(self.people.household_id.max()) + 1
        occupied = set(hh.uprn.tolist())
        self.vacant = [u for u in gaz.dwellings().uprn.tolist() if u not in occupied]
        self.stock = set(stock[stock].index.tolist())
        self.src = {name: _Src(df.set_index("key", drop=False).drop(columns="key")) for name, df in state.items()}
        live = lambda df: df[df.end.isna()]  # noqa: E731
        self.ct_of_hh: dict[int, str] = {}
        ct = live(state["council_tax"])
        hh_of_pid = dict(zip(p.person_id.tolist(), p.household_id.tolist()))
        for k, pid in zip(ct.key.tolist(), ct.person_id.tolist()):
            self.ct_of_hh[hh_of_pid[int(pid)]] = k
        self.er = dict(zip(state["electoral_register"].person_id.astype(int).tolist(), state["electoral_register"].key.tolist()))
        self.ben = dict(zip(state["benefits"].person_id.astype(int).tolist(), state["benefits"].key.tolist()))
        ten = state["housing_tenancies"]
        self.ten = dict(zip(ten.person_id.astype(int).tolist(), ten.key.tolist()))
        self.stock_key = dict(zip(state["housing_stock"].uprn.tolist(), state["housing_stock"].key.tolist()))
        self.pending: dict[int, list[tuple]] = {}
        self.events: list[tuple] = []
        self.day = 0

    # -- scheduling -------------------------------------------------------------------------
    def date(self, day: int | None = None) -> dt.date:
        return DAY0 + dt.timedelta(days=self.day if day is None else day)

    def schedule(self, source: str, lo: int, hi: int, op: str, key: str, payload: dict | None = None, p: float = 1.0) -> bool:
        if self.rng.random() >= p:
            return False
        when = self.day + int(self.rng.integers(lo, hi + 1))
        if when <= self.days:
            self.pending.setdefault(when, []).append((source, op, key, payload or {}))
        return True

    def new_key(self, source: str, prefix: str) -> str:
        s = self.src[source]
        s.counter += 1
        return f"{prefix}N{s.counter:07d}"

    def event(self, kind: str, pos: int, old_uprn=None, new_uprn=None, old_last=None, new_last=None) -> None:
        self.events.append((self.day, kind, int(self.people.person_id.iat[pos]), old_uprn, new_uprn, old_last, new_last, self.date().isoformat()))

    def pid(self, pos: int) -> int:
        return int(self.people.person_id.iat[pos])

    def row(self, pos: int, uprn: int, **extra) -> dict:
        return {"person_id": self.pid(pos), "uprn": uprn, "last_name": self.last[pos], "start": np.datetime64(self.date()),
                "end": np.datetime64("NaT"), **extra}

    def age(self, pos: int) -> float:
        return (np.datetime64(self.date()) - self.dob[pos]).astype(int) / 365.25

    # -- effects on sources -----------------------------------------------------------------
    def open_account(self, h: int, uprn: int) -> None:
        head = self.members[h][0]
        key = self.new_key("council_tax", "CT")
        if self.schedule("council_tax", 0, 21, "new", key, self.row(head, uprn, uprn_held=bool(self.rng.random() < 0.7)), p=0.98):
            self.ct_of_hh[h] = key

    def close_account(self, h: int, reason: str, lo: int = 0, hi: int = 10) -> None:
        """Close the household's council tax account, with the closure reason the billing system records."""
        key = self.ct_of_hh.pop(h, None)
        if key is not None and self.members.get(h):
            self.event("closed_account", self.members[h][0], old_uprn=self.hh_uprn.get(h))
        if key is not None:
            self.schedule("council_tax", lo, hi, "set", key, {"end": np.datetime64(self.date()), "end_reason": reason})

    def end_tenancy(self, pos: int, reason: str) -> None:
        key = self.ten.pop(self.pid(pos), None)
        if key is not None:
            self.event("closed_account", pos, old_uprn=self.hh_uprn.get(int(self.hh_of[pos])))
            self.schedule("housing_tenancies", 0, 14, "set", key, {"end": np.datetime64(self.date()), "end_reason": reason})

    def start_tenancy(self, h: int, uprn: int) -> None:
        ref = self.new_key("housing_tenancies", "T")
        for i, pos in enumerate(self.members[h][:2]):
            if i == 1 and (self.role[pos] != "partner" or self.rng.random() > 0.7):
                break
            key = f"{ref}/{i + 1}"
            if self.schedule("housing_tenancies", 0, 7, "new", key, self.row(pos, uprn, tenancy_ref=ref)):
                self.ten[self.pid(pos)] = key
        self.event("new_tenancy", self.members[h][0], new_uprn=uprn)
        self.set_tenure(uprn, "SECURE" if self.rng.random() < 0.8 else "INTRODUCTORY")

    def set_tenure(self, uprn: int, tenure: str) -> None:
        key = self.stock_key.get(uprn)
        if key is not None:
            self.schedule("housing_stock", 0, 3, "set", key, {"tenure": tenure})

    def person_moved(self, pos: int, new_uprn: int | None) -> None:
        """Per-person sources hear of a move (or departure) late, or not at all."""
        pid = self.pid(pos)
        if pid in self.er:
            if new_uprn is None:
                if self.schedule("electoral_register", 30, 120, "delete", self.er[pid], p=0.6):
                    del self.er[pid]
            else:
                self.schedule("electoral_register", 7, 90, "set", self.er[pid], {"uprn": new_uprn}, p=0.75)
        if pid in self.ben:
            if new_uprn is None:
                self.event("closed_account", pos)
                self.schedule("benefits", 0, 30, "delete", self.ben.pop(pid))
            else:
                self.schedule("benefits", 0, 30, "set", self.ben[pid], {"uprn": new_uprn}, p=0.9)
        if pid in self.ten:
            self.end_tenancy(pos, MOVED)

    # -- the events ---------------------------------------------------------------------------
    def take_vacant(self) -> int | None:
        if not self.vacant:
            return None
        i = int(self.rng.integers(0, len(self.vacant)))
        self.vacant[i], self.vacant[-1] = self.vacant[-1], self.vacant[i]
        return self.vacant.pop()

    def move_household(self, h: int, new_uprn: int | None) -> None:
        old = self.hh_uprn.get(h)
        self.close_account(h, MOVED)
        for pos in self.members[h]:
            self.event("move", pos, old_uprn=old, new_uprn=new_uprn, old_last=self.last[pos], new_last=self.last[pos])
            self.person_moved(pos, new_uprn)
        if old is not None:
            self.vacant.append(old)
            if old in self.stock:
                self.set_tenure(old, "VOID")
        self.hh_uprn[h] = new_uprn
        if new_uprn is None:
            for pos in self.members[h]:
                self.present[pos] = False
            return
        self.open_account(h, new_uprn)
        if new_uprn in self.stock:
            self.start_tenancy(h, new_uprn)

    def arrive(self) -> None:
        if not self.incoming:
            return
        uprn = self.take_vacant()
        if uprn is None:
            return
        h = int(self.incoming.pop())
        self.hh_uprn[h] = uprn
        for pos in self.members[h]:
            self.present[pos] = True
            self.event("move", pos, new_uprn=uprn, old_last=self.last[pos], new_last=self.last[pos])
            if self.age(pos) >= 18:
                key = self.new_key("electoral_register", "ER")
                if self.schedule("electoral_register", 14, 120, "new", key, self.row(pos, uprn), p=0.8):
                    self.er[self.pid(pos)] = key
        self.open_account(h, uprn)
        if uprn in self.stock:
            self.start_tenancy(h, uprn)

    def die(self, pos: int) -> None:
        h = int(self.hh_of[pos])
        self.alive[pos] = False
        self.event("death", pos, old_uprn=self.hh_uprn.get(h))
        pid = self.pid(pos)
        if pid in self.er:
            self.schedule("electoral_register", 7, 30, "delete", self.er.pop(pid), p=0.95)
        if pid in self.ben:
            # Benefits systems end the claim with the date of death (DWP and Tell Us Once notify them).
            self.event("closed_account", pos)
            today = np.datetime64(self.date())
            self.schedule("benefits", 0, 14, "set", self.ben.pop(pid),
                          {"end": today, "end_reason": DECEASED, "date_of_death": today})
        if pid in self.ten:
            self.end_tenancy(pos, DECEASED)
        was_head = self.members[h][0] == pos
        if len(self.members[h]) == 1:
            self.close_account(h, DECEASED, 5, 40)
            old = self.hh_uprn.get(h)
            if old is not None:
                self.vacant.append(old)
                if old in self.stock:
                    self.set_tenure(old, "VOID")
            self.hh_uprn[h] = None
        if was_head and len(self.members[h]) > 1 and h in self.ct_of_hh:
            # The liable person died: the account closes as deceased and the survivor becomes liable on a new one.
            self.close_account(h, DECEASED, 10, 40)
            self.members[h].remove(pos)
            self.open_account(h, self.hh_uprn[h])
            return
        self.members[h].remove(pos)

    def marry(self, w: int, m: int) -> None:
        old, new = self.last[w], self.last[m] if self.rng.random() < 0.75 else self.last[w]
        self.last[w] = new
        self.event("marriage", w, old_last=old, new_last=new)
        if new != old:
            pid = self.pid(w)
            for src, store, lo, hi, p in (("electoral_register", self.er, 14, 90, 0.6), ("benefits", self.ben, 0, 30, 0.9),
                                          ("housing_tenancies", self.ten, 0, 30, 0.8)):
                if pid in store:
                    self.schedule(src, lo, hi, "set", store[pid], {"last_name": new}, p=p)
            hw = int(self.hh_of[w])
            if self.members[hw][0] == w and hw in self.ct_of_hh:
                self.schedule("council_tax", 0, 60, "set", self.ct_of_hh[hw], {"last_name": new}, p=0.5)
        self.join(w, int(self.hh_of[m]))

    def join(self, pos: int, h_new: int) -> None:
        """One person moves into another household (marriage)."""
        h_old = int(self.hh_of[pos])
        old, new = self.hh_uprn.get(h_old), self.hh_uprn.get(h_new)
        self.event("move", pos, old_uprn=old, new_uprn=new, old_last=self.last[pos], new_last=self.last[pos])
        self.person_moved(pos, new)
        if len(self.members[h_old]) == 1:
            self.close_account(h_old, MOVED)
            if old is not None:
                self.vacant.append(old)
            self.hh_uprn[h_old] = None
        self.members[h_old].remove(pos)
        self.members[h_new].append(pos)
        self.hh_of[pos] = h_new

    def leave_home(self, pos: int) -> None:
        uprn = self.take_vacant()
        if uprn is None:
            return
        h_old, h = int(self.hh_of[pos]), self.next_hh
        self.next_hh += 1
        self.event("move", pos, old_uprn=self.hh_uprn.get(h_old), new_uprn=uprn, old_last=self.last[pos], new_last=self.last[pos])
        self.person_moved(pos, uprn)
        self.members[h_old].remove(pos)
        self.members[h] = [pos]
        self.hh_of[pos], self.role[pos] = h, "head"
        self.hh_uprn[h] = uprn
        self.open_account(h, uprn)
        if uprn in self.stock:
            self.start_tenancy(h, uprn)
