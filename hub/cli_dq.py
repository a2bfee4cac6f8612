"""The ``mdh dq`` commands: the analysts' data-quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from schemas.config import DEFAULT_CONFIG_FILE, ConfigError, load_config

dq_app = typer.Typer(help="Data quality: metric history, Great Expectations results and the analysts' report.",
                     no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


@dq_app.callback()
def dq() -> None:
    """Data quality: metric history, Great Expectations results and the analysts' report."""


@dq_app.command("report")
def report(out: Annotated[Path, typer.Option("--out", help="Folder to write the report (index.html) into.")],
           config: Annotated[Path, typer.Option("--config", "-c", help="The hub's configuration file.")] = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Write the data-quality report: trends across runs, scorecard per source, worst fields, quarantine reasons."""
    from hub.store import open_hub
    from quality.report import render_report

    try:
        cfg = load_config(config)
    except ConfigError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(2) from None
    try:
        summary = render_report(open_hub(cfg.hub), cfg, out)
    except OSError as err:
        err_console.print(f"[bold red]error:[/] cannot write the report to {out}: {err.strerror}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"data-quality report written to {summary.path} ({summary.sources} sources, {summary.runs} runs, "
                  f"{summary.charts} charts)")
