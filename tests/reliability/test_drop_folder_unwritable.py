"""A drop folder whose consumed files cannot be archived: a clear error, the drop neither lost nor loaded twice, recovery.

Tests run as root, for whom permission bits do not apply, so the archive is blocked for real: by an ``_archive`` that
is a file, and by a read-only bind mount of the drop folder in a private mount namespace (``unshare -m``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hub.ingest import ExtractSummary, ingest_source
from hub.store import open_hub
from schemas import ExtractBatch, SourceRecord
from schemas.config import SourceConfig

FIELDS = {"full_name": "name", "address": "address", "postcode": "postcode"}
DROP = "ref,name,address,postcode\nA1,Ann Able,1 High Street,AB1 2DE\nA2,Bob Baker,2 High Street,AB1 2DE\n" \
       "A3,Cat Cole,3 High Street,NOT A PC\n"


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = open_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


def _folder(tmp_path: Path) -> tuple[SourceConfig, Path]:
    folder = tmp_path / "drops"
    folder.mkdir()
    (folder / "requests_0001.csv").write_text(DROP, encoding="utf-8")
    return SourceConfig(name="requests", url=str(folder), key="ref", fields=FIELDS), folder


def _records(hub: Engine) -> int:
    with Session(hub) as s:
        return s.scalar(select(func.count()).select_from(SourceRecord)) or 0


def _batches(hub: Engine) -> list[tuple[str, int, int, int, str | None]]:
    with Session(hub) as s:
        return [(b.status, b.extracted, b.loaded, b.quarantined, b.error)
                for b in s.scalars(select(ExtractBatch).order_by(ExtractBatch.id))]


def _assert_blocked_then_recovers(hub: Engine, cfg: SourceConfig, folder: Path, blocked: ExtractSummary) -> None:
    assert blocked.status == "failed"
    assert blocked.error and "source requests" in blocked.error and "_archive" in blocked.error
    assert "nothing was read" in blocked.error
    assert (blocked.extracted, blocked.loaded, blocked.quarantined) == (0, 0, 0)
    assert _records(hub) == 0
    assert (folder / "requests_0001.csv").read_text(encoding="utf-8") == DROP, "the drop was lost or changed"
    assert [b[0] for b in _batches(hub)] == ["failed"], "the failed extract was not recorded as failed"
    assert not [p for p in folder.iterdir() if p.name.startswith(".mdh-archive-probe")], "a probe file was left"

    ok = ingest_source(hub, cfg)  # the next run, once the folder is writable again
    assert ok.status == "ok" and (ok.extracted, ok.loaded, ok.quarantined) == (3, 2, 1)
    assert not (folder / "requests_0001.csv").exists()
    assert (folder / "_archive" / "requests_0001.csv").read_text(encoding="utf-8") == DROP
    again = ingest_source(hub, cfg)  # and the one after: nothing left to read
    assert again.status == "ok" and again.extracted == 0
    assert _records(hub) == 2


def test_archive_path_taken_by_a_file(hub: Engine, tmp_path: Path) -> None:
    cfg, folder = _folder(tmp_path)
    (folder / "_archive").write_text("not a folder", encoding="utf-8")

    blocked = ingest_source(hub, cfg)

    assert "_archive" in (blocked.error or "")
    (folder / "_archive").unlink()
    _assert_blocked_then_recovers(hub, cfg, folder, blocked)


_IN_NAMESPACE = """
import json, sys
from hub.ingest import ingest_source
from hub.store import open_hub
from schemas.config import SourceConfig
cfg = SourceConfig(name="requests", url=sys.argv[2], key="ref", fields=json.loads(sys.argv[3]))
s = ingest_source(open_hub(sys.argv[1]), cfg)
print(json.dumps({"status": s.status, "error": s.error, "extracted": s.extracted, "loaded": s.loaded,
                  "quarantined": s.quarantined}))
"""


def test_read_only_drop_folder(hub: Engine, tmp_path: Path) -> None:
    import json

    cfg, folder = _folder(tmp_path)
    if not shutil.which("unshare"):
        pytest.skip("unshare(1) not installed: cannot make a read-only bind mount")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind '{folder}' '{folder}' && "
                            f"mount -o remount,ro,bind '{folder}' '{folder}' && ! touch '{folder}/.w' 2>/dev/null"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only bind mount here (needs CAP_SYS_ADMIN): {probe.stderr.strip()[:200]}")
    script = (f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' '{folder}' && "
              f"exec '{sys.executable}' -c \"$0\" \"$@\"")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script, _IN_NAMESPACE, str(hub.url), str(folder),
                           json.dumps(FIELDS)], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Read-only file system" in got["error"]
    _assert_blocked_then_recovers(hub, cfg, folder, ExtractSummary(source="requests", **got))


def test_drop_loaded_but_left_unarchived_is_not_loaded_twice(hub: Engine, tmp_path: Path) -> None:
    """The state a failed move leaves (rows committed, file still waiting) is harmless: the re-read changes nothing."""
    cfg, folder = _folder(tmp_path)
    first = ingest_source(hub, cfg)
    assert first.status == "ok" and first.inserted == 2
    shutil.move(folder / "_archive" / "requests_0001.csv", folder / "requests_0001.csv")  # as if never archived

    second = ingest_source(hub, cfg)

    assert second.status == "ok" and (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    assert _records(hub) == 2
    assert sorted(p.name for p in (folder / "_archive").iterdir())[0].startswith("requests_0001")
