"""Large reads from the hub store straight into pandas, through the driver's own cursor.

For a few big reads (every live person record, each night) SQLAlchemy's result handling costs more than the
query: a Row object and a type processor call for every value. :func:`read_frame` compiles the same Core
``select`` for the session's database, executes it with its bound parameters on the DBAPI cursor of the session's
own connection (so it sees the session's transaction), and builds the frame from the plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Select
from sqlalchemy.orm import Session


def read_frame(session: Session, stmt: Select, *, datetime_columns: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame with its column labels.

    Values arrive as the driver returns them: ``datetime_columns`` are parsed here (SQLite returns them as text,
    PostgreSQL as datetimes); integers, floats and text need nothing.
    """
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    params = tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    frame = pd.DataFrame.from_records(rows, columns=[c.key for c in stmt.selected_columns])
    for column in datetime_columns:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return frame
