"""Abstention: threshold choice by hand, storage, and the calibrated cut-off in answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.abstention import Calibration, calibrate, choose_threshold, load_calibration, save_calibration
from qa.errors import ConfigError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever


def test_threshold_sits_in_the_gap() -> None:
    # 10 answerable scores, 2% allowed -> m = 0 -> u = lowest answerable = 0.40;
    # highest unanswerable below it = 0.20 -> midpoint 0.30.
    pos = [0.4, 0.5, 0.6, 0.7, 0.45, 0.55, 0.65, 0.42, 0.48, 0.9]
    assert choose_threshold(pos, [0.1, 0.2, 0.8]) == pytest.approx(0.30)
    # 20% allowed -> m = 2 -> u = third lowest = 0.45; unanswerable below: 0.2 -> 0.325.
    assert choose_threshold(pos, [0.1, 0.2], max_false_abstention=0.2) == pytest.approx(0.325)
    # No unanswerable scores: 0.05 below u.
    assert choose_threshold(pos, []) == pytest.approx(0.375)


def test_threshold_needs_answerable_questions() -> None:
    with pytest.raises(ConfigError, match="answerable"):
        choose_threshold([], [0.1])
    with pytest.raises(ConfigError, match="must be in"):
        choose_threshold([0.5], [], max_false_abstention=1.5)


def test_calibration_round_trip_and_model_check(tmp_path: Path) -> None:
    cal = Calibration(
        threshold=0.33,
        model="m1",
        n_answerable=10,
        n_unanswerable=2,
        false_abstention=0.0,
        abstention=1.0,
        max_false_abstention=0.02,
        source="q.jsonl",
        created_at="now",
    )
    save_calibration(tmp_path, cal)
    assert load_calibration(tmp_path, model="m1") == cal
    assert load_calibration(tmp_path, model="other") is None
    assert load_calibration(tmp_path, model="m1", signal="best sentence cosine") == cal
    # A threshold for another confidence scale (e.g. separately embedded sentences) is not used.
    assert load_calibration(tmp_path, model="m1", signal="best sentence cosine (late)") is None
    (tmp_path / "calibration.json").write_text("{broken", encoding="utf-8")
    assert load_calibration(tmp_path, model="m1") is None


def test_answers_abstain_below_the_threshold(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    index = Index.load(tmp_path / "idx")
    strict = Retriever(index, embedder=fake_embedder, threshold=0.99)
    lenient = Retriever(index, embedder=fake_embedder, threshold=-1.0)
    q = "Orbital velocity near Earth"
    a, b = strict.ask(q, k=2), lenient.ask(q, k=2)
    assert a.confidence == b.confidence and a.confidence is not None
    assert not a.answered and b.answered
    # Abstaining still returns the closest passages.
    assert [h.passage_id for h in a.hits] == [h.passage_id for h in b.hits]
    # The confidence is the best sentence cosine among the returned passages.
    assert a.confidence == pytest.approx(max(h.highlights[0].score for h in b.hits))


def test_retriever_open_uses_the_stored_calibration(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    save_calibration(
        tmp_path / "idx",
        Calibration(
            threshold=0.123,
            model="fake-hash-embedder",
            n_answerable=1,
            n_unanswerable=0,
            false_abstention=0.0,
            abstention=None,
            max_false_abstention=0.02,
            source="x",
            created_at="now",
            signal="best sentence cosine (late)",
        ),
    )
    r = Retriever.open(tmp_path / "idx", embedder=fake_embedder)
    assert r.threshold == 0.123


@pytest.mark.e2e
def test_calibrate_command_on_seeds(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    import shutil

    from qa.cli import main

    idx = tmp_path / "idx"
    shutil.copytree(seed_index_dir, idx)
    qfile = Path(__file__).resolve().parents[1] / "eval" / "seed_questions.jsonl"
    assert main(["calibrate", str(qfile), "--index", str(idx)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("threshold ") and "stored in" in out
    stored = json.loads((idx / "calibration.json").read_text())
    assert stored["n_answerable"] == 93 and stored["n_unanswerable"] == 14
    assert stored["false_abstention"] <= 0.02
    r = Retriever.open(idx)
    assert r.threshold == stored["threshold"]
    # An off-topic question abstains; a seed question does not.
    assert not r.ask("What is the best way to store fresh basil?").answered
    assert r.ask("How many US soldiers died in May?").answered


def test_calibrate_separates_answerable_from_unanswerable(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    from qa.evaluation.questions import ExpectedAnswer, Question

    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    questions = [
        Question("a1", "a cat purrs when it is content", (ExpectedAnswer("cats.txt", "A cat purrs"),)),
        Question("a2", "rocket engine burns propellant", (ExpectedAnswer("rockets.md", "burns propellant"),)),
        Question("u1", "zzz qqq xyzzy"),
    ]
    cal = calibrate(retriever, questions, k=2, max_false_abstention=0.0, source="set.jsonl")
    answers = retriever.ask_many([q.question for q in questions], k=2, highlight=False)
    pos = [a.confidence for a in answers[:2]]
    neg = [a.confidence for a in answers[2:]]
    assert cal.threshold == choose_threshold(pos, neg, max_false_abstention=0.0)
    assert (cal.n_answerable, cal.n_unanswerable) == (2, 1)
    assert cal.false_abstention == 0.0 and cal.model == retriever.index.model_name
    assert cal.source == "set.jsonl" and cal.created_at.endswith("+00:00")
    assert cal.signal == "best sentence cosine (late)"
    with pytest.raises(ConfigError, match="answerable"):
        calibrate(retriever, questions[2:])


def test_default_threshold_abstains_off_topic_and_answers_held_out_seeds(seed_retriever) -> None:
    """At the shipped default (no calibration file): every held-out generic off-topic
    question abstains on the seeds, no held-out (even-id) answerable seed question does."""
    from qa.evaluation.questions import read_question_set
    from qa.retrieval.retriever import DEFAULT_THRESHOLD

    assert seed_retriever.threshold == DEFAULT_THRESHOLD
    root = Path(__file__).resolve().parents[1] / "eval"
    offtopic = [q.question for q in read_question_set(root / "offtopic_heldout.jsonl")]
    held_out = [
        q.question
        for q in read_question_set(root / "seed_questions.jsonl")
        if q.answers and int(q.qid[1:]) % 2 == 0
    ]
    assert len(offtopic) == 30 and len(held_out) == 46
    off_answers = seed_retriever.ask_many(offtopic)
    assert [a.question for a in off_answers if a.answered] == []
    on_answers = seed_retriever.ask_many(held_out)
    assert [a.question for a in on_answers if not a.answered] == []
