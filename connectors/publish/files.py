"""Files: change events as a CSV or JSON file in a drop folder, written atomically, named by idempotency-key range."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

from connectors.publish.base import DeliveryError, OutboundEvent
from schemas.config import PublishTarget

CSV_COLUMNS = ("idempotency_key", "event_id", "event_type", "person_id", "uprn", "source", "created_at", "payload")
MAX_PART = 60


def _safe(text: str) -> str:
    """A file-name-safe form of a key; long keys are cut and given a short digest so names stay distinct."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "key"
    if len(clean) > MAX_PART or clean != text:
        clean = f"{clean[:MAX_PART]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return clean


def file_name(subscriber: str, events: Sequence[OutboundEvent], fmt: str) -> str:
    """``<subscriber>__<first key>__<last key>.<fmt>``: the same batch always gets the same name."""
    return f"{_safe(subscriber)}__{_safe(events[0].idempotency_key)}__{_safe(events[-1].idempotency_key)}.{fmt}"


def render(events: Sequence[OutboundEvent], fmt: str) -> bytes:
    """The file's content: a JSON document ``{"events": [...]}`` or CSV with the payload as a JSON column."""
    if fmt == "json":
        return json.dumps({"events": [e.to_json() for e in events]}, indent=1, default=str).encode()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in events:
        row = e.to_json()
        row["payload"] = json.dumps(e.payload, sort_keys=True, default=str)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return buf.getvalue().encode()


def write_atomically(path: Path, content: bytes) -> None:
    """Write via a hidden temp file in the same folder, fsync, then rename: readers never see half a file."""
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with tmp.open("wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class FilesTarget:
    """One file per batch in the subscriber's drop folder; a replayed batch rewrites the same name."""

    kind = "files"

    def __init__(self, target: PublishTarget, subscriber: str) -> None:
        if target.folder is None:
            raise DeliveryError(f"subscriber {subscriber}: files target needs a 'folder'")
        self.folder, self.format, self.subscriber = Path(target.folder), target.format, subscriber

    def send(self, events: Sequence[OutboundEvent]) -> None:
        if not events:
            return
        path = self.folder / file_name(self.subscriber, events, self.format)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, render(events, self.format))
        except OSError as err:
            raise DeliveryError(f"subscriber {self.subscriber}: cannot write {path.name} in the drop folder: "
                                f"{err.__class__.__name__}: {err.strerror}") from err
