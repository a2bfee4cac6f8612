"""Charts for the data-quality report, drawn with matplotlib as inline SVG (no JavaScript, nothing fetched)."""

from __future__ import annotations

import io
import re

import pandas as pd

PALETTE = ("#1f6fb2", "#e07b00", "#2a9d55", "#c0392b", "#7d3c98", "#8c564b", "#d63384", "#5f6b73", "#a6a600", "#17a2b8")
MAX_BARS = 15


def _pyplot():  # noqa: ANN202 - matplotlib.pyplot with a file-only backend, imported on first use
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "mdh-dq", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False})
    import matplotlib.pyplot as plt

    return plt


def _svg(fig, chart_id: str, title: str) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = re.sub(r"<svg ", f'<svg id="{chart_id}" class="chart" role="img" aria-label="{title}" ', svg, count=1)
    return svg


def trend_chart(history: pd.DataFrame, metric: str, *, chart_id: str, title: str, percent: bool = True,
                field: str | None = None) -> str | None:
    """One line per source of ``metric`` (optionally one ``field``) across runs; None when nothing was measured."""
    rows = history[(history["metric"] == metric)]
    rows = rows[rows["field"].isna()] if field is None else rows[rows["field"] == field]
    if rows.empty:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    for i, (source, part) in enumerate(rows.groupby("source", sort=True)):
        part = part.sort_values("run_id")
        values = part["value"] * (100 if percent else 1)
        ax.plot(part["run_id"], values, marker="o", markersize=3, linewidth=1.6, color=PALETTE[i % len(PALETTE)],
                label=source)
    ax.set_xlabel("run")
    ax.set_ylabel("%" if percent else metric)
    if percent:
        ax.set_ylim(-2, 102)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, loc="left", fontsize=10)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg(fig, chart_id, title)


def bar_chart(labels: list[str], values: list[float], *, chart_id: str, title: str, percent: bool = True,
              color: str = PALETTE[0], xlabel: str = "") -> str | None:
    """Horizontal bars, first label on top; None when there is nothing to draw."""
    if not labels:
        return None
    labels, values = labels[:MAX_BARS], values[:MAX_BARS]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(labels) + 0.9))
    shown = [v * 100 for v in values] if percent else list(values)
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, shown, color=color, height=0.6)
    ax.set_yticks(positions, labels=labels, fontsize=8)
    for y, v in zip(positions, shown):
        ax.text(v, y, f" {v:.1f}%" if percent else f" {v:,.0f}", va="center", fontsize=7)
    if percent:
        ax.set_xlim(0, 110)
    ax.set_xlabel(xlabel or ("%" if percent else ""))
    ax.set_title(title, loc="left", fontsize=10)
    return _svg(fig, chart_id, title)


def grouped_bars(frame: pd.DataFrame, *, chart_id: str, title: str) -> str | None:
    """Bars per source (rows) and measure (columns), values 0-1 shown as %."""
    if frame.empty:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    width = 0.8 / max(len(frame.columns), 1)
    for j, col in enumerate(frame.columns):
        xs = [i + j * width for i in range(len(frame))]
        ax.bar(xs, frame[col].fillna(0) * 100, width=width, color=PALETTE[j % len(PALETTE)], label=str(col))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(frame))], labels=list(frame.index), fontsize=8, rotation=20,
                  ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg(fig, chart_id, title)
