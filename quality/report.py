"""The analysts' data-quality report: one static HTML page of tables and inline SVG charts, linked to the Data Docs."""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from quality.charts import PALETTE, bar_chart, grouped_bars, trend_chart
from quality.gates import docs_dir, report_dir
from quality.metrics import GOLDEN, metric_history
from quality.store import quarantine_reasons, runs
from quality.validate import build_data_docs, data_docs_pages, latest_outcomes
from schemas.config import HubConfig

REPORT_FILE = "index.html"
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#666;margin-top:0}table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f4f6f8}td.l,th.l{text-align:left}
td.good{background:#e6f4ea}td.warn{background:#fff4e0}td.bad{background:#fde8e8}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;flex:1 1 480px}
figure svg{max-width:100%;height:auto}.empty{color:#888;font-style:italic}.ok{color:#2a9d55}.fail{color:#c0392b}
"""


@dataclass(frozen=True)
class ReportSummary:
    """Where the report went and what it covers."""

    path: Path
    runs: int
    sources: int
    charts: int


def _pct(v: float | None) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.1%}"


def _cls(v: float | None, good: float, warn: float, *, higher_is_better: bool = True) -> str:
    if v is None or pd.isna(v):
        return ""
    if not higher_is_better:
        v, good, warn = -v, -good, -warn
    return "good" if v >= good else "warn" if v >= warn else "bad"


def _latest(history: pd.DataFrame) -> pd.DataFrame:
    """Each (source, metric, field)'s value from the newest run that measured it."""
    if history.empty:
        return history
    key = ["source", "metric", "field"]
    return history.sort_values("run_id").groupby(key, dropna=False, sort=False).tail(1)


def _value(latest: pd.DataFrame, source: str, metric: str, field: str | None = None) -> float | None:
    rows = latest[(latest["source"] == source) & (latest["metric"] == metric)]
    rows = rows[rows["field"].isna()] if field is None else rows[rows["field"] == field]
    return None if rows.empty else float(rows["value"].iloc[-1])


def _link(href: str | None, text: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>' if href else html.escape(text)


def _figure(svg: str | None, caption: str) -> str:
    body = svg or f'<p class="empty">No data yet for: {html.escape(caption)}</p>'
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> str:
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for rec in frame.itertuples(index=False):
        cells = "".join(f'<td class="{"l" if c in left else ""}">{html.escape(str(v))}</td>' for c, v in zip(frame.columns, rec))
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _scorecard(sources: list[str], latest: pd.DataFrame, outcomes: dict[str, dict], docs_href: str) -> str:
    head = ("<tr><th class='l'>source</th><th>live records</th><th>loaded (last run)</th><th>quarantined</th>"
            "<th>completeness (mean)</th><th>validity (worst)</th><th>UPRN match</th><th>duplicate rate</th>"
            "<th class='l'>extract suite</th><th class='l'>address suite</th></tr>")
    rows = []
    for s in sources:
        comp = latest[(latest["source"] == s) & (latest["metric"] == "completeness")]["value"]
        val = latest[(latest["source"] == s) & (latest["metric"] == "validity")]["value"]
        mean_comp = float(comp.mean()) if len(comp) else None
        worst_val = float(val.min()) if len(val) else None
        q, m, d = (_value(latest, s, k) for k in ("quarantine_rate", "uprn_match_rate", "duplicate_rate"))
        live, loaded = _value(latest, s, "live_records"), _value(latest, s, "rows_loaded")
        suites = [_suite_cell([outcomes.get(f"batch.{s}"), outcomes.get(f"extract.{s}")], docs_href),
                  _suite_cell([outcomes.get(f"addresses.{s}")], docs_href)]
        rows.append(
            f"<tr><td class='l'>{html.escape(s)}</td><td>{'' if live is None else f'{live:,.0f}'}</td>"
            f"<td>{'' if loaded is None else f'{loaded:,.0f}'}</td>"
            f"<td class='{_cls(q, 0.01, 0.05, higher_is_better=False)}'>{_pct(q)}</td>"
            f"<td class='{_cls(mean_comp, 0.9, 0.7)}'>{_pct(mean_comp)}</td>"
            f"<td class='{_cls(worst_val, 0.999, 0.98)}'>{_pct(worst_val)}</td>"
            f"<td class='{_cls(m, 0.9, 0.75)}'>{_pct(m)}</td>"
            f"<td class='{_cls(d, 0.01, 0.05, higher_is_better=False)}'>{_pct(d)}</td>{''.join(suites)}</tr>")
    return f'<table id="scorecard"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _suite_cell(found: list[dict | None], docs_href: str) -> str:
    """Pass / warnings / failed for a stage's suites, linked to the Data Docs page of the worst one."""
    found = [o for o in found if o]
    if not found:
        return "<td class='l'>not run</td>"
    critical = sum(1 for o in found for r in o["results"] if not r["success"] and r["severity"] == "critical")
    warnings = sum(1 for o in found for r in o["results"] if not r["success"] and r["severity"] != "critical")
    worst = max(found, key=lambda o: sum(1 for r in o["results"] if not r["success"]))
    page = f"{docs_href}/{worst['docs_page']}" if worst.get("docs_page") else None
    if critical:
        return f"<td class='l bad'>{_link(page, f'failed ({critical})')}</td>"
    if warnings:
        return f"<td class='l warn'>{_link(page, f'warnings ({warnings})')}</td>"
    return f"<td class='l good'>{_link(page, 'passed')}</td>"


def _linkage(sources: list[str], latest: pd.DataFrame) -> str:
    """Share of each source's live records matched to a UPRN, sent to review, unmatched or not yet resolved."""
    measures = {"uprn_match_rate": "matched to a UPRN", "uprn_review_rate": "for review",
                "uprn_unmatched_rate": "unmatched", "uprn_unresolved_rate": "not resolved",
                "source_uprn_in_gazetteer": "source's own UPRN in gazetteer"}
    rows = [{"source": s, **{label: _pct(_value(latest, s, m)) for m, label in measures.items()}} for s in sources]
    return _table(pd.DataFrame(rows), left=("source",)) if rows else '<p class="empty">No sources.</p>'


def _geoplace_linkage(sources: list[str], latest: pd.DataFrame) -> str:
    """Linkage the way GeoPlace's improvement schedule measures it: share of live records per kind of link."""
    measures = {"uprn_linked_rate": "linked to a UPRN", "approved_address_rate": "via approved address",
                "alternative_address_rate": "via alternative address", "historical_address_rate": "via historical address",
                "unmatched_rate": "unmatched"}
    rows = [{"source": s, **{label: _pct(_value(latest, s, m, "uprn")) for m, label in measures.items()}}
            for s in sources if any(_value(latest, s, m, "uprn") is not None for m in measures)]
    return _table(pd.DataFrame(rows), left=("source",)) if rows else '<p class="empty">Property linkage not measured yet.</p>'


def _findings(engine: Engine) -> str:
    """Open cross-check findings (property master): how many per check, and the records of the first few."""
    from schemas.property import DqFinding

    with Session(engine) as session:
        found = session.scalars(select(DqFinding).where(DqFinding.status == "open")
                                .order_by(DqFinding.check_name, DqFinding.id)).all()
    if not found:
        return '<p class="empty">No open findings.</p>'
    rows = []
    for check in sorted({f.check_name for f in found}):
        mine = [f for f in found if f.check_name == check]
        examples = "; ".join(
            f"UPRN {f.uprn}: " + ", ".join(f"{r.get('source')}:{r.get('source_key')}" for r in (f.records or [])[:4])
            for f in mine[:5])
        rows.append({"check": check, "open findings": len(mine), "examples (record keys)": examples})
    return _table(pd.DataFrame(rows), left=("check", "examples (record keys)"))


def _worst_fields(latest: pd.DataFrame) -> pd.DataFrame:
    rows = latest[latest["metric"].isin(["completeness", "validity"]) & latest["field"].notna()
                  & (latest["source"] != GOLDEN)].copy()
    rows["label"] = rows["source"] + "." + rows["field"] + " (" + rows["metric"] + ")"
    return rows.sort_values(["value", "label"]).head(15)


def _placeholders(latest: pd.DataFrame) -> str:
    """Fields whose values are placeholders ("UNKNOWN", 01/01/1900, ...) in the latest run, most first."""
    rows = latest[(latest["metric"] == "placeholder_rate") & (latest["value"] > 0) & (latest["source"] != GOLDEN)]
    if rows.empty:
        return '<p class="empty">No placeholder values in the latest extracts.</p>'
    rows = rows.sort_values(["value", "source", "field"], ascending=[False, True, True])
    frame = pd.DataFrame({"source": rows["source"], "field": rows["field"],
                          "share of present values": [_pct(v) for v in rows["value"]]})
    return _table(frame, left=("source", "field"))


def _with_mean_completeness(history: pd.DataFrame) -> pd.DataFrame:
    comp = history[history["metric"] == "completeness"]
    if comp.empty:
        return history
    mean = comp.groupby(["run_id", "source"], as_index=False)["value"].mean()
    mean["metric"], mean["field"] = "completeness_mean", None
    mean["started_at"] = mean["run_id"].map(history.drop_duplicates("run_id").set_index("run_id")["started_at"])
    return pd.concat([history, mean[history.columns]], ignore_index=True)


def render_report(engine: Engine, config: HubConfig, out_dir: str | Path) -> ReportSummary:
    """Write ``out_dir/index.html`` from the hub's metric history, quarantine log and latest suite outcomes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = _with_mean_completeness(metric_history(engine))
    latest = _latest(history)
    run_log = runs(engine)
    docs = docs_dir(config)
    docs_href = Path(os.path.relpath(docs, out_dir)).as_posix()
    build_data_docs(docs)
    outcomes = latest_outcomes(docs)
    configured = [s.name for s in config.sources]
    sources = configured + sorted(set(history["source"]) - set(configured) - {GOLDEN})
    charts: list[str] = []

    def add(svg: str | None, caption: str) -> str:
        if svg:
            charts.append(caption)
        return _figure(svg, caption)

    trends = "".join([
        add(trend_chart(history, "uprn_match_rate", chart_id="trend-uprn", title="UPRN match rate by source"),
            "UPRN match rate across runs"),
        add(trend_chart(history, "completeness_mean", chart_id="trend-completeness", title="Mean field completeness"),
            "Mean completeness of mapped fields across runs"),
        add(trend_chart(history, "quarantine_rate", chart_id="trend-quarantine", title="Quarantined share of extract"),
            "Quarantine rate across runs"),
        add(trend_chart(history, "duplicate_rate", chart_id="trend-duplicates", title="Records sharing a person within a source"),
            "Duplicate rate across runs"),
    ])
    score = latest[latest["source"].isin(sources) & latest["metric"].isin(["uprn_match_rate", "completeness_mean"])]
    score_frame = score.pivot_table(index="source", columns="metric", values="value", aggfunc="last") if len(score) else pd.DataFrame()
    worst = _worst_fields(latest)
    reasons = quarantine_reasons(engine)
    # Drop folders name the file in each reason; analysts want the reason across files.
    reasons["reason"] = reasons["reason"].str.replace(r"\s*\(file [^)]*\)", "", regex=True)
    top_reasons = reasons.groupby(["field", "reason"], dropna=False, as_index=False)["rows"].sum() \
        .sort_values("rows", ascending=False).head(15) if len(reasons) else reasons
    reason_labels = [f"{f or '-'}: {r[:60]}" for f, r in zip(top_reasons.get("field", []), top_reasons.get("reason", []))]
    quality_charts = "".join([
        add(grouped_bars(score_frame, chart_id="scorecard-chart", title="Scorecard: latest run"),
            "Scorecard per source (UPRN match and completeness)"),
        add(bar_chart(list(worst["label"]), list(worst["value"]), chart_id="worst-fields", title="Worst fields",
                      color=PALETTE[3]), "Worst fields: lowest completeness and validity, latest run"),
        add(bar_chart(reason_labels, list(top_reasons.get("rows", [])), chart_id="quarantine-reasons",
                      title="Top quarantine reasons (all runs)", percent=False, color=PALETTE[1], xlabel="rows"),
            "Top quarantine reasons"),
    ])
    golden = latest[latest["source"] == GOLDEN]
    golden_rows = golden[golden["field"].isna() & ~golden["metric"].isin(["suite_success", "critical_failed", "warnings"])]
    golden_table = _table(pd.DataFrame({"measure": golden_rows["metric"], "value": [f"{v:,.2f}".rstrip("0").rstrip(".")
                                                                                        for v in golden_rows["value"]]}),
                          left=("measure",)) if len(golden_rows) else '<p class="empty">Golden records not checked yet.</p>'
    suite_rows = pd.DataFrame([{"suite": name, "run": o.get("run_id"), "rows": o.get("rows"),
                                "result": "passed" if o.get("success") else "failed",
                                "failed expectations": "; ".join(f"{r['severity']} {r['column'] or 'table'}: {r['why']}"
                                                                 for r in o["results"] if not r["success"])[:400]}
                               for name, o in outcomes.items()])
    suites_html = _table(suite_rows, left=("suite", "result", "failed expectations")) if len(suite_rows) else \
        '<p class="empty">No suite has run yet.</p>'
    pages = data_docs_pages(docs)[:60]
    pages_html = "<ul>" + "".join(f"<li>{_link(f'{docs_href}/{p.as_posix()}', p.parent.parent.as_posix())} "
                                  f"({html.escape(p.parent.name)})</li>" for p in pages) + "</ul>" if pages else \
        '<p class="empty">No validation pages yet.</p>'
    last_run = run_log.iloc[-1] if len(run_log) else None
    title = f"Data quality: {len(sources)} sources, {len(run_log)} runs"
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run_line = (f"Latest run {int(last_run.run_id)} ({html.escape(str(last_run.kind))}, {html.escape(str(last_run.status))})"
                if last_run is not None else "No runs yet")
    reasons_table = _table(top_reasons.rename(columns={"rows": "rows quarantined"}), left=("field", "reason")) \
        if len(top_reasons) else '<p class="empty">Nothing quarantined.</p>'
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{run_line}. Generated {when}. Suites version {html.escape(_suites_version())}.
Full validation results: <a id="data-docs" href="{html.escape(docs_href)}/index.html">Great Expectations Data Docs</a>.</p>
<h2>Scorecard per source</h2>
{_scorecard(sources, latest, outcomes, docs_href)}
<div class="charts">{quality_charts}</div>
<h2>Address linkage per source</h2>
<div id="linkage">{_linkage(sources, latest)}</div>
<h2>Gazetteer linkage (GeoPlace measures)</h2>
<div id="geoplace-linkage">{_geoplace_linkage(sources, latest)}</div>
<h2>Cross-check findings</h2>
<div id="findings">{_findings(engine)}</div>
<h2>Trends across runs</h2>
<div class="charts">{trends}</div>
<h2>Worst fields</h2>
{_table(worst.assign(value=[_pct(v) for v in worst["value"]])[["source", "field", "metric", "value"]], left=("source", "field", "metric")) if len(worst) else '<p class="empty">No fields measured yet.</p>'}
<h2>Placeholder values</h2>
<p class="sub">Values that stand in for an unknown one ("UNKNOWN", "THE OCCUPIER", 01/01/1900, noemail@...): the matcher
reads them as missing, so they are completeness the source does not really have.</p>
<div id="placeholders">{_placeholders(latest)}</div>
<h2>Top quarantine reasons</h2>
{reasons_table}
<h2>Golden records</h2>
{golden_table}
<h2>Suites (latest outcome)</h2>
{suites_html}
<h2>Data Docs pages</h2>
{pages_html}
</body></html>
"""
    path = out_dir / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return ReportSummary(path=path, runs=len(run_log), sources=len(sources), charts=len(charts))


def _suites_version() -> str:
    from quality.suites import SUITES_VERSION

    return SUITES_VERSION


def write_run_report(engine: Engine, config: HubConfig) -> ReportSummary:
    """The report written on every run, next to the configuration: ``<config folder>/reports/dq/index.html``."""
    return render_report(engine, config, report_dir(config))
