"""A Dagster logger that shows `mdh run` progress as short console lines (steps and the assets' progress notes)."""

from __future__ import annotations

import logging
import time

from dagster import InitLoggerContext, LoggerDefinition, logger
from rich.console import Console

LOGGER_NAME = "mdh_console"


class _ProgressHandler(logging.Handler):
    """Prints step starts, finishes and failures, and asset log lines, with elapsed time."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.DEBUG)  # Dagster logs step events at DEBUG
        self.console = console
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        elapsed = f"[dim]{time.monotonic() - self.started:6.1f}s[/]"
        if event is not None:
            kind = event.event_type_value
            if kind == "STEP_START":
                self.console.print(f"{elapsed} ▶ {step}")
            elif kind == "STEP_SUCCESS":
                self.console.print(f"{elapsed} [green]✔[/] {step}")
            elif kind == "STEP_FAILURE":
                self.console.print(f"{elapsed} [red]✘ {step}[/]")
            elif kind == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                ok = getattr(data, "passed", True)
                if not ok:
                    self.console.print(f"{elapsed} [yellow]! check {data.check_name} failed[/] on {step}")
            return
        if record.levelno >= logging.INFO and step:
            message = meta.get("orig_message") or record.getMessage()
            self.console.print(f"{elapsed}   [dim]{message}[/]", highlight=False)


@logger(description="Concise progress lines for the mdh command line.")
def mdh_console_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.getLogger(LOGGER_NAME)
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(_ProgressHandler(Console()))
    return log


def progress_loggers() -> dict[str, LoggerDefinition]:
    return {LOGGER_NAME: mdh_console_logger}


def console_logger_config() -> dict:
    return {"loggers": {LOGGER_NAME: {}}}
