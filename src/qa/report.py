"""Evaluation reports: console table, JSON, failure list, recall@k plot, self-contained HTML."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.evaluation import EvaluationReport
from qa.metrics import RANKING_METRICS

__all__ = [
    "TABLE_METRICS",
    "failures_text",
    "format_table",
    "metrics_rows",
    "recall_plot_png",
    "render_html",
    "report_json",
    "write_reports",
]

logger = logging.getLogger(__name__)

TABLE_METRICS: tuple[str, ...] = (
    *RANKING_METRICS,
    "hit_rate",
    "abstention_rate",
    "false_abstention_rate",
    "citation_exactness",
    "latency_p50_ms",
    "latency_p95_ms",
)
_SHORT = {
    "abstention_rate": "abstain",
    "false_abstention_rate": "false_abst",
    "citation_exactness": "cite_exact",
    "latency_p50_ms": "p50_ms",
    "latency_p95_ms": "p95_ms",
}
_RECALL = re.compile(r"^recall@(\d+)$")
# Failing questions listed per configuration in the console and HTML (the JSON has all).
FAILURES_SHOWN = 50


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.endswith("_ms"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def metrics_rows(report: EvaluationReport, metrics: Sequence[str] = TABLE_METRICS) -> list[list[str]]:
    """One row per configuration: its name, then each metric formatted."""
    return [[r.name] + [_fmt(m, r.metrics.get(m)) for m in metrics] for r in report.results]


def format_table(report: EvaluationReport, metrics: Sequence[str] = TABLE_METRICS) -> str:
    """A plain-text table: configurations as rows, metrics as columns."""
    header = ["config"] + [_SHORT.get(m, m) for m in metrics]
    rows = metrics_rows(report, metrics)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    c = report.counts
    head = (
        f"{report.source}: {c.get('questions', 0)} questions ({c.get('answerable', 0)} answerable, "
        f"{c.get('unanswerable', 0)} unanswerable), {report.level}-level relevance, "
        f"hit rate/failures at k={report.k}"
    )
    return head + "\n" + "\n".join(lines)


def report_json(report: EvaluationReport) -> str:
    """The JSON report (see `EvaluationReport.to_dict`)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=1)


def failures_text(report: EvaluationReport, *, limit: int = 10) -> str:
    """The failing questions of each configuration: question, expected quote, what came instead."""
    out: list[str] = []
    for r in report.results:
        failures = r.failures(report.k)
        out.append(f"== {r.name}: {len(failures)} failing question(s)")
        for q, why in failures[:limit]:
            out.append(f"- [{q.qid}] {q.question}  ({why})")
            for e in q.expected:
                out.append(
                    f"    expected: {e['doc']}"
                    + (f'  "{_one_line(e["quote"], 160)}"' if "quote" in e else "")
                )
            for item in q.retrieved:
                mark = "*" if item.relevant else " "
                out.append(f'   {mark}got #{item.rank}: {item.doc}  "{_one_line(item.text, 160)}"')
        if len(failures) > limit:
            out.append(f"  ... {len(failures) - limit} more in the JSON/HTML report")
    return "\n".join(out)


def _one_line(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def recall_points(report: EvaluationReport) -> dict[str, list[tuple[int, float]]]:
    """`{configuration: [(k, recall@k), ...]}` for every recall cut-off in the metrics."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in report.results:
        pts = [
            (int(m.group(1)), v)
            for key, v in r.metrics.items()
            if (m := _RECALL.match(key)) and v is not None
        ]
        out[r.name] = sorted(pts)
    return out


def recall_plot_png(report: EvaluationReport) -> bytes:
    """A PNG line plot of recall@k against k (log scale), one line per configuration."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        for name, pts in recall_points(report).items():
            if pts:
                ks, vs = zip(*pts)
                ax.plot(ks, vs, marker="o", label=name)
        ax.set_xscale("log")
        ks_all = sorted({k for pts in recall_points(report).values() for k, _ in pts})
        if ks_all:
            ax.set_xticks(ks_all)
            ax.set_xticklabels([str(k) for k in ks_all])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("k (passages)" if report.level == "passage" else "k (documents)")
        ax.set_ylabel("recall@k")
        ax.set_title(f"recall@k - {Path(report.source.split(' (')[0]).name or 'evaluation'}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 24px auto;
  max-width: 1200px; color: #111827; padding: 0 16px; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 28px; }
.meta { color: #4b5563; font-size: 0.9rem; }
table.metrics { border-collapse: collapse; font-size: 0.85rem; }
table.metrics th, table.metrics td { border: 1px solid #d1d5db; padding: 4px 8px; text-align: right; }
table.metrics th:first-child, table.metrics td:first-child { text-align: left; font-weight: 600; }
table.metrics td.best { background: #dcfce7; font-weight: 600; }
details { margin: 6px 0; } summary { cursor: pointer; }
.fail { border-left: 3px solid #fca5a5; padding: 4px 10px; margin: 8px 0; }
.why { color: #991b1b; font-size: 0.85em; }
.expected { background: #fef9c3; padding: 2px 4px; }
.got { color: #374151; font-size: 0.9em; margin: 2px 0; }
.got.rel { color: #166534; }
.doc { font-family: ui-monospace, Menlo, monospace; font-size: 0.85em; color: #4b5563; }
"""

# Metrics where higher is better (for highlighting the best configuration).
_HIGHER_BETTER = {m for m in TABLE_METRICS if not m.startswith("latency") and m != "false_abstention_rate"}


def _metrics_table_html(report: EvaluationReport) -> str:
    head = "".join(f"<th>{html.escape(m)}</th>" for m in TABLE_METRICS)
    best: dict[str, float] = {}
    for m in TABLE_METRICS:
        vals = [r.metrics.get(m) for r in report.results if r.metrics.get(m) is not None]
        if len(vals) > 1:
            best[m] = max(vals) if m in _HIGHER_BETTER else min(vals)  # type: ignore[type-var]
    rows = []
    for r in report.results:
        cells = []
        for m in TABLE_METRICS:
            v = r.metrics.get(m)
            cls = " class='best'" if v is not None and m in best and v == best[m] else ""
            cells.append(f"<td{cls}>{_fmt(m, v)}</td>")
        rows.append(f"<tr><td>{html.escape(r.name)}</td>{''.join(cells)}</tr>")
    return f"<table class='metrics'><tr><th>configuration</th>{head}</tr>{''.join(rows)}</table>"


def _failures_html(report: EvaluationReport, *, limit: int = FAILURES_SHOWN) -> str:
    parts = []
    for r in report.results:
        failures = r.failures(report.k)
        items = []
        for q, why in failures[:limit]:
            exp = (
                "".join(
                    f"<div>expected <span class='doc'>{html.escape(e['doc'])}</span>"
                    + (f": <span class='expected'>{html.escape(e['quote'])}</span>" if "quote" in e else "")
                    + "</div>"
                    for e in q.expected
                )
                or "<div>expected: no answer (the retriever should abstain)</div>"
            )
            got = (
                "".join(
                    f"<div class='got{' rel' if it.relevant else ''}'>#{it.rank} <span class='doc'>"
                    f"{html.escape(it.doc)}"
                    + (f" chars {it.start}-{it.end}" if it.start is not None else "")
                    + f"</span> {html.escape(_one_line(it.text, 300))}</div>"
                    for it in q.retrieved
                )
                or "<div class='got'>nothing retrieved</div>"
            )
            items.append(
                f"<div class='fail'><b>[{html.escape(q.qid)}]</b> {html.escape(q.question)} "
                f"<span class='why'>({html.escape(why)})</span>{exp}<div>retrieved instead:</div>{got}</div>"
            )
        more = f"<p>... {len(failures) - limit} more in the JSON report.</p>" if len(failures) > limit else ""
        parts.append(
            f"<details{' open' if len(report.results) == 1 else ''}><summary><b>{html.escape(r.name)}</b>: "
            f"{len(failures)} failing question(s)</summary>{''.join(items)}{more}</details>"
        )
    return "".join(parts)


def render_html(report: EvaluationReport, *, png: bytes | None = None, notes: str = "") -> str:
    """A self-contained HTML report: metrics table, recall@k plot (inline PNG), failures, JSON."""
    png = recall_plot_png(report) if png is None else png
    img = base64.b64encode(png).decode("ascii")
    c = report.counts
    idx = report.index
    summary = (
        f"{c.get('questions', 0)} questions ({c.get('answerable', 0)} answerable, "
        f"{c.get('unanswerable', 0)} unanswerable) · {report.level}-level relevance · "
        f"index {html.escape(str(idx.get('path')))}: {idx.get('documents')} documents, "
        f"{idx.get('passages')} passages, model {html.escape(str(idx.get('model')))} · "
        f"hit rate and failures at k={report.k} · {html.escape(report.created_at)}"
    )
    rule = html.escape(report.to_dict()["relevance"])
    data = html.escape(report_json(report))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>qa evaluation - {html.escape(report.source)}</title>
<style>{_CSS}</style></head><body>
<h1>qa evaluation: {html.escape(report.source)}</h1>
<p class="meta">{summary}</p>
<p class="meta">Relevance: {rule}.</p>
{notes}
<h2>Metrics</h2>
{_metrics_table_html(report)}
<h2>Recall@k</h2>
<img alt="recall@k per configuration" src="data:image/png;base64,{img}">
<h2>Failing questions</h2>
{_failures_html(report)}
<h2>Raw report (JSON)</h2>
<details><summary>show</summary><pre>{data}</pre></details>
</body></html>
"""


def write_reports(report: EvaluationReport, out_dir: Path | str, *, stem: str = "report") -> dict[str, Path]:
    """Write `<stem>.json`, `<stem>.txt` (table + failures), `<stem>-recall.png` and `<stem>.html`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = recall_plot_png(report)
    paths: dict[str, Any] = {
        "json": out / f"{stem}.json",
        "txt": out / f"{stem}.txt",
        "png": out / f"{stem}-recall.png",
        "html": out / f"{stem}.html",
    }
    paths["json"].write_text(report_json(report) + "\n", encoding="utf-8")
    paths["txt"].write_text(
        format_table(report) + "\n\n" + failures_text(report, limit=FAILURES_SHOWN) + "\n", encoding="utf-8"
    )
    paths["png"].write_bytes(png)
    paths["html"].write_text(render_html(report, png=png), encoding="utf-8")
    logger.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths
