"""Evaluation reports: console table, JSON, failure list, recall@k plot, self-contained HTML."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.evaluation.metrics import RANKING_METRICS
from qa.evaluation.results import EvaluationReport

__all__ = [
    "REPORT_FAILURES",
    "TABLE_METRICS",
    "WEB_FAILURES",
    "FailureMarkup",
    "failures_html",
    "failures_text",
    "format_table",
    "metrics_rows",
    "recall_plot_png",
    "recall_points",
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


def _one_line(text: str, n: int, ellipsis: str = "…") -> str:
    """`text` on one line, cut to `n` characters (the last one `ellipsis` when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - len(ellipsis)] + ellipsis


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
        vals = [v for r in report.results if (v := r.metrics.get(m)) is not None]
        if len(vals) > 1:
            best[m] = max(vals) if m in _HIGHER_BETTER else min(vals)
    rows = []
    for r in report.results:
        cells = []
        for m in TABLE_METRICS:
            v = r.metrics.get(m)
            cls = " class='best'" if v is not None and m in best and v == best[m] else ""
            cells.append(f"<td{cls}>{_fmt(m, v)}</td>")
        rows.append(f"<tr><td>{html.escape(r.name)}</td>{''.join(cells)}</tr>")
    return f"<table class='metrics'><tr><th>configuration</th>{head}</tr>{''.join(rows)}</table>"


@dataclass(frozen=True)
class FailureMarkup:
    """The HTML of a failure list: the report file and the web UI style the same content apart.

    Each field is a `str.format` template; the names it may use are listed.
    """

    section: str  # one configuration: open, name, summary, passed, items, more
    summary: str  # failed, total, k
    passed: str  # shown when no question failed
    item: str  # one failing question: qid, question, why, expected, retrieved
    expected: str  # one expected answer: doc, quote (the `quote` template, or "")
    quote: str  # quote
    expected_sep: str
    no_answer: str  # an unanswerable question
    retrieved: str  # one retrieved item: mark, rank, doc, span, text
    relevant_mark: str
    span: str  # start, end
    nothing: str  # nothing retrieved
    more: str  # n
    wrapper: str = "{}"
    open_all: bool = False  # open every section (else only a lone one)
    ellipsis: str = "…"  # ends a cut passage text


REPORT_FAILURES = FailureMarkup(
    section="<details{open}><summary><b>{name}</b>: {summary}</summary>{passed}{items}{more}</details>",
    summary="{failed} failing question(s)",
    passed="",
    item=(
        "<div class='fail'><b>[{qid}]</b> {question} <span class='why'>({why})</span>{expected}"
        "<div>retrieved instead:</div>{retrieved}</div>"
    ),
    expected="<div>expected <span class='doc'>{doc}</span>{quote}</div>",
    quote=": <span class='expected'>{quote}</span>",
    expected_sep="",
    no_answer="<div>expected: no answer (the retriever should abstain)</div>",
    retrieved="<div class='got{mark}'>#{rank} <span class='doc'>{doc}{span}</span> {text}</div>",
    relevant_mark=" rel",
    span=" chars {start}-{end}",
    nothing="<div class='got'>nothing retrieved</div>",
    more="<p>... {n} more in the JSON report.</p>",
)

# The web UI's Evaluate tab: plain tags that Gradio's own styles render.
WEB_FAILURES = FailureMarkup(
    section="<details{open}><summary><b>{name}</b>: {summary}</summary>{passed}{items}{more}</details>",
    summary="{failed} of {total} questions failed at k={k}",
    passed="<p>Every question passed.</p>",
    item=(
        "<div class='qa-eval-fail'><b>[{qid}]</b> {question} <span class='qa-eval-why'>({why})</span>"
        "<div>expected: {expected}</div><div>retrieved instead:</div><ol>{retrieved}</ol></div>"
    ),
    expected="<code>{doc}</code>{quote}",
    quote=": <mark>{quote}</mark>",
    expected_sep="<br>",
    no_answer="<i>no answer: the retriever should abstain</i>",
    retrieved="<li>{mark}<code>{doc}{span}</code> {text}</li>",
    relevant_mark="✅ ",
    span=" {start}-{end}",
    nothing="<li><i>nothing retrieved</i></li>",
    more="<p>… {n} more in the downloadable report.</p>",
    wrapper="<div id='qa-eval-failures'>{}</div>",
    open_all=True,
    ellipsis="",
)


def failures_html(
    report: EvaluationReport, *, limit: int = FAILURES_SHOWN, markup: FailureMarkup = REPORT_FAILURES
) -> str:
    """The failing questions of each configuration as HTML: question, expected quotes, what came instead.

    Args:
        report: the evaluation report.
        limit: failing questions shown per configuration.
        markup: the HTML templates (`REPORT_FAILURES` for the report file, `WEB_FAILURES` for the UI).
    """
    esc = html.escape
    parts = []
    for r in report.results:
        failures = r.failures(report.k)
        items = []
        for q, why in failures[:limit]:
            expected = markup.expected_sep.join(
                markup.expected.format(
                    doc=esc(e["doc"]),
                    quote=markup.quote.format(quote=esc(e["quote"])) if "quote" in e else "",
                )
                for e in q.expected
            )
            retrieved = "".join(
                markup.retrieved.format(
                    mark=markup.relevant_mark if it.relevant else "",
                    rank=it.rank,
                    doc=esc(it.doc),
                    span=markup.span.format(start=it.start, end=it.end) if it.start is not None else "",
                    text=esc(_one_line(it.text, 300, markup.ellipsis)),
                )
                for it in q.retrieved
            )
            items.append(
                markup.item.format(
                    qid=esc(q.qid),
                    question=esc(q.question),
                    why=esc(why),
                    expected=expected or markup.no_answer,
                    retrieved=retrieved or markup.nothing,
                )
            )
        parts.append(
            markup.section.format(
                open=" open" if markup.open_all or len(report.results) == 1 else "",
                name=esc(r.name),
                summary=markup.summary.format(failed=len(failures), total=len(r.questions), k=report.k),
                passed="" if failures else markup.passed,
                items="".join(items),
                more=markup.more.format(n=len(failures) - limit) if len(failures) > limit else "",
            )
        )
    return markup.wrapper.format("".join(parts))


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
{failures_html(report)}
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
