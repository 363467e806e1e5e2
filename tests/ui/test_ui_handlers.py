"""The web app's handlers, called directly (fake embedder, real seeds)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from _ui_setup import seeds_retriever_and_collection

from qa.errors import QAError
from qa.ui import SEED_EXAMPLES, UIHandlers, examples_for


@pytest.fixture(scope="module")
def seeds_setup(tmp_path_factory: pytest.TempPathFactory):
    return seeds_retriever_and_collection(tmp_path_factory.mktemp("ui"))


@pytest.fixture
def ui(seeds_setup) -> UIHandlers:
    retriever, collection = seeds_setup
    return UIHandlers(retriever, collection)


def test_ask_keeps_the_session_history(ui: UIHandlers) -> None:
    messages, views, box = ui.ask("How many US soldiers died in May?", [], 3, "bm25", False)
    assert box == "" and len(views) == 1 and views[0].k == 3 and views[0].mode == "bm25"
    assert "qa-signals" not in messages[1]["content"]
    messages, views, _ = ui.ask("Who was nominated prime minister?", views, 2, "hybrid", True)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "How many US soldiers died in May?"
    assert "qa-ref-1-1" in messages[1]["content"] and "qa-ref-2-1" in messages[3]["content"]
    # The scores toggle applies to every answer of the session.
    assert "qa-signals" in messages[1]["content"] and "qa-signals" in messages[3]["content"]
    assert all("qa-signals" not in m["content"] for m in ui.messages(views, False))
    with pytest.raises(QAError, match="type a question"):
        ui.ask("   ", views, 3, "bm25", False)
    with pytest.raises(QAError, match="unknown mode"):
        ui.ask("q", views, 3, "sparse", False)
    with pytest.raises(QAError, match="k=99"):
        ui.ask("q", views, 99, "bm25", False)


def test_user_question_is_escaped(ui: UIHandlers) -> None:
    messages, _, _ = ui.ask("<img src=x onerror=alert(1)> soldiers", [], 1, "bm25", False)
    assert messages[0]["content"].startswith("&lt;img")


def test_view_opens_the_cited_passage_in_its_document(ui: UIHandlers) -> None:
    _, views, _ = ui.ask("How many US soldiers died in May?", [], 3, "bm25", False)
    hit = views[0].answer.hits[1]
    out = ui.view("1-2:1712345", views)
    doc = ui.retriever.index.documents[hit.passage.doc_id]
    assert f"chars {hit.passage.start}-{hit.passage.end}" in out
    assert "qa-anchor" in out and "qa-passage" in out
    assert len(out) > len(doc.text)  # the whole document is shown
    assert "Click a citation" in ui.view("", views)
    assert "no longer in the conversation" in ui.view("9-1:1", views)
    assert "Click a citation" in ui.view("1-1');alert(1)//", views)


def test_export_last_answer_or_whole_conversation(ui: UIHandlers) -> None:
    _, views, _ = ui.ask("How many US soldiers died in May?", [], 2, "bm25", False)
    _, views, _ = ui.ask("Who was nominated prime minister?", views, 2, "bm25", False)
    last, path = ui.export(views, "Last answer")
    assert last.startswith("## 2. Who was nominated prime minister?")
    assert Path(path).read_text(encoding="utf-8") == last
    whole, path = ui.export(views, "Whole conversation")
    assert "## 1. How many US soldiers" in whole and "## 2. Who was" in whole
    assert views[0].answer.hits[0].label() in whole
    assert ui.export([], "Last answer") == ("", None)


def test_documents_table_and_examples(ui: UIHandlers) -> None:
    rows = ui.documents_table()
    assert [r[0] for r in rows] == sorted(ui.retriever.index.documents)
    manifest = ui.retriever.index.manifest.documents
    assert all(r[2] == manifest[r[0]].passages for r in rows)
    assert examples_for(ui.retriever) == [q for qs in SEED_EXAMPLES.values() for q in qs]
    assert examples_for(ui.retriever, {"other.txt": ["q"]}) == []


def test_upload_and_remove_through_the_handlers(seeds_setup, tmp_path: Path) -> None:
    retriever, collection = seeds_setup
    ui = UIHandlers(retriever, collection)
    note = tmp_path / "otters.txt"
    note.write_text(
        "Otters\n\nSea otters hold hands while they sleep so they do not drift apart.\n", encoding="utf-8"
    )
    message = ui.upload([str(note)])
    assert "added otters.txt" in message
    assert "otters.txt" in ui.document_ids()
    _, views, _ = ui.ask("why do otters hold hands", [], 1, "bm25", False)
    assert views[0].answer.hits[0].passage.doc_id == "otters.txt"
    bad = tmp_path / "image.png"
    bad.write_bytes(b"\x89PNG")
    with pytest.raises(QAError, match="unsupported file type"):
        ui.upload([str(bad)])
    assert "removed otters.txt" in ui.remove(["otters.txt"])
    assert "otters.txt" not in ui.document_ids()


def test_view_refuses_a_passage_whose_document_changed(seeds_setup) -> None:
    retriever, collection = seeds_setup
    ui = UIHandlers(retriever, collection)
    _, views, _ = ui.ask("How many US soldiers died in May?", [], 1, "bm25", False)
    hit = views[0].answer.hits[0]
    shifted = replace(hit, passage=replace(hit.passage, start=hit.passage.start + 1, end=hit.passage.end + 1))
    changed = [replace(views[0], answer=replace(views[0].answer, hits=[shifted]))]
    assert "changed since this answer" in ui.view("1-1", changed)
    gone = replace(hit, passage=replace(hit.passage, doc_id="gone.txt"))
    removed = [replace(views[0], answer=replace(views[0].answer, hits=[gone]))]
    assert "gone.txt was removed from the index" in ui.view("1-1", removed)


def test_documents_table_formats_sizes_and_dates(ui: UIHandlers) -> None:
    rows = ui.documents_table()
    assert all(r[3].endswith((" B", " KB", " MB")) for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", r[4]) for r in rows)
    assert "qa-stats" in ui.stats() and f"{len(rows)} documents" in ui.stats()


def test_follow_up_is_read_with_the_previous_question_and_can_be_read_alone(ui: UIHandlers) -> None:
    _, views, _ = ui.ask("How many US soldiers died in Iraq in April?", [], 3, "hybrid", False)
    messages, views, _ = ui.ask("and in May?", views, 3, "hybrid", False)
    assert views[1].answer.read_with == ("How many US soldiers died in Iraq in April?",)
    assert (
        "read with: <span class='qa-read-with'>How many US soldiers died in Iraq in April?"
        in messages[3]["content"]
    )
    assert "qa-ctx-2" in messages[3]["content"] and "qa-context" not in messages[1]["content"]
    messages, views = ui.toggle_context("2:123", views, False)
    assert views[1].context is False and views[1].answer.read_with is None
    assert "read alone" in messages[3]["content"] and "Read with the conversation" in messages[3]["content"]
    messages, views = ui.toggle_context("2:456", views, False)
    assert views[1].context is True and views[1].answer.read_with
    with pytest.raises(QAError, match="no longer in the conversation"):
        ui.toggle_context("9:1", views, False)
