"""Chunking: exact offsets (hypothesis), paragraph alignment, merging, splitting, headings."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import chunk, detect_headings, split_paragraphs, split_sentences, whitespace_token_spans
from qa.config import IndexSettings
from qa.types import Document


def doc(text: str, doc_id: str = "d.txt", fmt: str = "txt") -> Document:
    return Document(
        doc_id=doc_id,
        title=text.strip().split("\n")[0][:50],
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        fmt=fmt,
    )


def n_tokens(text: str) -> int:
    return len(whitespace_token_spans(text))


pieces = st.sampled_from(list("abc XYZ.!?\n\t ,;’“”é😀\u05d0\u0301\x00") + ["\r\n", "\n\n", ". ", "word "])
texts = st.one_of(st.lists(pieces, max_size=200).map("".join), st.text(max_size=300))


@settings(max_examples=300, deadline=None)
@given(text=texts, max_tokens=st.integers(8, 40), min_tokens=st.integers(0, 8), overlap=st.integers(0, 3))
def test_offsets_slice_back_to_passage_text(
    text: str, max_tokens: int, min_tokens: int, overlap: int
) -> None:
    s = IndexSettings(max_tokens=max_tokens, min_tokens=min_tokens, overlap=overlap, context="none")
    passages = chunk(doc(text), settings=s, token_spans=whitespace_token_spans)
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text.strip() == p.text and p.text
        assert n_tokens(p.text) <= max_tokens
        assert 1 <= p.paragraph_start <= p.paragraph_end
    # Passages are in document order and every word of the text is in some passage.
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    for a, _b in whitespace_token_spans(text):
        assert a in covered


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_paragraph_and_sentence_spans_are_exact(text: str) -> None:
    paras = split_paragraphs(text)
    for s, e in paras:
        assert text[s:e].strip() == text[s:e] != ""
        assert "\n\n" not in text[s:e].replace("\r", "")
        for a, b in split_sentences(text, s, e):
            assert s <= a < b <= e
            assert text[a:b].strip() == text[a:b]


def test_short_paragraphs_merge_and_long_ones_split() -> None:
    text = "Title line\n\nTiny.\n\n" + " ".join(f"Sentence number {i} is here." for i in range(40))
    s = IndexSettings(max_tokens=30, min_tokens=10, overlap=1, context="none")
    passages = chunk(doc(text), settings=s, token_spans=whitespace_token_spans)
    # Title and "Tiny." are short: merged with the first piece of the long paragraph 3.
    assert passages[0].paragraph_start == 1 and passages[0].paragraph_end == 3
    assert passages[0].text.startswith("Title line\n\nTiny.\n\nSentence number 0")
    long_parts = [p for p in passages if p.paragraph_end == 3]
    assert len(long_parts) > 5
    for p in long_parts:
        assert n_tokens(p.text) <= 30
        assert p.text.endswith(".")  # split at sentence boundaries
    # Overlap of one sentence: each piece starts with the previous piece's last sentence.
    for a, b in zip(long_parts, long_parts[1:]):
        last_sentence = split_sentences(a.text)[-1]
        assert b.text.startswith(a.text[last_sentence[0] : last_sentence[1]])


def test_sentence_without_punctuation_is_cut_at_word_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(1000))
    passages = chunk(
        doc(text),
        settings=IndexSettings(max_tokens=50, min_tokens=10, context="none"),
        token_spans=whitespace_token_spans,
    )
    assert len(passages) >= 20
    assert all(n_tokens(p.text) <= 50 for p in passages)
    assert " ".join(p.text for p in passages).count("w999") == 1
    assert all(not p.text.startswith(" ") for p in passages)


def test_ids_are_stable_and_ordered() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(5))
    passages = chunk(
        doc(text, "a/b.txt"),
        settings=IndexSettings(max_tokens=100, min_tokens=10),
        token_spans=whitespace_token_spans,
    )
    assert [p.passage_id for p in passages] == [f"a/b.txt#{i:04d}" for i in range(len(passages))]


def test_headings_plain_text_and_markdown() -> None:
    text = "The Title\n\nFirst section\n\nBody one is a full sentence.\n\nSecond part\n\nBody two here."
    d = doc(text)
    heads = detect_headings(d, split_paragraphs(text))
    assert heads == [None, "First section", "First section", "Second part", "Second part"]
    md = "# Doc\n\n## Engines\n\nThrust.\n\n## Orbits\n\nFast."
    heads = detect_headings(doc(md, fmt="md"), split_paragraphs(md))
    assert heads == [None, "Engines", "Engines", "Orbits", "Orbits"]


def test_seed_document_passages_respect_real_model_limit(real_embedder) -> None:
    """With the real tokenizer, no passage plus its context exceeds the model's input."""
    from conftest import SEEDS
    from qa.encoding import context_text
    from qa.ingest import scan_corpus

    s = IndexSettings()
    for d in scan_corpus(SEEDS).documents:
        passages = chunk(d, settings=s, token_spans=real_embedder.token_spans)
        assert passages
        for p in passages:
            assert d.text[p.start : p.end] == p.text
            assert real_embedder.count_tokens(p.text) <= s.max_tokens
            embedded = context_text(p, s, real_embedder)
            assert real_embedder.count_tokens(embedded) + 2 <= real_embedder.max_tokens


def test_settings_validation() -> None:
    from qa.errors import ConfigError

    with pytest.raises(ConfigError, match="min_tokens"):
        IndexSettings(max_tokens=50, min_tokens=60)
    with pytest.raises(ConfigError, match="choose one of"):
        IndexSettings(context="everything")
    with pytest.raises(ConfigError, match="--max-tokens 222"):
        IndexSettings(max_tokens=250).check_model_limit(256)


def test_short_paragraph_is_not_merged_into_a_piece_that_fills_the_budget() -> None:
    # Found by hypothesis: the long paragraph's first piece alone has max_tokens, so the
    # short paragraph before it cannot join it (it would make max_tokens + 1).
    text = "0\n\n" + " ".join(["0"] * 17)
    doc = Document("d.txt", "t", text, hashlib.sha256(text.encode()).hexdigest())
    cfg = IndexSettings(max_tokens=16, min_tokens=4, context="none")
    passages = chunk(doc, settings=cfg, token_spans=whitespace_token_spans)
    assert [len(whitespace_token_spans(p.text)) for p in passages] == [1, 16, 1]
