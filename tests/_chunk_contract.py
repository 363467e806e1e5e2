"""Test helper: the chunking contract (exact offsets, nothing lost) and text strategies that stress it."""

from __future__ import annotations

import hashlib

from hypothesis import strategies as st

from qa.chunking import chunk, split_paragraphs, whitespace_token_spans
from qa.config import IndexSettings
from qa.types import Document

__all__ = ["REAL_TOKENIZER_SLACK", "SETTINGS", "TEXTS", "check_passages", "make_doc"]

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


def make_doc(text: str, fmt: str = "txt", page_starts: tuple[int, ...] = ()) -> Document:
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
