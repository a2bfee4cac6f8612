"""Sort-based set operations on integer arrays (numpy 2.4's hash-based ``np.unique`` is ~50x slower here)."""

from __future__ import annotations

import numpy as np


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values.

    Examples:
        >>> unique(np.array([3, 1, 3, 2])).tolist()
        [1, 2, 3]
    """
    s = np.sort(a)
    if len(s) == 0:
        return s
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def unique_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct values, the index of each input in them, and the first input position of each.

    Examples:
        >>> [x.tolist() for x in unique_inverse(np.array([3, 1, 3]))]
        [[1, 3], [1, 0, 1], [1, 0]]
    """
    order = np.argsort(a, kind="stable")
    s = a[order]
    if len(s) == 0:
        return s, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    flags = np.concatenate(([True], s[1:] != s[:-1]))
    ids = np.cumsum(flags) - 1
    inverse = np.empty(len(a), dtype=np.int64)
    inverse[order] = ids
    return s[flags], inverse, order[flags]


def counts_of(inverse: np.ndarray, n_unique: int) -> np.ndarray:
    """How often each distinct value occurs, from ``unique_inverse``'s inverse."""
    return np.bincount(inverse, minlength=n_unique)


def isin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.isin`` for integer arrays via binary search on the sorted distinct ``b``.

    Examples:
        >>> isin(np.array([1, 5, 7]), np.array([7, 1])).tolist()
        [True, False, True]
    """
    if len(b) == 0 or len(a) == 0:
        return np.zeros(len(a), dtype=bool)
    ub = unique(np.asarray(b))
    idx = np.searchsorted(ub, a)
    return ub[np.minimum(idx, len(ub) - 1)] == a
