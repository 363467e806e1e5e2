"""The app's layout and its named API endpoint through gradio_client (fake embedder, real seeds)."""

from __future__ import annotations

import re
import socket

import pytest
from _ui_setup import seeds_retriever_and_collection

from qa.config import RetrievalMode
from qa.ui import build_app, launch
from qa.ui.app import MODE_LABELS


@pytest.fixture(scope="module")
def seeds_setup(tmp_path_factory: pytest.TempPathFactory):
    return seeds_retriever_and_collection(tmp_path_factory.mktemp("ui-app"))


def _by_id(app, elem_id: str):
    return next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_mode_choices_come_from_the_retrieval_modes() -> None:
    assert set(MODE_LABELS) == set(RetrievalMode)


def test_layout_has_every_tab_and_control(seeds_setup) -> None:
    retriever, collection = seeds_setup
    app = build_app(retriever, collection=collection)
    ids = {getattr(b, "elem_id", None) for b in app.blocks.values()}
    assert {"qa-chat", "qa-question", "qa-ask", "qa-mode", "qa-k", "qa-source", "qa-view-request"} <= ids
    assert {"qa-docs", "qa-upload", "qa-remove-select", "qa-remove", "qa-sync", "qa-upload-status"} <= ids
    assert {"qa-eval-file", "qa-eval-run"} <= ids
    mode = _by_id(app, "qa-mode")
    assert [tuple(c) for c in mode.choices] == [("Hybrid", "hybrid"), ("Dense", "dense"), ("BM25", "bm25")]
    assert mode.value == "hybrid"
    app.close()


def test_layout_without_a_collection_has_no_upload_controls(seeds_setup) -> None:
    retriever, _ = seeds_setup
    app = build_app(retriever)
    ids = {getattr(b, "elem_id", None) for b in app.blocks.values()}
    assert "qa-docs" in ids and not {"qa-upload", "qa-remove", "qa-sync"} & ids
    app.close()


# -- the named API endpoint through gradio_client -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_ask_endpoint_with_gradio_client(seeds_setup) -> None:
    from gradio_client import Client

    retriever, collection = seeds_setup
    app = build_app(retriever, collection=collection)
    port = _free_port()
    launch(app, port=port, block=False, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        api = client.view_api(return_format="dict", print_info=False)
        assert "/ask" in api["named_endpoints"]
        # The chat's own events stay private: the API is /ask.
        assert not {"/on_ask", "/view", "/on_upload", "/on_remove", "/export"} & set(api["named_endpoints"])
        result = client.predict("How many US soldiers died in May?", 3, "bm25", api_name="/ask")
        assert result["question"] == "How many US soldiers died in May?"
        assert result["answered"] is True and len(result["passages"]) == 3
        for rank, p in enumerate(result["passages"], start=1):
            doc = retriever.index.documents[p["doc"]]
            assert p["rank"] == rank
            assert p["text"] == doc.text[p["start"] : p["end"]]
            assert re.fullmatch(
                rf"\[{rank}\] {re.escape(p['doc'])} ¶\d+(-\d+)?, chars {p['start']}-{p['end']}", p["citation"]
            )
        expected = retriever.ask("How many US soldiers died in May?", k=3, mode="bm25")
        assert [p["passage_id"] for p in result["passages"]] == [h.passage_id for h in expected.hits]
        with pytest.raises(Exception, match="unknown mode"):
            client.predict("q", 3, "sparse", api_name="/ask")
    finally:
        app.close()
