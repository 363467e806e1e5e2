"""Conversation context: decide whether a question stands alone and, if not, read it with the earlier turns.

No language model: a follow-up is recognised from its words (a connective such as
"and ..." / "what about ...", or a pronoun with few content words of its own, or hardly
any content words at all). A follow-up is searched with

- BM25 scores `s(new) + w_1·s(prev_1) + w_2·s(prev_2) ...` (bm25s scores per query, so
  the score arrays are combined), and
- the dense vector `normalize(q_new + β_1·q_prev_1 + ...)`, which the sentence
  rerank, the highlights and the abstention confidence use too.

`prev_1` is the previous question; when that question was itself a follow-up, the
one before it is added too (each step further back at `decay` times the weight),
until a question that stands alone. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.errors import ConfigError

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_WEIGHTS",
    "ContextWeights",
    "FollowupRule",
    "QueryContext",
    "blend_bm25",
    "blend_vectors",
    "content_words",
    "context_vectors",
    "contexts_for",
    "is_followup",
    "query_context",
]

# Openings that tie a question to the previous one ("and in May?", "what about sewers?").
CONNECTIVES: tuple[str, ...] = (
    "and",
    "but",
    "also",
    "so",
    "then",
    "or",
    "what about",
    "how about",
    "what of",
    "what else",
    "same for",
)
# Words that point back to something named earlier.
ANAPHORS = frozenset(
    "he him his she her hers it its they them their theirs this that these those "
    "there such former latter same one ones other another else".split()
)
# Question and function words: not content of their own. Content words are what is left.
FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with without about into onto over under after before
    since until during between among through per as than via is are was were be been being am do
    does did done doing has have had having can could will would shall should may might must
    what which who whom whose when where why how whether if not no nor yes any all some each
    every both either neither many much more most few less least lot lots i me my mine we our
    ours you your yours please tell show give list name say said way kind sort thing things
    get got make made use used just only also too very really still yet ever now again and
    but or so then there here happen happened happens mean means""".split()
)
_WORD = re.compile(r"(?u)[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True)
class FollowupRule:
    """When a question does not stand alone.

    Attributes:
        max_content: a question with at most this many content words is a follow-up.
        max_content_with_anaphor: a question holding a pronoun or "that/this/there" and
            at most this many content words is a follow-up.
        connectives: openings that make any question a follow-up.
    """

    max_content: int = 1
    max_content_with_anaphor: int = 3
    connectives: tuple[str, ...] = CONNECTIVES


@dataclass(frozen=True)
class ContextWeights:
    """How much of the earlier turns a follow-up is searched with.

    Attributes:
        bm25: weight of the previous question's BM25 scores (`s(new) + bm25·s(prev)`).
        dense: weight β of the previous question's vector (`normalize(q_new + β·q_prev)`).
        decay: each further turn back gets this factor times the weight.
        max_turns: at most this many earlier questions are used.
    """

    bm25: float = 0.5
    dense: float = 0.5
    decay: float = 0.5
    max_turns: int = 3


DEFAULT_RULE = FollowupRule()
DEFAULT_WEIGHTS = ContextWeights()


@dataclass(frozen=True)
class QueryContext:
    """The earlier questions a follow-up is read with, nearest first, and their weights."""

    earlier: tuple[str, ...]
    bm25_weights: tuple[float, ...]
    dense_weights: tuple[float, ...]


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_words(question: str) -> list[str]:
    """The question's own content words: not function words, pronouns or single letters."""
    out = []
    for word in _words(question):
        base = word.split("'")[0]  # "bloc's" -> "bloc"
        if len(base) > 1 and base not in FUNCTION_WORDS and base not in ANAPHORS:
            out.append(word)
        elif base.isdigit():
            out.append(word)  # "in 2003?" names something
    return out


def is_followup(question: str, *, rule: FollowupRule = DEFAULT_RULE) -> bool:
    """Whether `question` leans on an earlier turn instead of standing alone (its text only)."""
    words = _words(question)
    if not words:
        return False
    opening = " ".join(words[:3])
    if any(opening == c or opening.startswith(c + " ") for c in rule.connectives):
        return True
    content = content_words(question)
    if len(content) <= rule.max_content:
        return True
    has_anaphor = any(w.split("'")[0] in ANAPHORS for w in words)
    return has_anaphor and len(content) <= rule.max_content_with_anaphor


def query_context(
    question: str,
    history: Sequence[str],
    *,
    rule: FollowupRule = DEFAULT_RULE,
    weights: ContextWeights = DEFAULT_WEIGHTS,
) -> QueryContext | None:
    """The earlier turns to read `question` with, or None when it stands alone.

    `history` holds the earlier questions in conversation order (oldest first). The
    previous question is always used for a follow-up; an older one only while the
    question after it was itself a follow-up.
    """
    earlier = [h.strip() for h in history if h and h.strip()]
    if not earlier or not is_followup(question, rule=rule):
        return None
    used: list[str] = []
    for i in range(len(earlier) - 1, -1, -1):
        used.append(earlier[i])
        if len(used) >= weights.max_turns or not is_followup(earlier[i], rule=rule):
            break
    factors = [weights.decay**n for n in range(len(used))]
    return QueryContext(
        earlier=tuple(used),
        bm25_weights=tuple(weights.bm25 * f for f in factors),
        dense_weights=tuple(weights.dense * f for f in factors),
    )


def blend_vectors(new: np.ndarray, earlier: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """`normalize(new + Σ weight·earlier)` as float32 (`new` itself if nothing is added)."""
    out = np.asarray(new, dtype=np.float64).copy()
    for vector, weight in zip(earlier, weights):
        out += weight * np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(out))
    if norm == 0.0:
        return np.asarray(new, dtype=np.float32)
    return (out / norm).astype(np.float32)


def blend_bm25(
    new: np.ndarray | None, earlier: Sequence[np.ndarray | None], weights: Sequence[float]
) -> np.ndarray | None:
    """`s(new) + Σ weight·s(earlier)`; a question with no indexed term counts as all zeros."""
    parts = [(1.0, new), *zip(weights, earlier)]
    present = [(w, s) for w, s in parts if s is not None]
    if not present:
        return None
    out = np.zeros(present[0][1].shape[0], dtype=np.float64)
    for weight, scores in present:
        out += weight * np.asarray(scores, dtype=np.float64)
    return out.astype(np.float32)


def contexts_for(
    questions: Sequence[str],
    history: Sequence[Sequence[str]] | None,
    *,
    rule: FollowupRule = DEFAULT_RULE,
    weights: ContextWeights = DEFAULT_WEIGHTS,
) -> list[QueryContext | None]:
    """Each question's context (`history[i]`: question i's earlier questions); all None without history."""
    if history is None:
        return [None] * len(questions)
    if isinstance(history, str) or len(history) != len(questions):
        raise ConfigError(
            f"history must hold one list of earlier questions per question ({len(questions)}); "
            f"got {'a string' if isinstance(history, str) else len(history)}"
        )
    out = []
    for q, h in zip(questions, history):
        if isinstance(h, str):
            raise ConfigError(f"the history of {q!r} must be a list of earlier questions, not a string")
        out.append(query_context(q, h, rule=rule, weights=weights))
    return out


def context_vectors(
    embed: Callable[[list[str]], np.ndarray],
    questions: Sequence[str],
    contexts: Sequence[QueryContext | None],
) -> np.ndarray:
    """The questions' vectors, each follow-up's blended with its earlier turns' (one `embed` call)."""
    if all(c is None for c in contexts):
        return embed(list(questions))
    texts = list(dict.fromkeys([*questions, *(e for c in contexts if c is not None for e in c.earlier)]))
    vectors = embed(texts)
    row = {text: i for i, text in enumerate(texts)}
    out = np.stack([np.asarray(vectors[row[q]], dtype=np.float32) for q in questions])
    for qi, context in enumerate(contexts):
        if context is not None:
            out[qi] = blend_vectors(
                out[qi], [vectors[row[e]] for e in context.earlier], context.dense_weights
            )
    return out
