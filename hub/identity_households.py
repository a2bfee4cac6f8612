"""Households move together: the household a new record arrives with singles out which namesake it is.

A name that two or more persons in the hub hold is no evidence of a move on its own
(:func:`hub.identity_moves.unclosed_evidence_pairs`). But people seldom move alone. "WATT, LINDA" is newly at
12 Elm Road, where Thomas Watt has just moved from 3 Ash Lane. She is most likely the Linda Watt of 3 Ash Lane, not
one of the two others of that name. Partners need not share a surname: Joan Smith arriving where John Alexander just
moved is the Joan Smith who lived with him.

A **companion** of a new record is a record at the same UPRN of another person who either:

- moved there recently: their golden person's residence somewhere else ended within the move window; the places
  they came from are those residences and the other addresses their own records state; or
- arrived there recently as well (a new person): the places they came from are the addresses of the holders of
  their own name.

A **holder** of the new record's name is corroborated when one of the addresses in its records is a place a
companion came from (by way of another person than the holder). When exactly one of a few holders is corroborated,
the question is put about that one. A companion who arrived with them is asked about its own corroborated holder
too. This is never an auto link: a steward answers every question.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas import GoldenPerson, Residence, Xref

ID_CHUNK = 500
MAX_HOUSEHOLD = 8  # more persons than this at one address (a hall of residence, a care home) are no household


def companions(askers: pd.DataFrame, neighbours: pd.DataFrame, *, max_household: int = MAX_HOUSEHOLD) -> pd.DataFrame:
    """``unique_id_new, uprn, unique_id_comp, cluster_comp``: for each asker, the neighbours at its UPRN that belong
    to another cluster. Both frames hold ``unique_id, uprn, cluster``. An address where more than ``max_household``
    other persons live (a hall of residence, a care home) is no household: its records have no companions.

    Examples:
        >>> ask = pd.DataFrame({"unique_id": ["9"], "uprn": [12], "cluster": ["n1"]})
        >>> near = pd.DataFrame({"unique_id": ["4", "5", "9"], "uprn": [12, 13, 12], "cluster": ["p4", "p5", "n1"]})
        >>> companions(ask, near).values.tolist()
        [['9', 12, '4', 'p4']]
        >>> companions(ask, near, max_household=0).empty
        True
    """
    found = askers[["unique_id", "uprn", "cluster"]].merge(neighbours[["unique_id", "uprn", "cluster"]], on="uprn",
                                                           suffixes=("_new", "_comp"))
    found = found[found["cluster_new"] != found["cluster_comp"]]
    found = found[found.groupby("unique_id_new")["cluster_comp"].transform("nunique") <= max_household]
    return found[["unique_id_new", "uprn", "unique_id_comp", "cluster_comp"]].reset_index(drop=True)


def recent_residences(session: Session, record_ids: list[int], since: dt.datetime) -> pd.DataFrame:
    """``unique_id, uprn``: for each of ``record_ids`` whose golden person now lives where the record says (moved
    *to* it), the UPRNs where that person's residence ended on or after ``since``: where they lived until the move.
    A previous occupant who has moved away, and whose old record still states the address, is not one."""
    since = since.replace(tzinfo=None) if since.tzinfo else since
    rows = []
    for start in range(0, len(record_ids), ID_CHUNK):
        rows.extend(session.execute(
            select(Xref.source_record_id, Residence.uprn)
            .join(GoldenPerson, GoldenPerson.person_id == Xref.person_id)
            .join(Residence, Residence.person_id == Xref.person_id)
            .where(Xref.source_record_id.in_(record_ids[start : start + ID_CHUNK]), GoldenPerson.uprn == Xref.uprn,
                   Residence.to_date.is_not(None), Residence.to_date >= since)).all())
    return pd.DataFrame({"unique_id": pd.Series([str(r[0]) for r in rows], dtype=object),
                         "uprn": pd.Series([int(r[1]) for r in rows], dtype="int64")})


def origins(pairs: pd.DataFrame, moved_from: pd.DataFrame, cand: pd.DataFrame, homes: pd.DataFrame,
            held_twice: pd.DataFrame | None = None) -> pd.DataFrame:
    """``unique_id_new, uprn, via``: the places each new record's companions came from, with the cluster whose
    address it is (a holder never corroborates itself). The new record's own UPRN is no such place.

    Args:
        pairs: :func:`companions`.
        moved_from: ``unique_id, uprn``: companions' residences that ended recently (:func:`recent_residences`).
        cand: name candidates ``unique_id_new, cluster_old`` of every new record, companions that arrived with
            it among them.
        homes: ``cluster_old, uprn``: the UPRNs in the records of each candidate's, each companion's and each
            ``held_twice`` cluster.
        held_twice: ``unique_id_new, cluster_old``: other holders of a recently moved companion's name (the hub
            may hold the companion as two persons, and the other's address is where the household lived).
    """
    moved = pairs.merge(moved_from.rename(columns={"unique_id": "unique_id_comp", "uprn": "came"}), on="unique_id_comp")
    stated = pairs[pairs["unique_id_comp"].isin(set(moved_from["unique_id"]))].merge(
        homes.rename(columns={"cluster_old": "cluster_comp", "uprn": "came"}), on="cluster_comp")
    theirs = cand[["unique_id_new", "cluster_old"]]
    if held_twice is not None and len(held_twice):
        theirs = pd.concat([theirs, held_twice[["unique_id_new", "cluster_old"]]], ignore_index=True)
    theirs = theirs.rename(columns={"unique_id_new": "unique_id_comp"}).drop_duplicates()
    arrived = pairs.merge(theirs, on="unique_id_comp").merge(homes.rename(columns={"uprn": "came"}), on="cluster_old")
    found = pd.concat([moved.rename(columns={"cluster_comp": "via"}), stated.rename(columns={"cluster_comp": "via"}),
                       arrived.rename(columns={"cluster_old": "via"})], ignore_index=True)
    found = found[found["came"] != found["uprn"]]
    return found[["unique_id_new", "came", "via"]].rename(columns={"came": "uprn"}).drop_duplicates()


def singled_out_by_household(cand: pd.DataFrame, came_from: pd.DataFrame, homes: pd.DataFrame, arrivals: set[str],
                             *, max_namesakes: int) -> pd.DataFrame:
    """``cand`` (``unique_id_new, cluster_old``, ...) with each new record's holders narrowed by its household.

    For a new record of at most ``max_namesakes`` holders, exactly one of them corroborated (one of its addresses
    in ``came_from`` by way of another cluster): only that holder stays. Other new records keep their candidates
    as they are. A record in ``arrivals`` (a companion that arrived earlier and had its own day) keeps only a
    holder singled out in this way.

    Examples:
        >>> cand = pd.DataFrame({"unique_id_new": ["9", "9", "9"], "cluster_old": ["a", "b", "c"]})
        >>> homes = pd.DataFrame({"cluster_old": ["a", "b", "c"], "uprn": [1, 2, 3]})
        >>> came = pd.DataFrame({"unique_id_new": ["9"], "uprn": [2], "via": ["t"]})
        >>> singled_out_by_household(cand, came, homes, set(), max_namesakes=5)["cluster_old"].tolist()
        ['b']
        >>> singled_out_by_household(cand, came, homes, set(), max_namesakes=2)["cluster_old"].tolist()
        ['a', 'b', 'c']
    """
    if cand.empty:
        return cand
    hits = cand[["unique_id_new", "cluster_old"]].drop_duplicates().merge(homes, on="cluster_old")
    hits = hits.merge(came_from, on=["unique_id_new", "uprn"])
    hits = hits[hits["via"] != hits["cluster_old"]]
    corroborated = set(zip(hits["unique_id_new"], hits["cluster_old"]))
    mark = pd.Series([k in corroborated for k in zip(cand["unique_id_new"], cand["cluster_old"])], index=cand.index,
                     dtype=bool)
    persons = cand.groupby("unique_id_new")["cluster_old"].transform("nunique")
    backed = cand["cluster_old"].where(mark).groupby(cand["unique_id_new"]).transform("nunique")
    singled = (backed == 1) & (persons <= max_namesakes)
    arrival = cand["unique_id_new"].isin(arrivals)
    keep = (~arrival & (~singled | mark)) | (arrival & singled & mark)
    return cand[keep]
