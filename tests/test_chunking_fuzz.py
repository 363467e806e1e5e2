"""Fuzz ingestion and chunking: no crash on arbitrary text or bytes, offsets always exact."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk, split_paragraphs, whitespace_token_spans
from qa.config import IndexSettings
from qa.ingest import SUPPORTED_SUFFIXES, UnreadableFile, extract_html, read_document
from qa.types import Document

# Text that stresses the splitters: blank lines, sentence ends, RTL, combining marks,
# emoji with joiners, NUL and other controls, CR line ends.
_ALPHABET = st.one_of(
    st.characters(exclude_categories=["Cs"]),  # decoded text never holds lone surrogates
    st.sampled_from(
        list(" \n\n\r\t.!?…\"')]#")
        + ["\u200b", "\u200d", "\u0301", "\u202e", "\x00", "ש", "\u05c1", "م", "👩"]
    ),
)
TEXTS = st.text(alphabet=_ALPHABET, max_size=600)
SETTINGS = st.builds(
    IndexSettings,
    max_tokens=st.integers(8, 40),
    min_tokens=st.integers(0, 8),
    overlap=st.integers(0, 2),
    context=st.just("none"),
)


def _doc(text: str, fmt: str = "txt", page_starts: tuple[int, ...] = ()) -> Document:
    return Document(
        "fuzz.txt", "t", text, hashlib.sha256(text.encode()).hexdigest(), fmt=fmt, page_starts=page_starts
    )


# A piece cut inside a word (text with no spaces) can re-tokenize into a few more word
# pieces on its own than it held inside its paragraph ("##ry" becomes "ry" ...); the
# model budget reserves room for the context, so this slack is never truncated.
REAL_TOKENIZER_SLACK = 4


def check_passages(
    doc: Document, cfg: IndexSettings, token_spans=whitespace_token_spans, slack: int = 0
) -> list:
    """The chunking contract, for any document."""
    passages = chunk(doc, settings=cfg, token_spans=token_spans)
    paragraphs = split_paragraphs(doc.text)
    assert bool(passages) == bool(doc.text.strip())
    covered = [False] * len(doc.text)
    prev_start = -1
    for n, p in enumerate(passages):
        assert 0 <= p.start < p.end <= len(doc.text)
        assert doc.text[p.start : p.end] == p.text
        assert not p.text[0].isspace() and not p.text[-1].isspace()
        assert p.passage_id == f"{doc.doc_id}#{n:04d}"
        assert 1 <= p.paragraph_start <= p.paragraph_end <= len(paragraphs)
        assert p.start > prev_start  # document order, always moving forward
        prev_start = p.start
        assert len(token_spans(p.text)) <= cfg.max_tokens + slack
        for i in range(p.start, p.end):
            covered[i] = True
    # Nothing is lost: every non-space character is in some passage.
    missing = [i for i, c in enumerate(doc.text) if not c.isspace() and not covered[i]]
    assert not missing, f"characters not in any passage at {missing[:10]}"
    return passages


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, cfg=SETTINGS, fmt=st.sampled_from(["txt", "md"]))
def test_chunk_offsets_are_exact_on_arbitrary_text(text: str, cfg: IndexSettings, fmt: str) -> None:
    check_passages(_doc(text, fmt), cfg)


@settings(max_examples=100, deadline=None)
@given(pages=st.lists(TEXTS, min_size=1, max_size=4), cfg=SETTINGS)
def test_paged_documents_keep_exact_offsets(pages: list[str], cfg: IndexSettings) -> None:
    starts, pos = [], 0
    for i, page in enumerate(pages):
        pos += 2 if i else 0
        starts.append(pos)
        pos += len(page)
    doc = _doc("\n\n".join(pages), "pdf", tuple(starts))
    for p in check_passages(doc, cfg):
        assert 1 <= doc.page_of(p.start) <= len(pages)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_read_document_never_crashes_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    try:
        doc = read_document(Path("x" + suffix), "x" + suffix, data=data)
    except UnreadableFile as exc:
        assert str(exc)  # every refusal says why
        return
    assert doc.text.strip() and "\x00" not in doc.text
    assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    check_passages(doc, IndexSettings(max_tokens=16, min_tokens=4, context="none"))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=3000))
def test_pdf_reader_never_crashes_on_mangled_pdfs(data: bytes) -> None:
    from _pdf import make_pdf

    # A valid PDF with random bytes spliced in: closer to real damage than pure noise.
    pdf = make_pdf(["Page one text.", "Page two text."])
    cut = len(data) % len(pdf)
    mangled = pdf[:cut] + data + pdf[cut + len(data) // 2 :]
    try:
        doc = read_document(Path("x.pdf"), "x.pdf", data=mangled)
    except UnreadableFile:
        return
    assert all(0 <= s <= len(doc.text) for s in doc.page_starts)
    check_passages(doc, IndexSettings(max_tokens=16, min_tokens=4, context="none"))


_TAGS = st.sampled_from(
    ["<p>", "</p>", "<br>", "<br/>", "<script>", "</script>", "<style>", "</style>", "<pre>", "</pre>",
     "<div hidden>", "</div>", "<li>", "<title>", "</title>", "<head>", "<body>", "&amp;", "&#0;", "&lt;",
     "<!--", "-->", "<![CDATA[", "<td>", "<"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_TAGS, TEXTS), max_size=30))
def test_html_extraction_never_crashes(parts: list[str]) -> None:
    text, title = extract_html("".join(parts))
    assert isinstance(text, str) and (title is None or title.strip() == title)
    if text.strip():
        check_passages(_doc(text, "html"), IndexSettings(max_tokens=16, min_tokens=4, context="none"))


# -- with the real tokenizer: passages always fit the model --------------------------


@pytest.mark.e2e
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_real_tokenizer_offsets_and_limits(text: str, real_embedder) -> None:
    cfg = IndexSettings(max_tokens=32, min_tokens=8, context="none")
    check_passages(_doc(text), cfg, token_spans=real_embedder.token_spans, slack=REAL_TOKENIZER_SLACK)


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
    passages = check_passages(_doc(text), cfg, token_spans=real_embedder.token_spans, slack=slack)
    assert len(passages) > 10
    # The model reads the passage plus [CLS]/[SEP] and the title context without truncation.
    longest = max(len(real_embedder.token_spans(p.text)) for p in passages)
    assert longest + cfg.context_tokens + 2 <= real_embedder.max_tokens
