"""Check the collections' question sets against their built corpora, with qa's own reader.

For each collection: every quote must be found (qa's `validate_quotes`, strict) in the
text qa extracts from its document (HTML visible text, PDF text layer), ids must be
unique across train and test, and the split rule must hold: an id whose number is odd
is in train.jsonl, an even one in test.jsonl. Prints a summary line per file and exits
non-zero on the first problem, naming it.

Usage (from the repository root, after `python eval/collections/build.py`)::

    .venv/bin/python eval/collections/validate.py                  # every collection
    .venv/bin/python eval/collections/validate.py tools-mixed
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.questions import read_question_set, validate_quotes
from qa.ingest import scan_corpus

logger = logging.getLogger("collections.validate")

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "test")


class ValidationError(Exception):
    """A question set does not match its corpus or the split rule."""


def id_number(qid: str) -> int:
    """The number at the end of an id (`dm-017` -> 17, `dm-u03` -> 3)."""
    tail = qid.rsplit("-", 1)[-1].lstrip("u")
    if not tail.isdigit():
        raise ValidationError(f"id {qid!r} does not end in a number; ids look like 'dm-017' or 'dm-u03'")
    return int(tail)


def validate(name: str) -> None:
    corpus = HERE / name / "corpus"
    if not corpus.is_dir():
        raise ValidationError(f"{corpus} does not exist; run `python eval/collections/build.py {name}` first")
    scan = scan_corpus(corpus)
    if scan.skipped:
        raise ValidationError(
            f"{name}: qa skipped {[s for s in scan.skipped]}; every corpus file must be readable"
        )
    documents = {d.doc_id: d for d in scan.documents}
    seen: set[str] = set()
    for split in SPLITS:
        path = HERE / name / f"{split}.jsonl"
        questions = read_question_set(path)
        validate_quotes(questions, documents)  # raises InputError naming the id, quote and document
        for q in questions:
            if q.qid in seen:
                raise ValidationError(f"{path.name}: id {q.qid!r} appears twice")
            seen.add(q.qid)
            want = "train" if id_number(q.qid) % 2 else "test"
            if want != split:
                raise ValidationError(
                    f"{path.name}: {q.qid} has an {'odd' if want == 'train' else 'even'} number, so it belongs in {want}.jsonl"
                )
        answerable = sum(1 for q in questions if q.answerable)
        docs = {a.doc for q in questions for a in q.answers}
        logger.info(
            "%s/%s: %d questions (%d answerable over %d documents, %d unanswerable), all quotes found",
            name,
            path.name,
            len(questions),
            answerable,
            len(docs),
            len(questions) - answerable,
        )


def collection_names() -> list[str]:
    return sorted(p.parent.name for p in HERE.glob("*/sources.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"collections (default: all of {collection_names()})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        for name in args.names or collection_names():
            validate(name)
    except (ValidationError, QAError) as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
