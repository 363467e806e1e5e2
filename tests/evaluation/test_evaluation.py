"""Evaluation: the relevance rule, configurations, and end-to-end runs on the real seeds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from qa.errors import ConfigError, InputError
from qa.evaluation import (
    CONFIGURATIONS,
    build_qrels,
    configure,
    evaluate,
    is_relevant,
    parse_configurations,
    register_configuration,
)
from qa.evaluation.metrics import RANKING_METRICS
from qa.evaluation.questions import ExpectedAnswer, Question, read_question_set, validate_quotes
from qa.types import Passage

ROOT = Path(__file__).resolve().parents[2]
SEED_QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
REPORT_KEYS = {
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "recall@100",
    "mrr@10",
    "ndcg@10",
    "hit_rate",
    "abstention_rate",
    "false_abstention_rate",
    "citation_exactness",
    "latency_p50_ms",
    "latency_p95_ms",
}


def _passage(pid: str, start: int, end: int, doc: str = "d.txt") -> Passage:
    return Passage(pid, doc, doc, "x" * (end - start), start, end, 1, 1)


def test_relevance_needs_half_of_the_quote_from_the_same_document() -> None:
    quote = ExpectedAnswer(doc="d.txt", quote="q" * 10, spans=((100, 110),))
    assert is_relevant(_passage("all", 50, 200), quote)
    assert is_relevant(_passage("half", 105, 300), quote)  # covers 5 of 10 characters
    assert not is_relevant(_passage("less", 106, 300), quote)  # covers 4 of 10
    assert not is_relevant(_passage("other-doc", 50, 200, doc="e.txt"), quote)
    # Any occurrence of the quote counts.
    twice = ExpectedAnswer(doc="d.txt", quote="q" * 10, spans=((100, 110), (500, 510)))
    assert is_relevant(_passage("second", 495, 520), twice)


def test_qrels_are_passage_level_and_skip_unanswerable_questions() -> None:
    passages = [_passage("p0", 0, 100), _passage("p1", 90, 200), _passage("p2", 200, 300)]
    questions = [
        Question("a", "?", (ExpectedAnswer("d.txt", "q" * 20, ((92, 112),)),)),  # p1 only (p0 covers 8/20)
        Question("b", "?", (ExpectedAnswer("d.txt", "q" * 10, ((92, 98),)),)),  # in the overlap: p0 and p1
        Question("u", "?", ()),
    ]
    assert build_qrels(questions, passages) == {"a": {"p1": 1}, "b": {"p0": 1, "p1": 1}}


def test_configuration_registry_is_extensible_and_rejects_unknown_names() -> None:
    assert [c.name for c in parse_configurations("dense, bm25,hybrid,dense")] == ["dense", "bm25", "hybrid"]
    with pytest.raises(
        ConfigError,
        match=r"unknown configuration 'rerank'; choose among \['bm25', 'dense', 'hybrid', 'hybrid-coverage', 'hybrid-rrf'",
    ):
        parse_configurations("rerank")
    register_configuration("hybrid-deep", mode="hybrid", depth=300)
    try:
        (config,) = parse_configurations("hybrid-deep")
        assert config.options == {"mode": "hybrid", "depth": 300}
    finally:
        CONFIGURATIONS.pop("hybrid-deep")


def test_configure_shares_index_and_model_and_rejects_bad_options(seed_retriever) -> None:
    (config,) = parse_configurations("bm25")
    r = configure(seed_retriever, config)
    assert r.index is seed_retriever.index and r.mode.value == "bm25"
    register_configuration("broken", no_such_option=1)
    try:
        with pytest.raises(ConfigError, match="configuration 'broken' has an unknown option"):
            configure(seed_retriever, parse_configurations("broken")[0])
    finally:
        CONFIGURATIONS.pop("broken")


# -- end to end: real model, real FAISS, real seeds, the real question set -------------


@pytest.fixture(scope="module")
def seed_report(seed_retriever):
    questions = read_question_set(SEED_QUESTIONS)
    return evaluate(questions, seed_retriever, configurations="bm25,hybrid", source=str(SEED_QUESTIONS))


def test_seed_question_set_end_to_end(seed_report) -> None:
    assert seed_report.counts["answerable"] == 93 and seed_report.counts["unanswerable"] == 14
    metrics = seed_report.metrics()
    assert set(metrics) == {"bm25", "hybrid"}
    for name, m in metrics.items():
        assert set(m) == REPORT_KEYS, name
        assert m["citation_exactness"] == 1.0
        assert all(0.0 <= m[k] <= 1.0 for k in RANKING_METRICS)
        assert m["recall@1"] <= m["recall@3"] <= m["recall@5"] <= m["recall@10"] <= m["recall@100"]
        assert 0 < m["latency_p50_ms"] <= m["latency_p95_ms"]
    # Hybrid retrieval finds the answering passage in the top 10 for most questions
    # (measured 0.96; a regression in chunking, fusion or the relevance rule drops it).
    assert metrics["hybrid"]["recall@10"] >= 0.85
    assert metrics["hybrid"]["mrr@10"] >= 0.6
    # Every unanswerable question the retriever did not abstain on is a failure.
    hybrid = seed_report.results[1]
    not_abstained = [q for q, why in hybrid.failures(10) if why == "not abstained"]
    assert len(not_abstained) == round(14 * (1 - metrics["hybrid"]["abstention_rate"]))
    false_abstentions = [q for q, why in hybrid.failures(10) if why == "false abstention"]
    assert len(false_abstentions) == round(93 * metrics["hybrid"]["false_abstention_rate"])


def test_failures_show_question_expected_quote_and_what_was_retrieved(seed_report) -> None:
    data = seed_report.to_dict()
    failures = data["configurations"]["bm25"]["failures"]
    missed = [f for f in failures if f["answerable"]]
    assert missed, "BM25 misses some paraphrased questions"
    f = missed[0]
    assert f["question"] and f["expected"][0]["quote"]
    assert f["retrieved"] and not any(r["relevant"] for r in f["retrieved"])
    assert f["first_relevant_rank"] is None or f["first_relevant_rank"] > data["k"]
    json.dumps(data)  # serialisable


def test_csv_and_jsonl_inputs_give_the_same_results(seed_retriever, tmp_path: Path) -> None:
    questions = read_question_set(SEED_QUESTIONS)
    subset = [q for q in questions if len(q.answers) != 1][:4] + [
        q for q in questions if len(q.answers) == 1
    ][:8]
    jsonl = tmp_path / "subset.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps(
                {
                    "id": q.qid,
                    "question": q.question,
                    "answers": [{"doc": a.doc, "quote": a.quote} for a in q.answers],
                }
            )
            + "\n"
            for q in subset
        ),
        encoding="utf-8",
    )
    csv_path = tmp_path / "subset.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "question", "doc", "quote"])
        for q in subset:
            for a in q.answers or [None]:
                w.writerow([q.qid, q.question, a.doc if a else "", a.quote if a else ""])
    from_jsonl = evaluate(read_question_set(jsonl), seed_retriever, configurations="bm25")
    from_csv = evaluate(read_question_set(csv_path), seed_retriever, configurations="bm25")
    assert from_csv.counts == from_jsonl.counts
    strip = lambda m: {k: v for k, v in m.items() if not k.startswith("latency")}  # noqa: E731
    assert strip(from_csv.metrics()["bm25"]) == strip(from_jsonl.metrics()["bm25"])


def test_broken_quote_fails_with_question_and_document_unless_lenient(seed_retriever) -> None:
    doc = next(iter(seed_retriever.index.documents))
    questions = [
        Question("bad1", "Where is it?", (ExpectedAnswer(doc, "this sentence is not in the article"),)),
        Question(
            "ok", "Who was nominated?", (ExpectedAnswer(doc, seed_retriever.index.documents[doc].text[0:40]),)
        ),
    ]
    with pytest.raises(InputError, match=f"question bad1: quote .* is not in document '{doc}'"):
        evaluate(questions, seed_retriever, configurations="bm25")
    report = evaluate(questions, seed_retriever, configurations="bm25", lenient=True)
    assert report.counts["questions"] == 1 and report.counts["skipped"] == 1
    assert len(validate_quotes(questions, seed_retriever.index.documents, lenient=True)) == 1


def test_cli_eval_json_and_reports(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    from qa.cli import main

    questions = tmp_path / "few.jsonl"
    lines = SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions.write_text("\n".join(lines[:6] + lines[-2:]) + "\n", encoding="utf-8")
    out_dir = tmp_path / "reports"
    html = tmp_path / "r.html"
    code = main(
        [
            "eval",
            str(questions),
            "--index",
            str(seed_index_dir),
            "--corpus",
            str(ROOT / "seeds"),
            "--compare",
            "bm25,hybrid",
            "--json",
            "--out-dir",
            str(out_dir),
            "--html",
            str(html),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["metrics"]) == {"bm25", "hybrid"}
    assert set(data["metrics"]["hybrid"]) == REPORT_KEYS
    assert data["counts"]["unanswerable"] == 2
    assert {p.name for p in out_dir.iterdir()} == {"few.json", "few.txt", "few-recall.png", "few.html"}
    assert (out_dir / "few-recall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in text and "ndcg@10" in text


def test_cli_eval_reports_a_missing_quote_as_an_error(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    from qa.cli import main

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,question,doc,quote\nz1,Q?,000_39ae44cc0e79be58.txt,no such words here\n", encoding="utf-8"
    )
    code = main(["eval", str(bad), "--index", str(seed_index_dir), "--compare", "bm25"])
    assert code == 1
    assert "question z1: quote 'no such words here' is not in document '000_39ae44cc0e79be58.txt'" in (
        capsys.readouterr().err
    )
