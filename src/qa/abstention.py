"""Abstention: say "no relevant passage" when the best sentence is not close enough.

The signal is the confidence of an answer: the highest cosine similarity between the
question and any sentence of the returned passages (all-MiniLM-L6-v2 vectors are
normalised, so the value is comparable across questions and collections). The
answer abstains when the confidence is below a threshold.

The threshold is calibrated on questions with known answers and questions without:
it is placed in the gap between the scores of the unanswerable questions and the
`max_false_abstention` quantile of the answerable ones, so that at most that share of
answerable calibration questions would abstain. `qa calibrate QUESTIONS` recomputes it
for a user's collection and stores it in the index folder (`calibration.json`), where
`Retriever.open` finds it.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ConfigError
from qa.timestamps import utc_now

if TYPE_CHECKING:
    # Type names only: the retriever itself uses this module (thresholds, signals).
    from qa.evaluation.questions import Question
    from qa.retrieval import Retriever

__all__ = [
    "CALIBRATION_FILE",
    "Calibration",
    "calibrate",
    "choose_threshold",
    "confidence_signal",
    "load_calibration",
    "save_calibration",
]

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """A stored abstention threshold and how it was obtained."""

    threshold: float
    model: str
    n_answerable: int
    n_unanswerable: int
    false_abstention: float
    abstention: float | None
    max_false_abstention: float
    source: str
    created_at: str
    signal: str = "best sentence cosine"

    def to_dict(self) -> dict:
        return asdict(self)


def confidence_signal(settings) -> str:
    """The name of the confidence an index's answers carry (thresholds are per signal).

    Late-pooled and separately embedded sentence vectors give cosines on different
    scales, so a threshold calibrated for one is not used for the other.
    """
    if not settings.sentence_vectors:
        return "best passage cosine"
    return f"best sentence cosine ({settings.sentence_pooling})"


def choose_threshold(
    answerable: Sequence[float], unanswerable: Sequence[float], *, max_false_abstention: float = 0.02
) -> float:
    """The abstention threshold for these calibration scores.

    Let m = floor(max_false_abstention * n_answerable) and u = the m-th lowest answerable
    score (0-based), so at most m answerable questions score below u. The threshold is
    the midpoint between u and the highest unanswerable score below u (or u - 0.05 if
    there is none): as far as possible from both groups.

    Raises:
        ConfigError: no answerable scores, or a rate outside [0, 1).
    """
    if not 0 <= max_false_abstention < 1:
        raise ConfigError(f"max_false_abstention={max_false_abstention} must be in [0, 1)")
    scores = sorted(float(s) for s in answerable)
    if not scores:
        raise ConfigError("calibration needs answerable questions (with quotes); the set has none")
    m = math.floor(max_false_abstention * len(scores))
    upper = scores[m]
    below = [float(s) for s in unanswerable if float(s) < upper]
    lower = max(below) if below else upper - 0.05
    return round((lower + upper) / 2, 4)


def save_calibration(index_dir: Path, calibration: Calibration) -> Path:
    """Write `calibration.json` in the index folder (atomically)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / CALIBRATION_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(calibration.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_calibration(index_dir: Path, *, model: str, signal: str | None = None) -> Calibration | None:
    """The stored calibration for `model` and `signal`, or None (missing, unreadable, or
    made for another model or confidence signal)."""
    path = Path(index_dir) / CALIBRATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cal = Calibration(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring %s (%s); run `qa calibrate` again", path, exc)
        return None
    if cal.model != model:
        logger.warning(
            "%s was calibrated for model %s, the index uses %s; using the default threshold "
            "(run `qa calibrate` again)",
            path,
            cal.model,
            model,
        )
        return None
    if signal is not None and cal.signal != signal:
        logger.warning(
            "%s was calibrated on the %s, the index gives the %s; using the default threshold "
            "(run `qa calibrate` again)",
            path,
            cal.signal,
            signal,
        )
        return None
    return cal


def calibrate(
    retriever: Retriever,
    questions: Sequence[Question],
    *,
    k: int = 5,
    max_false_abstention: float = 0.02,
    source: str = "",
) -> Calibration:
    """Run a question set and choose the abstention threshold for the retriever's index.

    Answerable questions (with quotes) and unanswerable ones (no answers) give the two
    groups of confidence scores `choose_threshold` separates; store the result with
    `save_calibration`.

    Args:
        retriever: answers the questions (its index decides the model and signal).
        questions: the calibration set (the `qa eval` format).
        k: passages per question.
        max_false_abstention: largest share of answerable questions allowed to abstain.
        source: where the questions came from (recorded in the calibration).

    Raises:
        ConfigError: no answerable question has a confidence, or a rate outside [0, 1).
    """
    answers = retriever.ask_many([q.question for q in questions], k=k, highlight=False)
    pos = [a.confidence for q, a in zip(questions, answers) if q.answers and a.confidence is not None]
    neg = [a.confidence for q, a in zip(questions, answers) if not q.answers and a.confidence is not None]
    threshold = choose_threshold(pos, neg, max_false_abstention=max_false_abstention)
    return Calibration(
        threshold=threshold,
        model=retriever.index.model_name,
        n_answerable=len(pos),
        n_unanswerable=len(neg),
        false_abstention=round(sum(s < threshold for s in pos) / len(pos), 4),
        abstention=round(sum(s < threshold for s in neg) / len(neg), 4) if neg else None,
        max_false_abstention=max_false_abstention,
        source=source,
        created_at=utc_now(),
        signal=confidence_signal(retriever.index.settings),
    )
