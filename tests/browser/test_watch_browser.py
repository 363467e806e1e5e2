"""`qa serve --watch` in headless Chromium: a file dropped into the corpus folder is indexed by the
watcher, the Documents tab shows it, and questions are answered from it (real model, real FAISS)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.index import Index
from qa.retrieval import Retriever
from qa.watching import CorpusWatcher

from .conftest import TIMEOUT_MS, _free_port, copy_seeds
from .test_ui_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

NOTE = "The Vellmark ferry leaves the northern pier at seven every morning, except on Sundays.\n"


def test_watched_folder_is_reindexed_and_shown(
    browser, tmp_path: Path, seed_index_dir: Path, real_embedder
) -> None:
    from qa.ui import build_app, launch

    corpus, index_dir = copy_seeds(tmp_path, seed_index_dir)
    retriever = Retriever(Index.load(index_dir), embedder=real_embedder)
    collection = Collection(retriever, corpus_dir=corpus, index_dir=index_dir)
    watcher = CorpusWatcher(
        corpus,
        lambda progress: collection.sync(progress=progress).summary(),
        debounce_ms=500,
        ignore_dir=index_dir,
    ).start()
    app = build_app(retriever, collection=collection, watcher=watcher)
    port = _free_port()
    launch(app, port=port, block=False, quiet=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        page.wait_for_selector("#qa-question textarea")
        page.get_by_role("tab", name="Documents").click()
        page.wait_for_selector("#qa-watch-status .qa-watch")
        assert "Watching the corpus folder" in page.locator("#qa-watch-status").text_content()

        (corpus / "ferry.txt").write_text(NOTE, encoding="utf-8")
        page.wait_for_function(
            "() => (document.querySelector('#qa-docs') || {}).textContent?.includes('ferry.txt')",
            timeout=120_000,
        )
        assert "last re-index" in page.locator("#qa-watch-status").text_content()
        assert "ferry.txt" in retriever.index.documents

        page.get_by_role("tab", name="Ask").click()
        answer = ask(page, "When does the Vellmark ferry leave?")
        assert answer.locator(".qa-hit").first.locator(".qa-cite").text_content().startswith("[1] ferry.txt ")

        (corpus / "ferry.txt").unlink()
        page.get_by_role("tab", name="Documents").click()
        # The index first (the table re-renders every 2 s and may be empty for a moment),
        # then the table, which must have caught up.
        deadline = time.monotonic() + 120
        while "ferry.txt" in retriever.index.documents and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "ferry.txt" not in retriever.index.documents
        page.wait_for_function(
            "() => { const t = (document.querySelector('#qa-docs') || {}).textContent || '';"
            " return t.includes('000_39ae44cc0e79be58.txt') && !t.includes('ferry.txt'); }",
            timeout=120_000,
        )
    finally:
        context.close()
        watcher.stop()
        app.close()
