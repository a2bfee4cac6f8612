"""Write a whole synthetic council: gazetteer files, source databases and drops, hub.yaml, truth, day change sets."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from synthetic import abp, store
from synthetic.addresses import address_table
from synthetic.timeline import simulate
from synthetic.hubyaml import write_hub_yaml
from synthetic.models import CouncilManifest, SynthError, SynthSettings
from synthetic.noise import NoiseLog
from synthetic.population import households, people_frame
from synthetic.rand import generator
from synthetic.sources import SOURCES, render
from synthetic.state import initial_state, occupy
from synthetic.units import build_gazetteer

Progress = Callable[[str, int, int], None]
TRUTH_COLUMNS = ["source", "source_key", "person_id", "uprn", "day"]


def _noop(step: str, done: int, total: int) -> None:
    return None


def drop_name(day: int) -> str:
    """File name of the service-request drop for ``day``."""
    return f"requests_{day:04d}.csv"


def _truth(source: str, state: pd.DataFrame, day: int) -> pd.DataFrame:
    return pd.DataFrame({"source": source, "source_key": state.key.to_numpy(), "person_id": state.person_id.to_numpy(),
                         "uprn": state.uprn.to_numpy(), "day": day})


def write_council(out_dir: Path, settings: SynthSettings, *, progress: Progress | None = None) -> CouncilManifest:
    """Generate the council into ``out_dir``: day-0 state of everything plus change sets for days 1..D.

    Examples:
        >>> m = write_council(Path("demo"), SynthSettings(people=1000, days=3))  # doctest: +SKIP
        >>> apply_day(Path("demo"), 1)  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    progress = progress or _noop
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"{out_dir}: exists and is not a folder")
    for sub in ("gazetteer", "sources", "drops", "truth", "changes"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    seed = settings.seed
    steps = 6 + len(SOURCES)
    progress("population", 0, steps)
    rng = generator(seed, "population")
    hh = households(rng, settings.people)
    people = people_frame(rng, hh)
    progress("gazetteer", 1, steps)
    gaz = build_gazetteer(generator(seed, "gazetteer"), int(np.ceil(len(hh) / 0.955)))
    hh, stock = occupy(generator(seed, "occupy"), gaz, hh)
    people["uprn"] = hh.set_index("household_id").uprn.reindex(people.household_id.to_numpy()).to_numpy()
    prem = out_dir / "gazetteer" / "addressbase_premium.csv"
    plus = out_dir / "gazetteer" / "addressbase_plus.csv"
    abp.write_premium(prem, gaz)
    abp.write_plus(plus, gaz)
    progress("sources", 2, steps)
    addr = address_table(gaz)
    log = NoiseLog()
    state = initial_state(generator(seed, "state"), gaz, hh, people, stock, log)
    people_idx = people.set_index("person_id")
    rows: dict[str, int] = {}
    urls: dict[str, str] = {}
    truth_parts, prop_parts = [], []
    for i, spec in enumerate(SOURCES):
        progress(f"source {spec.name}", 3 + i, steps)
        df = render(spec, state[spec.name], people_idx, addr, seed, log)
        if spec.table is None:
            store.write_drop(out_dir / "drops" / spec.name, drop_name(0), df)
        else:
            store.write_table(out_dir, spec, df, settings.url)
        rows[spec.name] = len(df)
        urls[spec.name] = store.source_url(out_dir, spec, settings.url)
        t = _truth(spec.name, state[spec.name], 0)
        (truth_parts if spec.kind == "person" else prop_parts).append(t if spec.kind == "person" else t.drop(columns="person_id"))
    noise0 = log.frame()
    progress("life events", 3 + len(SOURCES), steps)
    sim = simulate(generator(seed, "events"), settings.days, gaz, hh, people, stock, state, addr,
                   event_rate=settings.event_rate)
    change_rows = _write_changes(out_dir, settings, sim.changes, people_idx=sim.people.set_index("person_id"), addr=addr, log=log,
                                 truth_parts=truth_parts, prop_parts=prop_parts)
    progress("truth", 4 + len(SOURCES), steps)
    pd.concat(truth_parts, ignore_index=True).to_csv(out_dir / "truth" / "records.csv", index=False)
    pd.concat(prop_parts, ignore_index=True).to_csv(out_dir / "truth" / "property_records.csv", index=False)
    sim.events.to_csv(out_dir / "truth" / "events.csv", index=False)
    p = sim.people.copy()
    p["date_of_birth"] = pd.to_datetime(p.date_of_birth).dt.strftime("%Y-%m-%d")
    p.to_csv(out_dir / "truth" / "people.csv", index=False)
    gaz.blpus.drop(columns=["is_dwelling"]).assign(council_stock=stock.reindex(gaz.blpus.uprn).astype("boolean").fillna(False).to_numpy(dtype=bool)).to_csv(
        out_dir / "truth" / "properties.csv", index=False)
    log.frame().to_csv(out_dir / "truth" / "noise.csv", index=False)
    hub_yaml = write_hub_yaml(out_dir, urls)
    meta = {"people": settings.people, "days": settings.days, "seed": settings.seed, "url": settings.url,
            "event_rate": settings.event_rate,
            "sources": urls, "change_rows": change_rows, "applied": []}
    (out_dir / "changes").mkdir(exist_ok=True)
    (out_dir / "changes" / "manifest.json").write_text(json.dumps(meta, indent=1))
    progress("done", steps, steps)
    return CouncilManifest(
        out_dir=out_dir, hub_yaml=hub_yaml, addressbase_premium=prem, addressbase_plus=plus, truth_dir=out_dir / "truth",
        changes_dir=out_dir / "changes", source_urls=urls, rows=rows, streets=len(gaz.streets), properties=len(gaz.blpus),
        lpis=len(gaz.lpis), people=len(people), households=len(hh), days=settings.days,
        events={str(k): int(v) for k, v in sim.events.event_type.value_counts().sort_index().items()},
        noise={str(k): int(v) for k, v in noise0.kind.value_counts().sort_index().items()}, seconds=round(time.perf_counter() - t0, 2),
    )


def _write_changes(out_dir: Path, settings: SynthSettings, changes: dict[int, dict[str, tuple[pd.DataFrame, list[str]]]],
                   *, people_idx: pd.DataFrame, addr: pd.DataFrame, log: NoiseLog, truth_parts: list, prop_parts: list) -> dict[str, dict[str, int]]:
    """Render each day's changed record states into source rows under changes/day_NNNN/ (one render per source)."""
    counts: dict[str, dict[str, int]] = {str(d): {} for d in range(1, settings.days + 1)}
    for day in range(1, settings.days + 1):
        (out_dir / "changes" / f"day_{day:04d}").mkdir(parents=True, exist_ok=True)
    for spec in SOURCES:
        states = [st.assign(_day=day) for day, per in changes.items() if (st := per.get(spec.name, (None, []))[0]) is not None and len(st)]
        rendered = None
        if states:
            st = pd.concat(states, ignore_index=True)
            rendered = render(spec, st, people_idx, addr, settings.seed, log).assign(_op="upsert", _day=st._day.to_numpy())
            for day, part in st.groupby("_day"):
                t = _truth(spec.name, part, int(day))
                (truth_parts if spec.kind == "person" else prop_parts).append(t if spec.kind == "person" else t.drop(columns="person_id"))
        for day in range(1, settings.days + 1):
            frames = []
            if rendered is not None:
                frames.append(rendered[rendered._day == day].drop(columns="_day"))
            deletes = changes.get(day, {}).get(spec.name, (None, []))[1]
            if deletes:
                frames.append(pd.DataFrame({spec.key: deletes, "_op": "delete"}))
            frames = [f for f in frames if len(f)]
            if frames:
                out = pd.concat(frames, ignore_index=True)
                out.to_csv(out_dir / "changes" / f"day_{day:04d}" / f"{spec.name}.csv", index=False)
                counts[str(day)][spec.name] = len(out)
    return counts
