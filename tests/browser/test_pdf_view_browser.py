"""A PDF hit in context, in headless Chromium: the rendered page with the passage boxed, beside
the cleaned text (real model, real FAISS, a real Debian man page as PDF)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from .test_ui_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CCOMPS = Path(__file__).resolve().parents[1] / "ingest" / "data" / "ccomps.1.pdf"


def test_pdf_page_is_shown_with_the_passage_boxed(page, served, tmp_path: Path, artifacts: Path) -> None:
    upload = tmp_path / "ccomps.1.pdf"
    shutil.copyfile(CCOMPS, upload)
    served.collection.add_files([str(upload)])
    try:
        answer = ask(page, "Which ccomps option prints the counts of nodes, edges and connected components?")
        first = answer.locator(".qa-hit").first
        label = first.locator(".qa-cite").text_content()
        assert label.startswith("[1] ccomps.1.pdf p.1 ¶")
        # Every PDF hit's label names its page.
        labels = answer.locator(".qa-cite").all_text_contents()
        assert all(" p." in lab for lab in labels if ".pdf" in lab)
        first.locator(".qa-view").click()
        source = page.locator("#qa-source")
        source.locator(".qa-pdf-box").first.wait_for()
        page.wait_for_function(
            "() => { const i = document.querySelector('#qa-source .qa-pdf-canvas img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        assert source.locator(".qa-pdf-page").first.get_attribute("data-page") == "1"
        # The boxes lie on the page image, and the text view beside it shows the same passage.
        img = source.locator(".qa-pdf-canvas img").first.bounding_box()
        box = source.locator(".qa-pdf-box").first.bounding_box()
        assert img and box and img["width"] > 250
        assert (
            img["x"] <= box["x"] < img["x"] + img["width"] and img["y"] <= box["y"] < img["y"] + img["height"]
        )
        document = served.retriever.index.documents["ccomps.1.pdf"]
        passage = "".join(source.locator(".qa-textside .qa-doc .qa-passage").all_text_contents())
        assert passage and passage in document.text
        assert "General Commands Manual" not in source.locator(".qa-textside").text_content()
        page.wait_for_timeout(300)
        # The two screenshots of docs/EXTRACTION.md: the page with its boxes, and the cleaned text.
        shots = {"pdf-page.png": source, "pdf-in-context.png": source.locator(".qa-textside")}
        for name, element in shots.items():
            element.screenshot(path=str(artifacts / name))
            with Image.open(artifacts / name) as shot:
                assert shot.format == "PNG" and shot.width > 250 and shot.height > 250
    finally:
        served.collection.remove(["ccomps.1.pdf"])
