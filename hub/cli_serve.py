"""``mdh serve``, ``mdh token create|revoke|list`` and ``mdh queue``: the API server, its tokens and the review queue."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from schemas.config import DEFAULT_CONFIG_FILE, ConfigError, HubConfig, load_config

token_app = typer.Typer(help="Manage API tokens (stored hashed; the secret is shown once).", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The hub's configuration file.")]


def _config(path: Path) -> HubConfig:
    try:
        return load_config(path)
    except ConfigError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(2) from None


def _engine(cfg: HubConfig):
    from hub.store import open_hub

    engine = open_hub(cfg.hub)
    return engine


def serve(config: ConfigOption = Path(DEFAULT_CONFIG_FILE),
          port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
          host: Annotated[str, typer.Option(help="Address to bind (loopback by default; put TLS in front).")] = "127.0.0.1",
          workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
          audit: Annotated[str, typer.Option(help="How each read's audit row reaches the hub. auto: spool on a SQLite "
                                                  "hub, sync elsewhere; spool: durable at once in a local spool file, "
                                                  "moved into the hub without waiting for its write lock; sync: "
                                                  "committed to the hub before responding; batched: a background "
                                                  "writer commits every 50 ms (a crash loses that window).")] = "auto",
          audit_spool: Annotated[Optional[Path], typer.Option(help="Spool file of the spool mode (default: beside a "
                                                                   "SQLite hub; required for spool on PostgreSQL).")] = None) -> None:
    """Serve the golden-record API (/docs) and the stewards' web app (/app) with uvicorn.

    The access log is off: request paths and query strings carry personal data. The app logs method,
    route template, status and time instead.
    """
    import uvicorn

    from api import create_app
    from api.audit_spool import AuditSpoolError

    cfg = _config(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = _engine(cfg)
    options = dict(host=host, port=port, access_log=False, log_level="info", server_header=False, proxy_headers=False)
    if workers > 1:
        # Worker processes build their own app; signed cookies need one shared key across them.
        import os
        import secrets

        os.environ["MDH_CONFIG"] = str(config.resolve())
        os.environ["MDH_AUDIT"] = audit
        if audit_spool is not None:
            os.environ["MDH_AUDIT_SPOOL"] = str(audit_spool.resolve())
        os.environ.setdefault("MDH_SECRET_KEY", secrets.token_urlsafe(32))
        console.print(f"serving on http://{host}:{port} (API docs /docs, stewards' app /app)")
        uvicorn.run("api.app:app_from_env", factory=True, workers=workers, **options)
    else:
        try:
            app = create_app(cfg, engine=engine, audit=audit, audit_spool=audit_spool, freeze_gc=True)
        except (ValueError, AuditSpoolError) as err:  # a bad mode, or a spool file that cannot be written
            err_console.print(f"[bold red]error:[/] {err}", highlight=False)
            raise typer.Exit(2) from None
        console.print(f"serving on http://{host}:{port} (API docs /docs, stewards' app /app)")
        uvicorn.run(app, **options)


@token_app.command("create")
def token_create(name: Annotated[str, typer.Argument(help="Who holds it: a person or a system.")],
                 role: Annotated[str, typer.Option(help="reader | steward | admin")] = "reader",
                 config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Create a token and print its secret once."""
    from sqlalchemy.orm import Session

    from hub.access import AccessError, create_token

    engine = _engine(_config(config))
    try:
        with Session(engine) as session, session.begin():
            token, secret = create_token(session, name, role, created_by="mdh token create")
            token_id = token.id
    except AccessError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"token {token_id} for {name!r} ({role}); keep this secret, it is not shown again:")
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")],
                 config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Revoke a token (it stops working within a few seconds)."""
    from sqlalchemy.orm import Session

    from hub.access import AccessError, revoke_token

    engine = _engine(_config(config))
    try:
        with Session(engine) as session, session.begin():
            revoke_token(session, name)
    except AccessError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"revoked {name!r}")


@token_app.command("list")
def token_list(config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """List tokens (names, roles, prefixes and state; never secrets)."""
    from sqlalchemy.orm import Session

    from hub.access import list_tokens

    engine = _engine(_config(config))
    table = Table(title="API tokens")
    for col in ("id", "name", "role", "prefix", "created", "revoked"):
        table.add_column(col)
    with Session(engine) as session:
        for t in list_tokens(session):
            table.add_row(str(t.id), t.name, t.role, t.prefix, f"{t.created_at:%Y-%m-%d %H:%M}",
                          f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "")
    console.print(table)


def queue(config: ConfigOption = Path(DEFAULT_CONFIG_FILE),
          source: Annotated[Optional[str], typer.Option(help="Only tasks with a record from this source.")] = None,
          min_score: Annotated[Optional[float], typer.Option(help="Lowest match probability.")] = None,
          sort: Annotated[str, typer.Option(help="score | age | source | id")] = "score",
          limit: Annotated[int, typer.Option(help="How many tasks to list.")] = 50,
          addresses: Annotated[bool, typer.Option("--addresses", help="List the address custodian's tasks instead.")] = False) -> None:
    """List open review tasks: person pairs (highest score first), or with --addresses the address custodian's."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from api.webviews import QueueFilter
    from api.webviews import queue as open_tasks
    from schemas import ReviewTask

    engine = _engine(_config(config))
    if addresses:
        from hub.property_queue import open_address_tasks

        with Session(engine) as session:
            tasks = open_address_tasks(session, limit=limit)
        table = Table(title=f"Open address tasks (first {limit})")
        for col in ("task", "source", "key", "problem", "candidates"):
            table.add_column(col)
        for t in tasks:
            table.add_row(str(t["task_id"]), str(t.get("source")), str(t.get("source_key")), str(t.get("problem")),
                          str(len(t.get("candidates") or [])))
        console.print(table)
        return
    with Session(engine) as session:
        rows, total = open_tasks(session, QueueFilter(sort=sort, source=source, min_score=min_score))
        addresses = session.scalar(select(func.count()).select_from(ReviewTask)
                                   .where(ReviewTask.status == "open", ReviewTask.kind == "address"))
    table = Table(title=f"Open person-pair review tasks: {total} (address tasks: {addresses})")
    for col in ("task", "score", "weight", "sources", "records", "age (days)"):
        table.add_column(col, justify="right" if col in ("task", "score", "weight", "age (days)") else "left")
    for r in rows[:limit]:
        table.add_row(str(r["id"]), f"{r['score'] or 0:.3f}", f"{r['match_weight']:.1f}",
                      f"{r['source_l']} / {r['source_r']}", f"{r['record_l']} / {r['record_r']}", str(r["age_days"]))
    console.print(table)
