"""Fuzz chunking: offsets always exact on arbitrary text (readers are fuzzed in tests/ingest)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _chunk_contract import REAL_TOKENIZER_SLACK, SETTINGS, TEXTS, check_passages, make_doc
from qa.config import IndexSettings


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, cfg=SETTINGS, fmt=st.sampled_from(["txt", "md"]))
def test_chunk_offsets_are_exact_on_arbitrary_text(text: str, cfg: IndexSettings, fmt: str) -> None:
    check_passages(make_doc(text, fmt), cfg)


@settings(max_examples=100, deadline=None)
@given(pages=st.lists(TEXTS, min_size=1, max_size=4), cfg=SETTINGS)
def test_paged_documents_keep_exact_offsets(pages: list[str], cfg: IndexSettings) -> None:
    starts, pos = [], 0
    for i, page in enumerate(pages):
        pos += 2 if i else 0
        starts.append(pos)
        pos += len(page)
    doc = make_doc("\n\n".join(pages), "pdf", tuple(starts))
    for p in check_passages(doc, cfg):
        assert 1 <= doc.page_of(p.start) <= len(pages)


# -- with the real tokenizer: passages always fit the model --------------------------


@pytest.mark.e2e
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_real_tokenizer_offsets_and_limits(text: str, real_embedder) -> None:
    cfg = IndexSettings(max_tokens=32, min_tokens=8, context="none")
    check_passages(make_doc(text), cfg, token_spans=real_embedder.token_spans, slack=REAL_TOKENIZER_SLACK)


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["words", "no-spaces", "cjk", "long-sentences"])
def test_very_long_lines_are_split_within_the_model_limit(kind: str, real_embedder) -> None:
    rng = random.Random(7)
    words = ["harbour", "ferry", "tide", "Zürich", "naïve", "1,234.5", "state-of-the-art", "מים"]
    if kind == "words":
        text = " ".join(rng.choice(words) for _ in range(30_000))  # ~250 kB, one line, no punctuation
    elif kind == "no-spaces":
        text = "".join(rng.choice(words) for _ in range(20_000))
    elif kind == "cjk":
        text = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(40_000))
    else:
        text = " ".join(" ".join(rng.choice(words) for _ in range(300)) + "." for _ in range(200))
    cfg = IndexSettings()  # the defaults users run, checked against the model's own limit
    cfg.check_model_limit(real_embedder.max_tokens)
    slack = REAL_TOKENIZER_SLACK if kind in ("no-spaces", "cjk") else 0
    passages = check_passages(make_doc(text), cfg, token_spans=real_embedder.token_spans, slack=slack)
    assert len(passages) > 10
    # The model reads the passage plus [CLS]/[SEP] and the title context without truncation.
    longest = max(len(real_embedder.token_spans(p.text)) for p in passages)
    assert longest + cfg.context_tokens + 2 <= real_embedder.max_tokens
