"""Fuzzy person search by name, date of birth and postcode: candidate blocking in SQL, vectorised scoring with rapidfuzz."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from schemas import GoldenPerson

WEIGHTS = {"name": 0.5, "dob": 0.3, "postcode": 0.2}
MAX_CANDIDATES = 5000
COLUMNS = ["person_id", "first_name", "middle_names", "last_name", "date_of_birth", "postcode", "uprn"]


def normalise_postcode(value: str | None) -> str | None:
    """Upper case with one space before the inward code: ``ab12cd`` → ``AB1 2CD``.

    Examples:
        >>> normalise_postcode(" sw1a1aa ")
        'SW1A 1AA'
    """
    if not value:
        return None
    compact = re.sub(r"\s+", "", value).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def swapped_dob(dob: str | None) -> str | None:
    """The date with day and month swapped, when that is still a valid date (a common keying error)."""
    if not dob or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", dob):
        return None
    y, m, d = dob.split("-")
    return f"{y}-{d}-{m}" if int(d) <= 12 and d != m else None


def candidates(session: Session, *, name: str | None, dob: str | None, postcode: str | None) -> pd.DataFrame:
    """Active, unrestricted golden persons sharing the postcode or the (possibly transposed) date of birth.

    With only a name, those with the surname and the first name's initial: a surname alone (SMITH) is too
    common to rank fairly within the candidate cap. At most ``MAX_CANDIDATES`` rows.
    """
    clauses = []
    pc = normalise_postcode(postcode)
    if pc:
        clauses.append(GoldenPerson.postcode.in_({pc, pc.replace(" ", "")}))
    if dob:
        clauses.append(GoldenPerson.date_of_birth.in_({d for d in (dob, swapped_dob(dob)) if d}))
    tokens = name.upper().split() if name else []
    if not clauses and tokens:
        surname = GoldenPerson.last_name == tokens[-1]
        clauses.append(and_(surname, GoldenPerson.first_name.like(f"{tokens[0][0]}%")) if len(tokens) > 1 else surname)
    if not clauses:
        return pd.DataFrame(columns=COLUMNS)
    stmt = (select(*[getattr(GoldenPerson, c) for c in COLUMNS])
            .where(GoldenPerson.status == "active", GoldenPerson.restricted.is_(False), or_(*clauses))
            .limit(MAX_CANDIDATES))
    return pd.DataFrame(session.execute(stmt).all(), columns=COLUMNS)


def score(frame: pd.DataFrame, *, name: str | None, dob: str | None, postcode: str | None) -> pd.DataFrame:
    """Add ``name_score``, ``dob_score``, ``postcode_score`` (0–100) and their weighted ``score``; best first.

    Only the parts given in the query count toward ``score``.

    Examples:
        >>> f = pd.DataFrame({"person_id": [1, 2], "first_name": ["JANE", "JOHN"], "middle_names": [None, None],
        ...     "last_name": ["DOE", "DOE"], "date_of_birth": ["1980-05-06", "1980-06-05"],
        ...     "postcode": ["AB1 2CE", "AB1 2CE"], "uprn": [1, 1]})
        >>> score(f, name="Jane Doe", dob="1980-05-06", postcode=None)["person_id"].tolist()
        [1, 2]
    """
    out = frame.copy()
    n = len(out)
    if n == 0:
        for col in ("name_score", "dob_score", "postcode_score", "score"):
            out[col] = pd.Series(dtype=float)
        return out
    full = (out["first_name"].fillna("") + " " + out["middle_names"].fillna("") + " " + out["last_name"].fillna(""))
    if name:
        short = out["first_name"].fillna("") + " " + out["last_name"].fillna("")
        a = process.cdist([name], full.tolist(), scorer=fuzz.token_set_ratio, processor=default_process)[0]
        b = process.cdist([name], short.tolist(), scorer=fuzz.token_sort_ratio, processor=default_process)[0]
        out["name_score"] = np.maximum(a, b).astype(float)
    else:
        out["name_score"] = 0.0
    dobs = out["date_of_birth"].fillna("").to_numpy(dtype=object)
    if dob:
        swapped = swapped_dob(dob)
        same_ym = np.array([d[:7] == dob[:7] for d in dobs]) if len(dob) >= 7 else np.zeros(n, bool)
        same_y = np.array([d[:4] == dob[:4] for d in dobs])
        out["dob_score"] = np.select([dobs == dob, dobs == (swapped or "\0"), same_ym, same_y], [100.0, 80.0, 50.0, 20.0], 0.0)
    else:
        out["dob_score"] = 0.0
    pc = normalise_postcode(postcode)
    if pc:
        have = out["postcode"].map(normalise_postcode).fillna("").to_numpy(dtype=object)
        sector, outward = pc[:-2], pc.split(" ")[0]
        out["postcode_score"] = np.select(
            [have == pc, np.array([h[:-2] == sector and h != "" for h in have]),
             np.array([h.split(" ")[0] == outward and h != "" for h in have])], [100.0, 70.0, 40.0], 0.0)
    else:
        out["postcode_score"] = 0.0
    used = {"name": bool(name), "dob": bool(dob), "postcode": bool(pc)}
    total = sum(w for k, w in WEIGHTS.items() if used[k]) or 1.0
    out["score"] = sum(out[f"{k}_score"] * w for k, w in WEIGHTS.items() if used[k]) / total
    return out.sort_values(["score", "person_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
