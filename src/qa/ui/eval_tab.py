"""The web UI's "Evaluate" tab: upload a question set, run configurations, read metrics and failures."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.config import RetrievalMode
from qa.errors import QAError
from qa.evaluation import CONFIGURATIONS, EvaluationReport, evaluate, parse_configurations, read_question_set
from qa.evaluation import report as reports
from qa.evaluation.report import TABLE_METRICS, metrics_rows, recall_plot_png, render_html, report_json
from qa.retrieval import Retriever

__all__ = ["EvalOutcome", "EvalTab", "build_eval_tab"]

logger = logging.getLogger(__name__)

INTRO = """\
Measure how well retrieval finds the right passage. Upload a question set:

- **JSONL**, one question per line: `{"id": "q1", "question": "...", "answers": [{"doc": "file.txt", "quote": "exact text"}]}`;
  `"answers": []` marks a question the documents cannot answer (it tests abstention).
- **CSV** with the header `id,question,doc,quote` (one row per quote; empty doc and quote = unanswerable).

A passage counts as relevant when it comes from the quote's document and covers at least half of the quote.
"""
MAX_K = 50
# Failing questions rendered per configuration (the downloadable reports hold all).
FAILURES_SHOWN = 30


@dataclass(frozen=True)
class EvalOutcome:
    """What one run shows: status line, metrics rows, plot file, failures HTML, report files."""

    status: str
    rows: list[list[str]]
    plot: str | None
    failures: str
    files: list[str]
    report: EvaluationReport | None = None


class EvalTab:
    """The tab's actions as plain methods (testable without a browser).

    Args:
        get_retriever: returns the retriever currently served (it may be swapped).
        out_dir: where report files are written (default: a new temporary folder).
    """

    def __init__(self, get_retriever: Callable[[], Retriever], *, out_dir: Path | None = None) -> None:
        self.get_retriever = get_retriever
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="qa-eval-"))
        self._runs = 0

    @staticmethod
    def configuration_choices() -> list[str]:
        return list(CONFIGURATIONS)

    def run(
        self,
        path: str | Path | None,
        configurations: Sequence[str] | None,
        k: float = 10,
        lenient: bool = False,
        progress: Callable[[float, str], None] | None = None,
    ) -> EvalOutcome:
        """Evaluate the uploaded question set; errors become a status message, not an exception."""
        if not path:
            return EvalOutcome("Upload a question set (.jsonl or .csv) first.", [], None, "", [])
        try:
            k = int(k)
            if not 1 <= k <= MAX_K:
                raise QAError(f"k={k} is out of range; choose 1 to {MAX_K}")
            configs = parse_configurations(list(configurations or []))
            questions = read_question_set(Path(path))
            total = len(questions) * len(configs)
            done_before: dict[str, int] = {}

            def step(name: str, done: int, n: int) -> None:
                done_before[name] = done
                if progress is not None:
                    progress(sum(done_before.values()) / max(total, 1), f"{name}: {done}/{n} questions")

            report = evaluate(
                questions,
                self.get_retriever(),
                configurations=configs,
                k=k,
                lenient=lenient,
                source=Path(path).name,
                progress=step,
            )
        except QAError as exc:
            return EvalOutcome(f"**Not evaluated:** {exc}", [], None, "", [])
        self._runs += 1
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{Path(path).stem}-{self._runs}"
        png = recall_plot_png(report)
        plot = self.out_dir / f"{stem}-recall.png"
        plot.write_bytes(png)
        html_path = self.out_dir / f"{stem}.html"
        html_path.write_text(render_html(report, png=png), encoding="utf-8")
        json_path = self.out_dir / f"{stem}.json"
        json_path.write_text(report_json(report), encoding="utf-8")
        c = report.counts
        skipped = f", {c['skipped']} skipped (quotes not found)" if c.get("skipped") else ""
        status = (
            f"Evaluated **{c['questions']}** questions ({c['answerable']} answerable, "
            f"{c['unanswerable']} unanswerable{skipped}) with {', '.join(r.name for r in report.results)}."
        )
        return EvalOutcome(
            status,
            metrics_rows(report),
            str(plot),
            reports.failures_html(report, limit=FAILURES_SHOWN, markup=reports.WEB_FAILURES),
            [str(html_path), str(json_path)],
            report,
        )


def build_eval_tab(get_retriever: Callable[[], Retriever]) -> None:
    """Create the Evaluate tab's components inside the current Gradio Blocks/Tab context."""
    import gradio as gr

    tab = EvalTab(get_retriever)
    gr.Markdown(INTRO, elem_id="qa-eval-intro")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            upload = gr.File(
                label="Question set (.jsonl or .csv)",
                file_types=[".jsonl", ".csv"],
                type="filepath",
                elem_id="qa-eval-file",
            )
        with gr.Column(scale=3):
            choices = tab.configuration_choices()
            configs = gr.CheckboxGroup(
                choices=choices,
                value=[m.value for m in RetrievalMode if m.value in choices],
                label="Configurations to compare",
                elem_id="qa-eval-configs",
            )
            k = gr.Slider(
                1, MAX_K, value=10, step=1, label="Cut-off k (hit rate, failures)", elem_id="qa-eval-k"
            )
            lenient = gr.Checkbox(value=False, label="Skip quotes that are not found (lenient)")
            run_btn = gr.Button("Run evaluation", variant="primary", elem_id="qa-eval-run")
    status = gr.Markdown("", elem_id="qa-eval-status")
    table = gr.Dataframe(
        headers=["configuration", *TABLE_METRICS],
        value=[],
        interactive=False,
        wrap=True,
        label="Metrics (recall/MRR/nDCG at passage level; latency per question)",
        elem_id="qa-eval-table",
    )
    with gr.Row(equal_height=False):
        plot = gr.Image(label="Recall@k", type="filepath", interactive=False, elem_id="qa-eval-plot")
        files = gr.File(label="Reports (HTML, JSON)", file_count="multiple", interactive=False)
    failures = gr.HTML("", elem_id="qa-eval-failures-box")

    # Gradio injects a progress tracker through this default argument.
    def on_run(path: Any, names: list[str], k_: float, lenient_: bool, progress=gr.Progress()) -> tuple:  # noqa: B008
        outcome = tab.run(path, names, k_, lenient_, progress=lambda f, what: progress(f, desc=what))
        return outcome.status, outcome.rows, outcome.plot, outcome.failures, outcome.files or None

    run_btn.click(
        on_run,
        [upload, configs, k, lenient],
        [status, table, plot, failures, files],
        api_visibility="private",
        concurrency_id="qa-eval",
    )
