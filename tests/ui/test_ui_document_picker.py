"""The Ask tab's document picker: it lists the indexed documents and limits the search to the picked ones
(fake embedder, real seeds)."""

from __future__ import annotations

import shutil

import pytest

from conftest import SEEDS, FakeEmbedder
from qa.errors import QAError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.ui import UIHandlers, build_app

DOC_A = "000_39ae44cc0e79be58.txt"
DOC_B = "004_1d47129261bda866.txt"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> UIHandlers:
    root = tmp_path_factory.mktemp("ui-picker")
    shutil.copytree(SEEDS, root / "corpus")
    embedder = FakeEmbedder()
    build_index(root / "corpus", root / "index", embedder=embedder)
    return UIHandlers(Retriever(Index.load(root / "index"), embedder=embedder, threshold=None))


def test_picker_offers_every_indexed_document(ui: UIHandlers) -> None:
    app = build_app(ui.retriever)
    picker = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "qa-filter-docs")
    assert picker.multiselect is True and picker.value == []
    assert [c[1] for c in picker.choices] == sorted(ui.retriever.index.documents)


@pytest.mark.parametrize("picked", [[DOC_A], [DOC_B], [DOC_A, DOC_B]])
def test_picked_documents_limit_the_passages_and_k_still_holds(ui: UIHandlers, picked: list[str]) -> None:
    _, views, _ = ui.ask("soldiers killed in Iraq", [], 3, "hybrid", False, True, picked)
    hits = views[-1].answer.hits
    assert len(hits) == 3 and {h.passage.doc_id for h in hits} <= set(picked)


def test_no_pick_searches_everything(ui: UIHandlers) -> None:
    answer, _ = ui.answer("soldiers killed in Iraq", k=20, mode="bm25", documents=[])
    assert {h.passage.doc_id for h in answer.hits} == {DOC_A, DOC_B}


def test_a_document_no_longer_indexed_is_a_clear_error(ui: UIHandlers) -> None:
    with pytest.raises(QAError, match=r"unknown document id\(s\) \['gone.txt'\]"):
        ui.ask("soldiers", [], 3, "hybrid", False, True, ["gone.txt"])
