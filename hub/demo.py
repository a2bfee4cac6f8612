"""The demo: a synthetic council, a full run on day 0, then incremental nightly runs for each later day."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

MARKER = ".mdh-demo"


def generate_council(out: Path, *, people: int, days: int, seed: int, url: str | None = None,
                     event_rate: float = 1.0, console: Console | None = None) -> object:
    """Write a synthetic council into ``out`` with a progress bar per generation step."""
    from synthetic import SynthSettings, write_council

    if people < 1:
        raise ValueError("--people must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        return write_council(out, SynthSettings(people=people, days=days, seed=seed, url=url, event_rate=event_rate), progress=progress)


def prepare_demo_folder(out: Path) -> None:
    """Start from an empty demo folder; refuse to wipe a folder the demo did not create."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise ValueError(f"{out} exists and was not made by 'mdh demo'; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("created by mdh demo; safe to delete\n", encoding="utf-8")


def run_demo(out: Path, *, people: int, days: int, seed: int, console: Console,
             run: Callable[..., int], show: Callable[..., None], event_rate: float = 1.0) -> None:
    """Generate the council, run day 0 in full, then one incremental run per day of life events."""
    from synthetic import apply_day

    prepare_demo_folder(out)
    pace = "" if event_rate == 1 else f" at {event_rate:g}× a real council's rates"
    console.rule(f"Synthetic council: {people:,} residents, {days} day(s) of life events{pace} (seed {seed})")
    generate_council(out, people=people, days=days, seed=seed, event_rate=event_rate, console=console)
    config = out / "hub.yaml"
    console.rule("Day 0: first full run")
    run_id = run(config, full=True)
    show(config, run_id, title=f"Day 0 (run {run_id})")
    for day in range(1, days + 1):
        changes = apply_day(out, day)
        console.rule(f"Day {day}: {changes}")
        run_id = run(config)
        show(config, run_id, title=f"Day {day} (run {run_id})")
    console.print(f"\nThe demo hub is in {out}/ (config {config}). Try: mdh status --config {config}")
