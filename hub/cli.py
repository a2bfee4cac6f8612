"""The ``mdh`` command line: set-up, runs, the demo, exports and the analysts' tools."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hub import cli_serve
from hub.cli_dq import dq_app
from schemas.config import DEFAULT_CONFIG_FILE, ConfigError, HubConfig, load_config

app = typer.Typer(help="Council Master Data Hub: people and property master data for UK councils.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
export_app = typer.Typer(help="Export data from the hub.", no_args_is_help=True)
gazetteer_app = typer.Typer(help="Load and inspect the corporate address gazetteer.", no_args_is_help=True)
match_app = typer.Typer(help="Match files of addresses or people (analysts and benchmarks).", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(gazetteer_app, name="gazetteer")
app.add_typer(match_app, name="match")
app.add_typer(dq_app, name="dq")
app.command("serve")(cli_serve.serve)
app.command("queue")(cli_serve.queue)
app.add_typer(cli_serve.token_app, name="token")

console = Console(stderr=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The hub's configuration file.")]


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)  # one line, never wrapped
    raise typer.Exit(code)


def _load(config: Path):
    try:
        return load_config(config)
    except ConfigError as err:
        _fail(str(err))


@app.command()
def init(config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Create the hub store for a configuration (and migrate it to the current schema)."""
    from hub.store import open_hub, table_names

    cfg = _load(config)
    try:
        engine = open_hub(cfg.hub)
    except Exception as err:  # noqa: BLE001 - a user-facing, one-line failure
        _fail(f"cannot open hub store: {err.__class__.__name__}: {str(err).splitlines()[0]}")
    console.print(f"hub store ready: {len(table_names(engine))} tables at {engine.url.render_as_string(hide_password=True)}")


def run_pipeline(config_path: Path, *, full: bool = False) -> int:
    """Run every stage in-process through Dagster; returns the hub's run id. Raises UserError on failure."""
    from hub.run_lock import HubBusyError, close_interrupted_runs, exclusive_run

    cfg = load_config(config_path)
    hub = _open_hub_or_fail(cfg.hub)  # a hub that is down fails here, in one line, before any stage starts
    try:
        with exclusive_run(hub):  # a second run on this hub fails at once; killed runs' rows are closed
            close_interrupted_runs(hub)
            return _execute_nightly_job(cfg, config_path, full=full)
    except HubBusyError as err:
        raise UserError(str(err)) from None
    finally:
        hub.dispose()


def _execute_nightly_job(cfg: HubConfig, config_path: Path, *, full: bool) -> int:
    from dagster import DagsterInstance

    from hub.summary import finish_run
    from pipelines.definitions import build_definitions
    from pipelines.progress import console_logger_config, progress_loggers
    from pipelines.resources import HubResource

    defs = build_definitions(cfg, config_path.resolve(), full_rebuild=full)
    job = defs.resolve_job_def("nightly_sync").with_logger_defs(progress_loggers())
    instance = DagsterInstance.get() if _has_dagster_home() else DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=console_logger_config())
    failed = [e for e in result.all_events if e.is_step_failure]
    step = failed[0].step_key if failed else "?"
    # The hub may have gone away mid-run: say so in one line rather than fail again while recording the failure.
    engine = _open_hub_or_fail(cfg.hub, during=None if result.success else f"run failed at step {step}")
    hub_run_id = HubResource(config_path=str(config_path)).run_id(result.run_id)
    if not result.success:
        reason = _root_cause(failed[0].step_failure_data.error) if failed else "run failed"
        finish_run(engine, hub_run_id, status="failed", error=f"{step}: {reason}")
        from quality import write_run_report

        write_run_report(engine, cfg)  # again, now that the run log says how it ended
        raise UserError(f"run failed at step {step}: {reason}")
    return hub_run_id


def _open_hub_or_fail(url: str, *, during: str | None = None):  # noqa: ANN202 - sqlalchemy Engine, imported lazily
    """The migrated hub engine, or a UserError naming the hub (password hidden) and the driver's one-line reason."""
    from hub.store import HubStoreError, open_hub

    try:
        return open_hub(url)
    except HubStoreError as err:
        raise UserError(f"{during}: {err}" if during else str(err)) from None


def _root_cause(error) -> str:  # noqa: ANN001 - dagster's SerializableErrorInfo
    """The innermost error's one-line message: what went wrong, not where Dagster caught it."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    message = error.message or ""
    head = message.split("[SQL:")[0].strip()
    if "[SQL:" in message and head:  # SQLAlchemy: the error is the first line; details, SQL and a docs link follow
        message = head.splitlines()[0]
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else error.cls_name or "unknown error"


def _has_dagster_home() -> bool:
    import os

    return bool(os.environ.get("DAGSTER_HOME")) and Path(os.environ["DAGSTER_HOME"]).is_dir()


def print_figures(config_path: Path, run_id: int | None = None, *, title: str = "Hub summary") -> None:
    from hub.store import open_hub
    from hub.summary import hub_figures

    cfg = load_config(config_path)
    figs = hub_figures(open_hub(cfg.hub), run_id=run_id)
    table = Table(title=title)
    for col in ("source", "kind", "records", "extracted", "loaded", "quarantined", "UPRN match", "status"):
        table.add_column(col, justify="right" if col not in ("source", "kind", "status") else "left")
    for s in figs.sources:
        table.add_row(s.source, s.kind, f"{s.records:,}", f"{s.extracted:,}", f"{s.loaded:,}", f"{s.quarantined:,}",
                      f"{s.uprn_match_rate:.1%}", s.last_status)
    console.print(table)
    console.print(f"UPRN match rate (all records): [bold]{figs.uprn_match_rate:.1%}[/]   "
                  f"gazetteer properties: {figs.properties:,}")
    console.print(f"golden persons: [bold]{figs.golden_persons:,}[/]   merged IDs: {figs.merged_ids:,}   "
                  f"review queue: [bold]{figs.review_queue:,}[/]   address queue: {figs.address_queue:,}")
    by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(figs.events_by_type.items())) or "none"
    console.print(f"change events: [bold]{figs.events:,}[/] ({by_type})")
    console.print(f"deliveries: delivered {figs.deliveries_delivered:,}, pending {figs.deliveries_pending:,} "
                  f"(systems without a push target read GET /api/v1/changes), failed {figs.deliveries_failed:,}")


@app.command()
def run(config: ConfigOption = Path(DEFAULT_CONFIG_FILE),
        full: Annotated[bool, typer.Option("--full", help="Re-extract and re-match everything.")] = False) -> None:
    """Run the whole pipeline once (extract → addresses → people → golden records → publish → quality)."""
    _load(config)
    try:
        run_id = run_pipeline(config, full=full)
    except UserError as err:
        _fail(str(err), code=1)
    print_figures(config, run_id, title=f"Run {run_id}")


@app.command()
def status(config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Show the hub's figures: records per source, UPRN match rate, golden persons, queue, events."""
    _load(config)
    print_figures(config)


@app.command()
def synth(people: Annotated[int, typer.Option(help="Number of residents.")] = 2000,
          days: Annotated[int, typer.Option(help="Days of life events to prepare.")] = 0,
          out: Annotated[Path, typer.Option(help="Output folder.")] = Path("demo"),
          seed: Annotated[int, typer.Option(help="Random seed (same seed, same council).")] = 42,
          url: Annotated[Optional[str], typer.Option(help="Write sources into this PostgreSQL/MariaDB URL.")] = None,
          event_rate: Annotated[float, typer.Option(help="Life events at this many times a real council's yearly rates (1 = realistic), so a few days of a small council show some.")] = 1.0) -> None:
    """Generate a synthetic council: gazetteer, departmental sources, hub.yaml and ground truth."""
    from hub.demo import generate_council

    try:
        manifest = generate_council(out, people=people, days=days, seed=seed, url=url, event_rate=event_rate,
                                    console=console)
    except ValueError as err:
        _fail(str(err))
    console.print(f"synthetic council written to {out} ({manifest})")


@app.command()
def demo(people: Annotated[int, typer.Option(help="Number of residents.")] = 2000,
         days: Annotated[int, typer.Option(help="Incremental days to run after day 0.")] = 0,
         out: Annotated[Path, typer.Option(help="Folder for the demo council and hub.")] = Path("demo"),
         seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
         event_rate: Annotated[float, typer.Option(help="Life events at this many times a real council's yearly rates (1 = realistic), so a few days of a small council show some.")] = 1.0) -> None:
    """Synthetic council → full pipeline → summary; then DAYS incremental nightly runs."""
    from hub.demo import run_demo
    from synthetic import SynthError

    try:
        run_demo(out, people=people, days=days, seed=seed, console=console, run=run_pipeline, show=print_figures,
                 event_rate=event_rate)
    except (UserError, ConfigError, SynthError) as err:
        _fail(str(err), code=1)


@export_app.command("xref")
def export_xref(out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
                config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Write the cross-reference: source,source_key,person_id,uprn for every live source record."""
    from hub.exports import write_xref

    cfg = _load(config)
    n = write_xref(cfg.hub, out)
    console.print(f"{n:,} cross-references written to {out}")


@gazetteer_app.command("load")
def gazetteer_load(path: Annotated[Path, typer.Argument(help="AddressBase Premium / DTF 7.3 / AddressBase Plus / uprn,address,postcode CSV, or a zip or folder of CSV chunks.")],
                   config: ConfigOption = Path(DEFAULT_CONFIG_FILE),
                   rejects: Annotated[Optional[Path], typer.Option(help="Write rejected rows (line, reason) here.")] = None) -> None:
    """Load a gazetteer file into the hub (idempotent; CHANGE_TYPE D deletions applied)."""
    from gazetteer import read_gazetteer
    from hub.gazetteer_store import store_gazetteer
    from hub.store import open_hub

    cfg = _load(config)
    if not path.exists():
        _fail(f"{path}: no such file or folder")
    with console.status(f"reading {path.name}…"):
        gaz = read_gazetteer(path)
    with console.status("writing to the hub…") as st:
        summary = store_gazetteer(open_hub(cfg.hub), gaz, progress=lambda step: st.update(f"writing {step}…"))
    console.print(f"format {summary.fmt}: {summary.rows_read:,} rows read; {summary.streets:,} streets, "
                  f"{summary.properties:,} properties, {summary.lpis:,} addresses loaded; {summary.rejected:,} rejected; "
                  f"{summary.deleted:,} deleted")
    if len(gaz.rejects):
        for row in gaz.rejects.head(10).itertuples(index=False):
            where = f"{row.file} line {row.line}" if "file" in gaz.rejects else f"line {row.line}"
            err_console.print(f"  {where}: {row.reason}", highlight=False)
        if rejects:
            gaz.rejects.to_csv(rejects, index=False)


@match_app.command("addresses")
def match_addresses(input_csv: Annotated[Path, typer.Argument(help="CSV of addresses to match.")],
                    out: Annotated[Path, typer.Option("--out", help="CSV to write: id,uprn,score,band,reason.")],
                    id_col: Annotated[str, typer.Option("--id-col")] = "id",
                    address_col: Annotated[str, typer.Option("--address-col")] = "address",
                    postcode_col: Annotated[Optional[str], typer.Option("--postcode-col")] = None,
                    config: ConfigOption = Path(DEFAULT_CONFIG_FILE)) -> None:
    """Match every address in a CSV to a UPRN in the configured gazetteer."""
    from gazetteer.cli import match_addresses_file

    cfg = _load(config)
    if not input_csv.is_file():
        _fail(f"{input_csv}: no such file")
    try:
        match_addresses_file(input_csv, out, cfg.gazetteer.path, id_col, address_col, postcode_col,
                             cfg.thresholds.auto_merge, cfg.thresholds.review)
    except (KeyError, ValueError) as err:
        _fail(str(err))
    console.print(f"matches written to {out}")


@match_app.command("people")
def match_people(input_csv: Annotated[Path, typer.Argument(help="CSV of person records.")],
                 out: Annotated[Path, typer.Option("--out", help="CSV to write: unique_id,cluster_id.")],
                 column_map: Annotated[str, typer.Option("--map", help="canonical=column pairs, comma-separated.")] = "",
                 link: Annotated[Optional[Path], typer.Option("--link", help="A second CSV to link against.")] = None,
                 pairs: Annotated[Optional[Path], typer.Option("--pairs", help="Also write scored pairs here.")] = None,
                 settings_file: Annotated[Optional[Path], typer.Option(
                     "--settings", help="YAML or JSON of match settings (blocking_rules, hard_negatives, ...: see "
                                        "matching.settings.MatchSettings); --auto and --review override it.")] = None,
                 auto: Annotated[Optional[float], typer.Option(help="Auto-merge threshold [default: 0.99].")] = None,
                 review: Annotated[Optional[float], typer.Option(help="Review threshold [default: 0.8].")] = None) -> None:
    """Deduplicate (or link) people in CSV files and write clusters (and scored pairs with bands)."""
    from matching import MatchingError, MatchSettings, match_people_file, parse_column_map

    try:
        mapping = parse_column_map(column_map)
        chosen = _settings_from_file(settings_file) if settings_file else {}
        chosen.update({k: v for k, v in (("auto_threshold", auto), ("review_threshold", review)) if v is not None})
        match_people_file(input_csv, link_csv=link, column_map=mapping, out_csv=out, pairs_csv=pairs,
                          settings=MatchSettings.from_dict(chosen))
    except (KeyError, ValueError, MatchingError) as err:
        _fail(str(err))
    console.print(f"clusters written to {out}")


def _settings_from_file(path: Path) -> dict:
    """Match settings from a YAML or JSON mapping (JSON is YAML); a missing or malformed file names itself."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"match settings {path}: cannot read ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise ValueError(f"match settings {path}: not YAML or JSON ({err.__class__.__name__})") from err
    if not isinstance(data, dict):
        raise ValueError(f"match settings {path}: expected a mapping of setting: value")
    return data


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Libraries that lower their own loggers' levels (Great Expectations announces every ephemeral
    # context at INFO) must not drown the progress lines: the console shows warnings and up.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    try:
        app()
    except ConfigError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        sys.exit(2)
    except Exception as err:
        from hub.store import HubStoreError

        if not isinstance(err, HubStoreError):
            raise
        # Any command (status, export, token, queue…) with the hub down: one line naming it, not a traceback.
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
