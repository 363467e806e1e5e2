"""Reports: console table, failure list, recall@k PNG and the self-contained HTML report."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from qa.evaluation import evaluate
from qa.evaluation.questions import parse_question_set
from qa.evaluation.report import (
    failures_text,
    format_table,
    recall_plot_png,
    recall_points,
    render_html,
    write_reports,
)
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever

QUESTIONS = (
    '{"id": "q1", "question": "what makes a rocket move", "answers": [{"doc": "rockets.md", "quote": "burns propellant to produce thrust"}]}\n'
    '{"id": "q2", "question": "purring cat", "answers": [{"doc": "cats.txt", "quote": "A cat purrs when it is content."}]}\n'
    '{"id": "q3", "question": "zzz unrelated qqq", "answers": [{"doc": "sub/bread.txt", "quote": "Dough rises as the yeast ferments."}]}\n'
    '{"id": "u1", "question": "Who painted the Mona Lisa?", "answers": []}\n'
)


@pytest.fixture
def report(corpus: Path, tmp_path: Path, fake_embedder):
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    questions = parse_question_set(QUESTIONS, fmt="jsonl", name="tiny.jsonl")
    return evaluate(questions, retriever, configurations="bm25,hybrid", k=1, source="tiny.jsonl")


def test_console_table_has_a_row_per_configuration(report) -> None:
    table = format_table(report)
    lines = table.splitlines()
    assert "4 questions (3 answerable, 1 unanswerable)" in lines[0]
    assert lines[1].split()[:3] == ["config", "recall@1", "recall@3"]
    assert [line.split()[0] for line in lines[3:]] == ["bm25", "hybrid"]
    # Printed values are the report's own metrics.
    assert lines[3].split()[1] == f"{report.metrics()['bm25']['recall@1']:.3f}"


def test_failure_list_names_question_expected_quote_and_retrieved(report) -> None:
    text = failures_text(report)
    # q3 shares no word with its answer: BM25 cannot find it; u1 is never abstained on.
    assert "[q3] zzz unrelated qqq" in text
    assert 'expected: sub/bread.txt  "Dough rises as the yeast ferments."' in text
    # The unanswerable u1 fails exactly when the retriever answered it instead of abstaining.
    for r in report.results:
        (u1,) = [q for q in r.questions if q.qid == "u1"]
        assert (u1.failure(report.k) == "not abstained") == u1.answered
    assert ("[u1] Who painted the Mona Lisa?  (not abstained)" in text) == any(
        q.answered for r in report.results for q in r.questions if q.qid == "u1"
    )
    assert "got #1:" in text


def test_recall_plot_is_a_png_with_a_line_per_configuration(report) -> None:
    points = recall_points(report)
    assert set(points) == {"bm25", "hybrid"}
    assert [k for k, _ in points["bm25"]] == [1, 3, 5, 10, 100]
    png = recall_plot_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_html_is_self_contained_and_holds_table_plot_failures_and_json(report) -> None:
    page = render_html(report)
    # No external resources: every src/href is inline.
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    m = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert m and base64.b64decode(m.group(1))[:4] == b"\x89PNG"
    assert "<table class='metrics'>" in page and "ndcg@10" in page
    assert "zzz unrelated qqq" in page and "Dough rises as the yeast ferments." in page
    assert "&quot;recall@100&quot;" in page  # the raw JSON report, escaped


def test_write_reports_writes_four_consistent_files(report, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path / "out", stem="tiny")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["metrics"] == json.loads(json.dumps(report.to_dict()["metrics"]))
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert "[q3]" in paths["txt"].read_text(encoding="utf-8")
    assert paths["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_one_failure_renderer_two_markups(report) -> None:
    from qa.evaluation.report import REPORT_FAILURES, WEB_FAILURES, failures_html

    page = failures_html(report)
    assert page == failures_html(report, markup=REPORT_FAILURES)
    assert "failing question(s)" in page and "<div class='fail'>" in page
    web = failures_html(report, limit=1, markup=WEB_FAILURES)
    assert web.startswith("<div id='qa-eval-failures'>") and web.endswith("</div>")
    assert f"questions failed at k={report.k}" in web and "<details open>" in web
    failing = [r for r in report.results if r.failures(report.k)]
    assert web.count("<div class='qa-eval-fail'>") == len(failing)
