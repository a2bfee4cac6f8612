"""Opening the hub store: engine creation and Alembic migrations to the current schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "migrations"


class HubStoreError(Exception):
    """The hub database cannot be reached or migrated."""


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI hook signature
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while a nightly run writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the hub URL (SQLite file by default, PostgreSQL in production)."""
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the hub schema to the newest Alembic revision (idempotent)."""
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as err:  # noqa: BLE001 - wrapped with the database named, password hidden
        raise HubStoreError(f"cannot open hub store {engine.url!r}: {one_line(err)}") from err


def one_line(err: BaseException) -> str:
    """An exception as one line: its class and the first line of its message (drivers add hints and URLs below)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{err.__class__.__name__}: {lines[0]}" if lines else err.__class__.__name__


def open_hub(url: str) -> Engine:
    """Connect to the hub store and migrate it to the current schema."""
    engine = make_engine(url)
    migrate(engine)
    return engine


def table_names(engine: Engine) -> list[str]:
    """Tables present in the hub store (used by `mdh status` and tests)."""
    return sorted(inspect(engine).get_table_names())


STALE_FRACTION = 0.1  # as PostgreSQL's autovacuum: re-analyse a table once a tenth of it has changed
DEAD_FRACTION = 0.2  # ... and vacuum it once dead row versions are a fifth of its live rows
STALE_MIN_ROWS = 50


def refresh_statistics(engine: Engine) -> list[str]:
    """PostgreSQL: tidy every hub table a bulk write has left behind, as autovacuum would, and return their names;
    other back ends: nothing (SQLite plans without statistics, InnoDB recalculates its own).

    A table changed by more than ``STALE_FRACTION`` since it was last analysed is analysed; one whose dead row
    versions (left by updates and deletes) exceed ``DEAD_FRACTION`` of its live rows is vacuumed and analysed.
    Called after each stage that writes in bulk. Autovacuum runs on its own schedule (or not at all where it is
    off), so queries planned right after a bulk load see empty statistics: on a 250k-person hub the property
    checks' shared-account query took 97 s that way, and a fraction of a second once analysed. A full build
    rewrites every source record two or three times (address match, link): left unvacuumed, every nightly run
    scans 1.5M row versions for 0.56M rows.
    """
    if engine.dialect.name != "postgresql":
        return []
    from schemas.base import Base

    ours = set(Base.metadata.tables)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT relname, n_dead_tup > :rows + :dead * n_live_tup FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND (n_mod_since_analyze > :rows + :fraction * n_live_tup "
            "OR n_dead_tup > :rows + :dead * n_live_tup) ORDER BY relname"),
            {"rows": STALE_MIN_ROWS, "fraction": STALE_FRACTION, "dead": DEAD_FRACTION}).all()
    stale = [(name, bloated) for name, bloated in rows if name in ours]
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name, bloated in stale:  # a table name cannot be a bound parameter: only our own tables, quoted
            conn.execute(text(f"VACUUM (ANALYZE) {quote(name)}" if bloated else f"ANALYZE {quote(name)}"))
    return [name for name, _ in stale]
