"""Cluster step: auto-band edges to people without chaining, honouring must-link and cannot-link constraints."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import logging

from matching.arrays import isin, unique, unique_inverse
from matching.blocking import _pairs_within_groups

# coherent(left, right) -> bool per pair: may these two records share a cluster (review-level or better,
# no hard-negative conflict)?
log = logging.getLogger(__name__)
Coherence = Callable[[np.ndarray, np.ndarray], np.ndarray]
MAX_CROSS_PAIRS = 2_500  # largest group-to-group check when rebuilding (e.g. 50 x 50 records)


def _keys(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    return lo.astype(np.int64) * n + hi


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


class _Constrained:
    """Pair lookups with constraints applied: must-link is always coherent, cannot-link never."""

    def __init__(self, n: int, coherent: Coherence, must: np.ndarray, cannot: np.ndarray) -> None:
        self.n, self.coherent, self.must, self.cannot = n, coherent, must, cannot

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        keys = _keys(left, right, self.n)
        ok = isin(keys, self.must)
        rest = ~ok
        if rest.any():  # a must-linked pair needs no comparison (an incremental run pins every kept membership)
            ok[rest] = self.coherent(left[rest], right[rest])
        return ok & ~isin(keys, self.cannot)


def cluster_records(
    n: int,
    edge_left: np.ndarray,
    edge_right: np.ndarray,
    edge_weight: np.ndarray,
    coherent: Coherence,
    *,
    must_link: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64)),
    cannot_link: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64)),
    max_check: int = 50,
    ambiguity_margin: float = 4.0,
) -> np.ndarray:
    """Cluster label (0..k-1) per record.

    1. Connected components over auto-band edges plus must-link pairs, cannot-link pairs removed.
    2. A component is kept when every pair inside it is coherent (complete-linkage check).
    3. Otherwise it is rebuilt greedily, strongest edge first (must-link first), merging two groups only
       when every cross pair is coherent: A~B and B~C never drag in A when A and C conflict.
       An edge is also skipped when either end has another edge, within ``ambiguity_margin`` bits, to a
       group that conflicts with the other side: "J Smith" at an address where John Smith and his son John
       Smith both live links to neither (it goes to review).

    Examples:
        >>> a_c_conflict = lambda l, r: np.minimum(l, r) + np.maximum(l, r) != 2  # records 0 and 2 conflict
        >>> cluster_records(3, np.array([0, 1]), np.array([1, 2]), np.array([10.0, 3.0]), a_c_conflict).tolist()
        [0, 0, 1]
    """
    must = _keys(*must_link, n) if len(must_link[0]) else np.zeros(0, np.int64)
    cannot = unique(_keys(*cannot_link, n)) if len(cannot_link[0]) else np.zeros(0, np.int64)
    check = _Constrained(n, coherent, unique(must), cannot)
    left = np.concatenate([edge_left, must_link[0]]).astype(np.int64)
    right = np.concatenate([edge_right, must_link[1]]).astype(np.int64)
    weight = np.concatenate([edge_weight, np.full(len(must_link[0]), np.inf)])
    keep = ~isin(_keys(left, right, n), cannot)
    left, right, weight = left[keep], right[keep], weight[keep]
    labels = _components(n, left, right)
    sizes = np.bincount(labels, minlength=labels.max() + 1 if n else 0)

    # complete-linkage check of every component with 3+ records (a 2-record component is its own edge)
    big = sizes[labels] >= 3
    small = big & (sizes[labels] <= max_check)
    bad = np.zeros(len(sizes), dtype=bool)
    bad[unique(labels[big & ~small])] = True
    idx = np.flatnonzero(small)
    known_keys, known_ok = np.zeros(0, np.int64), np.zeros(0, bool)
    if len(idx):
        pl, pr = _pairs_within_groups(labels[idx], idx)
        ok = check(pl, pr)
        bad[unique(labels[pl[~ok]])] = True
        # remember the verdicts inside incoherent components: the rebuild below looks them up
        in_bad_pair = bad[labels[pl]]
        keys = _keys(pl[in_bad_pair], pr[in_bad_pair], n)
        order_k = np.argsort(keys)
        known_keys, known_ok = keys[order_k], ok[in_bad_pair][order_k]
    if not bad.any():
        return _relabel(labels)
    log.info(
        "clustering: %d components, %d incoherent (%d records), largest %d, %d intra pairs checked",
        len(sizes), int(bad.sum()), int(bad[labels].sum()), int(sizes.max()), len(known_keys),
    )

    def lookup(l_: np.ndarray, r_: np.ndarray) -> np.ndarray:
        keys = _keys(l_, r_, n)
        pos = np.minimum(np.searchsorted(known_keys, keys), max(len(known_keys) - 1, 0))
        found = (known_keys[pos] == keys) if len(known_keys) else np.zeros(len(keys), bool)
        out = np.zeros(len(keys), dtype=bool)
        out[found] = known_ok[pos[found]]
        if (~found).any():
            out[~found] = check(l_[~found], r_[~found])
        return out

    # rebuild incoherent components greedily
    in_bad = bad[labels[left]]
    order = np.argsort(-weight[in_bad], kind="stable")
    el, er = left[in_bad][order], right[in_bad][order]
    parent = np.arange(n)
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return int(x)

    adjacency: dict[int, list[tuple[int, float]]] = {}
    for a, b, w in zip(el.tolist(), er.tolist(), weight[in_bad][order].tolist()):
        adjacency.setdefault(a, []).append((b, w))
        adjacency.setdefault(b, []).append((a, w))

    def coherent_groups(ga: list[int], gb: list[int]) -> bool:
        if len(ga) * len(gb) > MAX_CROSS_PAIRS:  # no real person has that many records: refuse, stay bounded
            return False
        return bool(lookup(np.repeat(np.asarray(ga), len(gb)), np.tile(np.asarray(gb), len(ga))).all())

    def ambiguous(x: int, w: float, own: int, other: int) -> bool:
        if w == np.inf:
            return False
        for c, wc in adjacency.get(x, ()):
            rc = find(c)
            if rc in (own, other) or wc < w - ambiguity_margin:
                continue
            if not coherent_groups(members.get(rc, [rc]), members.get(other, [other])):
                return True
        return False

    for a, b, w in zip(el.tolist(), er.tolist(), weight[in_bad][order].tolist()):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        if not coherent_groups(ma, mb) or ambiguous(a, w, ra, rb) or ambiguous(b, w, rb, ra):
            continue
        parent[rb] = ra
        members[ra] = ma + mb
        members.pop(rb, None)
    roots = np.array([find(i) for i in np.flatnonzero(bad[labels])], dtype=np.int64)
    final = labels.astype(np.int64).copy()
    final[bad[labels]] = len(sizes) + roots
    return _relabel(final)


def _relabel(labels: np.ndarray) -> np.ndarray:
    return unique_inverse(labels)[1]
