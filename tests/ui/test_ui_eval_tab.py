"""The Evaluate tab: its handler called directly, and its components built inside Blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.ui.eval_tab import EvalTab, build_eval_tab

CSV = (
    "id,question,doc,quote\n"
    "q1,what makes a rocket move,rockets.md,burns propellant to produce thrust\n"
    "q2,purring cat,cats.txt,A cat purrs when it is content.\n"
    "q3,zzz unrelated qqq,sub/bread.txt,Dough rises as the yeast ferments.\n"
    "u1,Who painted the Mona Lisa?,,\n"
)


@pytest.fixture
def tab(corpus: Path, tmp_path: Path, fake_embedder) -> EvalTab:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    return EvalTab(lambda: retriever, out_dir=tmp_path / "eval-out")


def test_run_shows_metrics_plot_failures_and_report_files(tab: EvalTab, tmp_path: Path) -> None:
    path = tmp_path / "qs.csv"
    path.write_text(CSV, encoding="utf-8")
    seen: list[tuple[float, str]] = []
    out = tab.run(str(path), ["bm25", "hybrid"], 3, False, progress=lambda f, what: seen.append((f, what)))
    assert "Evaluated **4** questions (3 answerable, 1 unanswerable)" in out.status
    assert [row[0] for row in out.rows] == ["bm25", "hybrid"]
    assert Path(out.plot).read_bytes()[:4] == b"\x89PNG"
    assert "[q3]" in out.failures and "Dough rises as the yeast ferments." in out.failures
    # The unanswerable u1 is listed exactly when some configuration did not abstain on it.
    u1_answered = any(q.answered for r in out.report.results for q in r.questions if q.qid == "u1")
    assert ("should abstain" in out.failures) == u1_answered
    assert [Path(f).suffix for f in out.files] == [".html", ".json"]
    assert seen and seen[-1][0] == pytest.approx(1.0) and seen[-1][1] == "hybrid: 4/4 questions"


def test_errors_become_a_status_message(tab: EvalTab, tmp_path: Path) -> None:
    assert "Upload a question set" in tab.run(None, ["bm25"]).status
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "b1", "question": "Q?", "answers": [{"doc": "cats.txt", "quote": "dogs"}]}\n')
    out = tab.run(str(bad), ["bm25"])
    assert out.status.startswith("**Not evaluated:**") and "question b1" in out.status and out.rows == []
    # Lenient skips the quote, which leaves no question at all to evaluate here.
    ok = tab.run(str(bad), ["bm25"], 10, True)
    assert ok.status.startswith("**Not evaluated:**") and "no question left to evaluate" in ok.status
    assert "unknown configuration" in tab.run(str(bad), ["nope"]).status
    assert "out of range" in tab.run(str(bad), ["bm25"], 0).status


def test_build_eval_tab_creates_components_inside_blocks(tab: EvalTab) -> None:
    import gradio as gr

    retriever = tab.get_retriever()
    with gr.Blocks() as app:
        with gr.Tab("Evaluate"):
            build_eval_tab(lambda: retriever)
    ids = {getattr(b, "elem_id", None) for b in app.blocks.values()}
    assert {"qa-eval-file", "qa-eval-configs", "qa-eval-run", "qa-eval-table", "qa-eval-plot"} <= ids
    configs = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "qa-eval-configs")
    assert [c[1] for c in configs.choices][:3] == ["dense", "bm25", "hybrid"]
