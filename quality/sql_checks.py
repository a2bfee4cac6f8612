"""Row-level expectations of :mod:`quality.suites` as SQL conditions: the rows that break one, the rows it is
measured over.

The gates validate with Great Expectations only a selection of a hub's rows (those changed in the run plus every
row that breaks an expectation) and report counts over the whole hub. These conditions find the breaking rows and
the whole-hub denominators in the hub store straight from a suite's :class:`~quality.suites.Expect` rows, so the
suite stays the one place that names each invariant. Semantics follow Great Expectations over a pandas frame:
missing values pass value checks; ``when`` scopes a check to rows where a column equals a value; regular
expressions are searched (``re.search`` on SQLite, ``~`` on PostgreSQL) in the value as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, String, case, cast, func, or_

if TYPE_CHECKING:  # quality.suites imports quality.store, which uses this module
    from quality.suites import Expect

Columns = Mapping[str, ColumnElement]
NULL_KINDS = frozenset({"ExpectColumnValuesToBeNull", "ExpectColumnValuesToNotBeNull"})


def _scope(e: Expect, columns: Columns) -> ColumnElement[bool] | None:
    if "when" not in e.kwargs:
        return None
    column, value = e.kwargs["when"]
    return columns[column] == value


def breaks(e: Expect, columns: Columns) -> ColumnElement[bool] | None:
    """SQL that is true for a row breaking ``e``; None when ``e`` is not judged row by row in SQL: uniqueness
    (the gate's keys are primary keys) or a column missing from ``columns`` (computed outside SQL)."""
    if e.column not in columns or e.kind == "ExpectColumnValuesToBeUnique":
        return None
    if "mostly" in e.kwargs:
        raise ValueError(f"{e.kind} on {e.column} with mostly is a whole-hub share, not a row-level check")
    col, kw = columns[e.column], e.kwargs
    if e.kind == "ExpectColumnValuesToBeNull":
        bad = col.is_not(None)
    elif e.kind == "ExpectColumnValuesToNotBeNull":
        bad = col.is_(None)
    elif e.kind == "ExpectColumnValuesToBeInSet":
        bad = col.is_not(None) & col.not_in(list(kw["value_set"]))
    elif e.kind == "ExpectColumnValuesToBeBetween":
        outside = [c for c in (None if kw.get("min_value") is None else col < kw["min_value"],
                               None if kw.get("max_value") is None else col > kw["max_value"]) if c is not None]
        bad = col.is_not(None) & or_(*outside)
    elif e.kind == "ExpectColumnValuesToMatchRegex":
        bad = col.is_not(None) & ~cast(col, String).regexp_match(kw["regex"])
    else:
        raise ValueError(f"no SQL condition for {e.kind}")
    scope = _scope(e, columns)
    return bad if scope is None else scope & bad


def measured(e: Expect, columns: Columns) -> ColumnElement[int]:
    """SQL count of the rows Great Expectations divides ``e``'s unexpected count by: the rows in scope for a null
    check, the present values in scope otherwise. A column missing from ``columns`` counts as never null."""
    value = columns.get(e.column) if e.kind not in NULL_KINDS else None
    scope = _scope(e, columns)
    if scope is None:
        return func.count() if value is None else func.count(value)
    return func.count(case((scope, 1 if value is None else value)))


def unjudged(expectations: list[Expect], columns: Columns) -> list[Expect]:
    """The expectations :func:`breaks` leaves to the caller."""
    return [e for e in expectations if breaks(e, columns) is None]
