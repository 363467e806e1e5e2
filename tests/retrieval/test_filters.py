"""Filters: normalisation, which documents they allow, errors that list what exists, and
filtering before the top-k in every mode (FakeEmbedder index; exact vs deep store search)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import RetrievalMode
from qa.errors import InputError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Filter, Retriever
from qa.retrieval import candidates as candidates_module
from qa.retrieval.candidates import filtered_dense_candidates
from qa.retrieval.filters import allowed_rows, merge_filters


@pytest.fixture
def index(corpus: Path, tmp_path: Path, fake_embedder) -> Index:
    (corpus / "sub" / "deeper").mkdir()
    (corpus / "sub" / "deeper" / "yeast.md").write_text(
        "# Yeast and bread\n\nYeast is a fungus. Bakers use yeast to make bread rise.\n", encoding="utf-8"
    )
    (corpus / "subway.txt").write_text("Subway trains\n\nTrains run under the city.\n", encoding="utf-8")
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    return Index.load(tmp_path / "idx")


@pytest.fixture
def retriever(index: Index, fake_embedder) -> Retriever:
    return Retriever(index, embedder=fake_embedder, threshold=None)


def test_of_normalises_folders_types_and_title_words() -> None:
    f = Filter.of(
        doc_ids=[" a.txt ", "a.txt"],
        folders=["./sub/", "sub\\x"],
        types=[".PDF", "htm"],
        title_words=["Prime  minister"],
    )
    assert f.doc_ids == ("a.txt",)
    assert f.folders == ("sub/", "sub/x/")
    assert f.types == ("pdf", "html")
    assert f.title_words == ("prime", "minister")
    assert not Filter() and f


def test_unknown_type_lists_the_supported_ones() -> None:
    with pytest.raises(InputError, match=r"unknown file type 'docx'; choose among html, md, pdf, txt"):
        Filter.of(types=["docx"])


def test_from_dict_accepts_strings_or_lists_and_names_unknown_keys() -> None:
    f = Filter.from_dict({"doc": "cats.txt", "under": ["sub"], "type": ["txt", "md"], "title": "bread"})
    assert f == Filter.of(doc_ids=["cats.txt"], folders=["sub"], types=["txt", "md"], title_words=["bread"])
    assert Filter.from_dict(f.to_dict()) == f
    with pytest.raises(InputError, match=r"unknown filter field\(s\) \['folder'\]"):
        Filter.from_dict({"folder": "sub"})
    with pytest.raises(InputError, match='"filters" must be an object'):
        Filter.from_dict(["cats.txt"])
    with pytest.raises(InputError, match='filter "doc" must be a string or a list'):
        Filter.from_dict({"doc": 3})
    with pytest.raises(InputError, match="must hold strings"):
        Filter.from_dict({"doc": [3]})


def test_documents_combine_fields_and_keep_folders_whole(index: Index) -> None:
    docs = index.documents
    assert Filter.of(folders=["sub"]).documents(docs) == {"sub/bread.txt", "sub/deeper/yeast.md"}
    # `sub` is a folder: subway.txt is not in it.
    assert "subway.txt" not in Filter.of(folders=["sub"]).documents(docs)
    assert Filter.of(folders=["sub"], types=["md"]).documents(docs) == {"sub/deeper/yeast.md"}
    assert Filter.of(types=["md"]).documents(docs) == {"rockets.md", "sub/deeper/yeast.md"}
    assert Filter.of(doc_ids=["cats.txt", "rockets.md"]).documents(docs) == {"cats.txt", "rockets.md"}
    assert Filter.of(title_words=["yeast BREAD"]).documents(docs) == {"sub/deeper/yeast.md"}
    assert Filter.of(title_words=["bread"]).documents(docs) == {"sub/bread.txt", "sub/deeper/yeast.md"}
    assert Filter.of(types=["pdf"]).documents(docs) == frozenset()


def test_unknown_document_or_folder_lists_what_exists(index: Index) -> None:
    with pytest.raises(
        InputError, match=r"unknown document id\(s\) \['dogs.txt'\]; the index holds: cats.txt, "
    ):
        Filter.of(doc_ids=["dogs.txt"]).documents(index.documents)
    with pytest.raises(
        InputError, match=r"no indexed document is under 'nope/'; folders in the index: sub/, "
    ):
        Filter.of(folders=["nope"]).documents(index.documents)


def test_allowed_rows_are_exactly_the_passages_of_the_allowed_documents(index: Index) -> None:
    rows = allowed_rows(index, Filter.of(folders=["sub"]))
    assert rows.dtype == np.int64 and rows.tolist() == sorted(rows.tolist())
    expected = [i for i, p in enumerate(index.passages) if p.doc_id.startswith("sub/")]
    assert rows.tolist() == expected and expected


def test_merge_replaces_only_the_fields_the_line_sets() -> None:
    base = Filter.of(folders=["sub"], types=["txt"])
    merged = merge_filters(base, Filter.of(types=["md"], doc_ids=["x.md"]))
    assert merged == Filter.of(folders=["sub"], types=["md"], doc_ids=["x.md"])
    assert merge_filters(None, Filter()) is None
    assert merge_filters(base, None) is base


@pytest.mark.parametrize("mode", list(RetrievalMode))
def test_filtered_search_returns_only_allowed_documents_and_still_k(retriever: Retriever, mode) -> None:
    question = "cats bread rockets yeast trains"
    flt = Filter.of(folders=["sub"])
    allowed = {p.passage_id for p in retriever.index.passages if p.doc_id.startswith("sub/")}
    hits = retriever.search(question, k=len(allowed), mode=mode, filters=flt)
    # BM25 only returns rows that contain a query word; every allowed passage does here.
    assert {h.passage_id for h in hits} == allowed
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for h in hits:
        assert retriever.index.documents[h.passage.doc_id].text[h.passage.start : h.passage.end] == h.text


def test_filtered_top_k_is_taken_after_filtering(retriever: Retriever) -> None:
    # Unfiltered, the best passage for "rocket engine" is in rockets.md; filtered to cats.txt,
    # the cat passages still come back instead of nothing.
    unfiltered = retriever.search("rocket engine thrust", k=1, mode="dense")
    assert unfiltered[0].passage.doc_id == "rockets.md"
    n_cat = sum(p.doc_id == "cats.txt" for p in retriever.index.passages)
    hits = retriever.search(
        "rocket engine thrust", k=n_cat, mode="dense", filters=Filter.of(doc_ids=["cats.txt"])
    )
    assert len(hits) == n_cat and {h.passage.doc_id for h in hits} == {"cats.txt"}


def test_filter_matching_nothing_gives_an_empty_unanswered_answer(retriever: Retriever) -> None:
    answer = retriever.ask("bread", filters=Filter.of(types=["pdf"]))
    assert answer.hits == () and answer.answered is False


def test_per_question_filters_apply_to_their_own_question(retriever: Retriever) -> None:
    answers = retriever.ask_many(
        ["bread yeast", "bread yeast", "bread yeast"],
        k=3,
        filters=[Filter.of(doc_ids=["sub/bread.txt"]), None, Filter.of(types=["md"])],
    )
    assert {h.passage.doc_id for h in answers[0].hits} == {"sub/bread.txt"}
    assert {h.passage.doc_id for h in answers[2].hits} <= {"rockets.md", "sub/deeper/yeast.md"}
    assert "sub/deeper/yeast.md" in {h.passage.doc_id for h in answers[1].hits} | {
        h.passage.doc_id for h in answers[2].hits
    }
    with pytest.raises(Exception, match="2 filters for 3 questions"):
        retriever.ask_many(["a", "b", "c"], filters=[None, None])


def test_deep_store_search_agrees_with_exact_filtered_search(
    index: Index, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    qv = fake_embedder.embed(["bread yeast flour"])[0]
    allowed = allowed_rows(index, Filter.of(folders=["sub"]))
    exact = filtered_dense_candidates(index, qv, allowed, 2)
    # Force the path a large allowed set takes: search the store deeper until enough allowed rows.
    monkeypatch.setattr(candidates_module, "EXACT_FILTER_ROWS", 0)
    monkeypatch.setattr(candidates_module, "EXACT_FILTER_SHARE", 0.0)
    deep = filtered_dense_candidates(index, qv, allowed, 2)
    assert deep[1].tolist() == exact[1].tolist()
    assert deep[0] == pytest.approx(exact[0], abs=1e-5)
    assert set(deep[1].tolist()) <= set(allowed.tolist())
