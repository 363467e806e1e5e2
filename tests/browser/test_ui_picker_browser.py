"""The Ask tab's document picker in headless Chromium: pick one document, ask, every quote comes from it."""

from __future__ import annotations

import re

import pytest

from browser.test_ui_browser import LABEL, SEED_QUESTION, ask
from qa.retrieval import Filter

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

PICKED = "004_1d47129261bda866.txt"  # the seed question is about the other document


def test_picking_a_document_limits_the_answer_to_it(page, served) -> None:
    page.click("#qa-settings button")
    box = page.locator("#qa-filter-docs input")
    box.click()
    box.fill(PICKED)
    page.locator("ul[role='listbox'] li", has_text=PICKED).first.click()
    page.keyboard.press("Escape")
    answer = ask(page, SEED_QUESTION)
    labels = answer.locator(".qa-hit .qa-cite").all_text_contents()
    expected = served.retriever.ask(SEED_QUESTION, k=5, mode="hybrid", filters=Filter.of(doc_ids=[PICKED]))
    assert len(labels) == len(expected.hits) == 5
    docs = {LABEL.match(label).group(2) for label in labels}
    assert docs == {PICKED}
    unfiltered = served.retriever.ask(SEED_QUESTION, k=5, mode="hybrid")
    # Without the pick the same question cites the other document too.
    assert {h.passage.doc_id for h in unfiltered.hits} != {PICKED}
    assert re.search(r"\[1\] " + re.escape(PICKED), labels[0])
