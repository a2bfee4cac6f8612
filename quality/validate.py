"""Running a suite with Great Expectations 1.x (imported lazily): outcome per expectation, Data Docs pages on disk."""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from quality import QualityError
from quality.suites import CRITICAL, Suite

log = logging.getLogger(__name__)

DOCS_SITE = "mdh_data_docs"  # an ephemeral context already has "local_site"
RESULTS_STORE = "mdh_validation_results"
RESULTS_DIR = "validation_results"  # beside the Data Docs folder: GE's JSON results of every run
LATEST_DIR = "latest"  # <docs>/latest/<suite>.json: the newest outcome of each suite, read by the report
SAMPLE_KEYS = 20
# Row indexes of failing rows (mapped to record keys), never their values: names, dates of birth and NI numbers
# must not end up in stored results or Data Docs pages.
RESULT_FORMAT = {"result_format": "COMPLETE", "exclude_unexpected_values": True, "return_unexpected_index_query": False}


@dataclass
class ExpectationOutcome:
    """How one expectation fared: counts and a sample of failing record keys (never values)."""

    kind: str
    column: str | None
    severity: str
    success: bool
    why: str
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: Any = None
    failing_keys: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class SuiteOutcome:
    """The result of one suite over one frame, with the path of its Data Docs page."""

    suite: str
    version: str
    run_id: int | None
    rows: int
    results: list[ExpectationOutcome]
    docs_page: str | None = None  # relative to the Data Docs folder

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity == CRITICAL]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity != CRITICAL]

    def describe_failures(self, limit: int = 6) -> str:
        """One line per failed expectation, e.g. ``CRITICAL postcode: 12 rows (3.1%) — postcodes are valid``."""
        lines = []
        for r in [*self.critical_failures, *self.warnings][:limit]:
            count = f"{r.unexpected_count:,} rows ({r.unexpected_percent or 0:.1f}%)" if r.unexpected_count else \
                f"observed {r.observed}" if r.observed is not None else (r.error or "failed")
            lines.append(f"{r.severity.upper()} {r.column or 'table'}: {count} - {r.why}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "success": self.success}


def _gx():  # noqa: ANN202 - the great_expectations module, imported on first use (3-4 s)
    import great_expectations as gx

    return gx


def _context(docs_dir: Path):  # noqa: ANN202 - an ephemeral GE context with our Data Docs site
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    # Validation results persist on disk beside the site: each gate runs in its own ephemeral context, and a
    # site build keeps only the pages whose results its context can see.
    ctx.add_store(RESULTS_STORE, {"class_name": "ValidationResultsStore", "store_backend": {
        "class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.parent / RESULTS_DIR)}})
    ctx.variables.validation_results_store_name = RESULTS_STORE
    ctx.add_data_docs_site(site_name=DOCS_SITE, site_config={
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    return ctx


def _remove_default_site(ctx) -> None:  # noqa: ANN001 - a GE context
    """An ephemeral context makes a temporary folder for its built-in ``local_site``; we never use it."""
    site = (ctx.variables.data_docs_sites or {}).get("local_site") or {}
    base = (site.get("store_backend") or {}).get("base_directory")
    if base and Path(base).is_dir() and Path(base).resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()):
        shutil.rmtree(base, ignore_errors=True)


def _expectation(exp) -> object:  # noqa: ANN001 - quality.suites.Expect → a GE expectation
    import great_expectations.expectations as gxe

    from great_expectations.expectations.row_conditions import Column

    cls = getattr(gxe, exp.kind, None)
    if cls is None:
        raise QualityError(f"unknown expectation {exp.kind!r}")
    kwargs = dict(exp.kwargs)
    if "when" in kwargs:
        column, value = kwargs.pop("when")
        kwargs["row_condition"] = Column(column) == value
    return cls(**kwargs, severity=exp.severity, meta={"why": exp.why})


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _outcome(result, exp, keys: pd.Series | None) -> ExpectationOutcome:  # noqa: ANN001 - GE result, Expect
    res = result.result or {}
    info = result.exception_info or {}
    error = None
    if info.get("raised_exception"):
        error = str(info.get("exception_message") or "exception")[:300]
    else:  # GE reports metric errors keyed by metric id
        nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        error = str(nested[0].get("exception_message") or "exception")[:300] if nested else None
    idx = res.get("unexpected_index_list") or []
    failing = [str(keys.get(i)) for i in idx[:SAMPLE_KEYS]] if keys is not None and len(idx) else []
    observed = res.get("observed_value")
    return ExpectationOutcome(
        kind=exp.kind, column=exp.column, severity=exp.severity, success=bool(result.success), why=exp.why,
        unexpected_count=res.get("unexpected_count"), unexpected_percent=res.get("unexpected_percent"),
        observed=observed if isinstance(observed, (int, float, str, type(None))) else str(observed),
        failing_keys=failing, error=error)


class SuiteRunner:
    """Runs the suites of one gate in one ephemeral GE context and builds the Data Docs once at the end.

    Building Data Docs compiles GE's page templates afresh for every context (about 1.4 s), so a gate's
    suites share a context and one build.
    """

    def __init__(self, docs_dir: str | Path, run_id: int | None = None) -> None:
        self.gx = _gx()
        self.docs_dir = Path(docs_dir)
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.ctx = _context(self.docs_dir)
        self.datasource = self.ctx.data_sources.add_pandas("hub")
        self._pending: list[tuple[SuiteOutcome, object]] = []

    def validate(self, suite: Suite, frame: pd.DataFrame, *, key_column: str | None = None) -> SuiteOutcome:
        """Validate ``frame`` against ``suite``; ``key_column`` names the record key reported for failing rows."""
        gx = self.gx
        batch_def = self.datasource.add_dataframe_asset(_safe(suite.name)).add_batch_definition_whole_dataframe("run")
        gx_suite = self.ctx.suites.add(gx.ExpectationSuite(
            name=suite.name, expectations=[_expectation(e) for e in suite.expectations],
            meta={**suite.meta, "version": suite.version}))
        vd = self.ctx.validation_definitions.add(gx.ValidationDefinition(name=f"validate {suite.name}", data=batch_def,
                                                                         suite=gx_suite))
        checkpoint = self.ctx.checkpoints.add(gx.Checkpoint(name=f"check {suite.name}", validation_definitions=[vd],
                                                            result_format=RESULT_FORMAT, actions=[]))
        run_name = f"hub-run-{self.run_id}" if self.run_id is not None else "adhoc"
        data = frame.reset_index(drop=True)
        try:
            result = checkpoint.run(batch_parameters={"dataframe": data}, run_id=gx.RunIdentifier(run_name=run_name))
        except Exception as err:  # noqa: BLE001 - GE failures are wrapped with the suite named
            raise QualityError(f"suite {suite.name}: Great Expectations failed: {err.__class__.__name__}: {err}") from err
        (identifier, validation), = result.run_results.items()
        keys = data[key_column] if key_column and key_column in data else None
        by_id = {r.expectation_config.id: r for r in validation.results}
        outcomes = [_outcome(by_id[g.id], e, keys) for e, g in zip(suite.expectations, gx_suite.expectations)]
        outcome = SuiteOutcome(suite=suite.name, version=suite.version, run_id=self.run_id, rows=len(data),
                               results=outcomes)
        self._pending.append((outcome, identifier))
        return outcome

    def finish(self) -> list[SuiteOutcome]:
        """Record each suite's latest outcome with the path its Data Docs page gets from :func:`build_data_docs`."""
        _remove_default_site(self.ctx)
        latest = self.docs_dir / LATEST_DIR
        latest.mkdir(exist_ok=True)
        done = []
        for outcome, identifier in self._pending:
            outcome.docs_page = _page(identifier).as_posix()
            (latest / f"{_safe(outcome.suite)}.json").write_text(json.dumps(outcome.as_dict(), default=str, indent=1),
                                                                encoding="utf-8")
            done.append(outcome)
        self._pending = []
        return done


def _page(identifier) -> Path:  # noqa: ANN001 - a GE ValidationResultIdentifier
    """Where the Data Docs site puts the page of a validation result (relative to the site)."""
    *folders, leaf = identifier.to_tuple()
    return Path("validations", *map(str, folders), f"{leaf}.html")


def build_data_docs(docs_dir: str | Path) -> int:
    """Render the Data Docs pages of every stored validation result that has none yet, and the site index.

    Gates only store results (rendering compiles GE's templates afresh, about 1.2 s a time); the report
    renders the pages once per run. Returns the number of pages rendered.
    """
    docs_dir = Path(docs_dir)
    if not (docs_dir.parent / RESULTS_DIR).is_dir():
        return 0
    ctx = _context(docs_dir)
    try:
        missing = [k for k in ctx.validation_results_store.list_keys() if not (docs_dir / _page(k)).is_file()]
        if missing:
            ctx.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=missing)
    finally:
        _remove_default_site(ctx)
    return len(missing)


def run_suite(suite: Suite, frame: pd.DataFrame, *, docs_dir: str | Path, run_id: int | None = None,
              key_column: str | None = None) -> SuiteOutcome:
    """Validate one frame against one suite and record its latest outcome (pages: :func:`build_data_docs`)."""
    runner = SuiteRunner(docs_dir, run_id)
    runner.validate(suite, frame, key_column=key_column)
    return runner.finish()[0]


def data_docs_pages(docs_dir: str | Path) -> list[Path]:
    """Every validation page in the Data Docs folder, newest first (relative to ``docs_dir``).

    The site's own index lists only the validations of the last gate that built it; this lists them all.
    """
    root = Path(docs_dir)
    pages = sorted((root / "validations").rglob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.relative_to(root) for p in pages]


def latest_outcomes(docs_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The newest recorded outcome of every suite in ``docs_dir`` (suite name → outcome dict)."""
    folder = Path(docs_dir) / LATEST_DIR
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("unreadable data-quality outcome %s", path.name)
            continue
        out[data["suite"]] = data
    return out
