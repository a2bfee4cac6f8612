"""Keeping the hub's gazetteer in step with the council's gazetteer file (reload only when the file changed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.gazetteer_store import GazetteerLoadSummary, store_gazetteer
from schemas import HubState
from schemas.base import utcnow

STATE_KEY = "gazetteer_file"


@dataclass
class GazetteerOutcome:
    """Whether the gazetteer was reloaded, and the load's counts when it was."""

    reloaded: bool
    fingerprint: str
    load: GazetteerLoadSummary | None = None

    def metadata(self) -> dict[str, object]:
        meta: dict[str, object] = {"reloaded": self.reloaded, "fingerprint": self.fingerprint[:12]}
        if self.load:
            meta.update({k: v for k, v in asdict(self.load).items()})
        return meta


def file_fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes (streamed); of a folder of chunks, its files' names and bytes in order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_gazetteer_if_changed(engine: Engine, path: Path, *, force: bool = False,
                              progress: Callable[[str], None] | None = None) -> GazetteerOutcome:
    """Load the gazetteer file into the hub unless the same file was loaded last time."""
    from gazetteer import read_gazetteer

    path = Path(path)
    fingerprint = file_fingerprint(path)
    with Session(engine) as session:
        state = session.get(HubState, STATE_KEY)
        if state is not None and state.value.get("sha256") == fingerprint and not force:
            return GazetteerOutcome(reloaded=False, fingerprint=fingerprint)
    gaz = read_gazetteer(path)
    summary = store_gazetteer(engine, gaz, progress=progress)
    with Session(engine) as session, session.begin():
        state = session.get(HubState, STATE_KEY)
        value = {"sha256": fingerprint, "path": str(path), "format": gaz.fmt}
        if state is None:
            session.add(HubState(key=STATE_KEY, value=value, updated_at=utcnow()))
        else:
            state.value, state.updated_at = value, utcnow()
    return GazetteerOutcome(reloaded=True, fingerprint=fingerprint, load=summary)
