"""Apply one prepared day of changes to the council's sources in place (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from synthetic import store
from synthetic.council import drop_name
from synthetic.models import DayChanges, SynthError
from synthetic.sources import SOURCES


def apply_day(out_dir: Path, day: int) -> DayChanges:
    """Upsert and delete day ``day``'s rows in each source; the service-request drop is (re)written.

    Applying the same day twice leaves the sources as after the first time.
    """
    out_dir = Path(out_dir)
    meta_path = out_dir / "changes" / "manifest.json"
    if not meta_path.is_file():
        raise SynthError(f"{out_dir}: no synthetic council here (changes/manifest.json missing)")
    meta = json.loads(meta_path.read_text())
    if not 1 <= day <= int(meta["days"]):
        raise SynthError(f"day {day} is outside the prepared days 1..{meta['days']}")
    folder = out_dir / "changes" / f"day_{day:04d}"
    already = day in meta["applied"]
    upserts: dict[str, int] = {}
    deletes: dict[str, int] = {}
    files: list[Path] = []
    for spec in SOURCES:
        path = folder / f"{spec.name}.csv"
        if not path.is_file():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
        ups = df[df._op == "upsert"].drop(columns="_op")
        dels = df.loc[df._op == "delete", spec.key].tolist()
        if spec.table is None:
            if len(ups):
                files.append(store.write_drop(out_dir / "drops" / spec.name, drop_name(day), ups))
        else:
            store.upsert(out_dir, spec, ups, dels, meta["url"])
        upserts[spec.name], deletes[spec.name] = len(ups), len(dels)
    if not already:
        meta["applied"] = sorted(set(meta["applied"]) | {day})
        meta_path.write_text(json.dumps(meta, indent=1))
    n_events = 0
    events = out_dir / "truth" / "events.csv"
    if events.is_file():
        n_events = int((pd.read_csv(events, usecols=["day"]).day == day).sum())
    return DayChanges(day=day, upserts=upserts, deletes=deletes, events=n_events, files=files, already_applied=already)
