"""The `qa` command line: index, ask, batch, status, check, serve, eval, calibrate. Thin over the library.

Argument parsing and printing only. It is over 400 lines because it defines nine
commands with their help texts (about 250 lines of argparse) and prints each result;
what the commands compute lives in the library (`qa.inspection`, `qa.abstention`, ...).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa import __version__
from qa.batch import OutputFormat
from qa.config import (
    Context,
    IndexSettings,
    RetrievalMode,
    SentencePooling,
    StoreSettings,
    configured_auth,
    configured_host,
    configured_port,
    default_corpus_dir,
    default_index_dir,
)
from qa.embedding import BACKENDS
from qa.errors import QAError
from qa.stores import STORES
from qa.stores.faiss import IndexType

__all__ = ["main", "build_parser"]

logger = logging.getLogger("qa")

EPILOG = """\
examples:
  qa index                                  index seeds/ into embeddings/
  qa ask "How many US soldiers died in May?"
  qa ask "who was nominated prime minister" -k 3 --mode bm25 --json
  qa batch questions.jsonl --out answers.jsonl
  qa batch questions.csv --format trec --out run.trec
  qa ask "casualties in May" --doc 004_1d47129261bda866.txt --type txt
  qa --corpus ~/notes --index ~/notes-index index

environment: QA_CORPUS, QA_INDEX and QA_MODEL set the defaults of
--corpus, --index and --model.
"""


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("collection")
    g.add_argument(
        "--corpus",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of documents (default: $QA_CORPUS or seeds/)",
    )
    g.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="DIR",
        help="index folder (default: $QA_INDEX or embeddings/)",
    )
    g.add_argument(
        "--model",
        default=None,
        metavar="NAME_OR_PATH",
        help="sentence-transformers model folder (default: $QA_MODEL, else the index's "
        "model, else the packaged all-MiniLM-L6-v2)",
    )
    g.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    g.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")


def _store_options(p: argparse.ArgumentParser) -> None:
    """--index-type, --store and --store-uri (for `qa index` and the BEIR build of `qa eval`)."""
    _choice(
        p,
        "--index-type",
        # FAISS's kinds; milvus also takes `ivf` (IVF_FLAT) and has no ivfpq (docs/STORES.md).
        sorted({t.value for t in IndexType} | {"ivf"}),
        "the store's index kind (default: auto: exact below 200k passages, compressed above)",
    )
    _choice(p, "--store", sorted(STORES), "vector store (default: the index's, else $QA_STORE, else faiss)")
    p.add_argument(
        "--store-uri",
        default=None,
        help="milvus: a server URI (http://HOST:19530) or a milvus-lite file "
        "(default: milvus.db in the index folder; $QA_STORE_URI)",
    )


def _store_settings(args: argparse.Namespace) -> StoreSettings | None:
    """The store asked for on the command line, or None to keep the index's."""
    if not (args.store or args.store_uri):
        return None
    return StoreSettings.from_env(name=args.store, index_type=args.index_type, uri=args.store_uri)


def _choice(p: argparse.ArgumentParser, flag: str, choices: list[str], help: str) -> None:
    """An option whose values come from an enum or a registry (default None: decided later)."""
    p.add_argument(flag, choices=choices, default=None, help=help)


def _search_opts(p: argparse.ArgumentParser, k: int) -> None:
    p.add_argument("-k", type=int, default=k, help=f"passages per question (default: {k})")
    p.add_argument(
        "--mode",
        default=RetrievalMode.HYBRID.value,
        choices=[m.value for m in RetrievalMode],
        help="retrieval mode (default: hybrid = dense + BM25 fused with RRF)",
    )
    g = p.add_argument_group("filters (repeat a flag for alternatives; different flags must all match)")
    g.add_argument("--doc", action="append", default=[], metavar="ID", help="only this document id")
    g.add_argument("--under", action="append", default=[], metavar="FOLDER", help="only documents in FOLDER")
    g.add_argument(
        "--type", action="append", default=[], metavar="TYPE", help="only txt, md, html or pdf files"
    )
    g.add_argument("--title", action="append", default=[], metavar="WORDS", help="only titles with all WORDS")


def _filter(args: argparse.Namespace):
    """The command line's Filter, or None when no filter flag is given."""
    from qa.retrieval.filters import Filter

    flt = Filter.of(doc_ids=args.doc, folders=args.under, types=args.type, title_words=args.title)
    return flt or None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Answer questions over a folder of documents with exact, cited source passages.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "index",
        help="build or update the index (incremental)",
        description="Index the corpus folder. Unchanged documents keep their vectors; "
        "changed ones are re-embedded; deleted ones are removed. The index "
        "is replaced atomically.",
    )
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    p.add_argument(
        "--recover",
        action="store_true",
        help="go back to the newest intact snapshot if the live one is damaged",
    )
    p.add_argument(
        "--max-tokens", type=int, default=None, help="largest passage, in word pieces (default 192)"
    )
    p.add_argument(
        "--min-tokens", type=int, default=None, help="merge paragraphs shorter than this (default 64)"
    )
    p.add_argument(
        "--overlap",
        type=int,
        default=None,
        help="sentences shared by pieces of a split paragraph (default 1)",
    )
    _choice(
        p,
        "--context",
        [c.value for c in Context],
        "text prepended to each passage before embedding (default: title)",
    )
    _choice(
        p,
        "--sentences",
        [*(s.value for s in SentencePooling), "none"],
        "sentence vectors (reranking, highlights, abstention): late = pooled from each "
        "passage's own forward pass, no extra encoder work (default); separate = each sentence "
        "embedded alone (about 2x the work); none = passage vectors only",
    )
    _store_options(p)
    _choice(
        p,
        "--backend",
        list(BACKENDS),
        "embedding backend (default: the index's, else $QA_BACKEND, else onnx-int8); "
        "onnx-int8 is exported once from the packaged weights, offline",
    )
    p.add_argument("--max-bytes", type=int, default=None, help="skip files larger than this (default 20 MB)")
    budget = p.add_argument_group(
        "per-file budgets (a file over one is skipped, the limit named; docs/BUDGETS.md)"
    )
    budget.add_argument(
        "--max-seconds",
        metavar="S",
        type=float,
        default=None,
        help="time to read one file (default 30; 0 = no limit)",
    )
    budget.add_argument(
        "--max-pages", metavar="N", type=int, default=None, help="pages in one PDF (default 2000)"
    )
    budget.add_argument(
        "--max-decompressed-bytes",
        type=int,
        default=None,
        help="bytes a PDF's streams may inflate to (default 50 MB)",
    )
    budget.add_argument(
        "--max-depth",
        metavar="N",
        type=int,
        default=None,
        help="element nesting in one HTML file (default 1000)",
    )
    budget.add_argument(
        "--max-chars",
        metavar="N",
        type=int,
        default=None,
        help="characters extracted from one file (default 20 M)",
    )
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="index symbolic links that stay inside the corpus folder (default: skip every link)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _watch_options(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer one question with cited passages")
    _common(p)
    p.add_argument("question", help="the question")
    _search_opts(p, 5)
    p.add_argument(
        "--after",
        action="append",
        default=None,
        metavar="PREVIOUS",
        help="an earlier question of the conversation (repeatable, oldest first); a follow-up such as "
        "'and in May?' is then read with it (docs/CONVERSATIONS.md)",
    )
    p.add_argument("--json", action="store_true", help="print the answer as JSON (batch schema)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "batch",
        help="answer a file of questions",
        description="INPUT: .jsonl lines with 'question' (and optional 'id', 'history' (the "
        "conversation's earlier questions) and 'filters', e.g. "
        '"filters": {"doc": ["a.txt"], "under": ["reports"], "type": ["pdf"], "title": "words"}), '
        "a .csv with an 'id,question' header, or a .txt file with one question per line. A line's "
        "filter fields replace the same command-line filter flags.",
    )
    _common(p)
    p.add_argument("input", type=Path, help="question file (.jsonl, .csv or .txt); - reads JSONL from stdin")
    p.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    p.add_argument(
        "--format",
        default=None,
        choices=[f.value for f in OutputFormat],
        help="output format (default: from --out's suffix, else jsonl)",
    )
    _search_opts(p, 10)
    p.add_argument("--strict", action="store_true", help="stop at the first malformed input line")
    p.add_argument(
        "--max-question-chars",
        type=int,
        default=2000,
        metavar="N",
        help="reject questions longer than N characters (default 2000)",
    )
    p.add_argument("--batch-size", type=int, default=64, help="questions embedded per batch (default 64)")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("status", help="show the index: model, settings, documents, staleness")
    _common(p)
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "check",
        help="verify the index: every file's checksum, and every citation against its document",
        description="Hash every file of the live index snapshot against the manifest (also on "
        "indexes too big to hash at each load), and check that each passage is exactly the "
        "slice of its document it cites. Exit status 1 names the first problem found.",
    )
    _common(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "serve",
        help="start the web UI and the JSON API (builds the index first if needed)",
        description="Serve the web UI at / and the HTTP JSON API at /api/v1 (search, documents, "
        "health; OpenAPI docs at /api/docs) on one port. --auth protects both (the API with HTTP "
        "Basic). See docs/API.md.",
    )
    _common(p)
    p.add_argument(
        "--host",
        default=configured_host(),
        help="interface to bind (default 127.0.0.1, loopback only)",
    )
    p.add_argument("--port", type=int, default=configured_port(), help="port (default: $QA_PORT, else 7860)")
    p.add_argument("--no-index", action="store_true", help="do not build or update the index on start")
    p.add_argument(
        "--auth",
        default=configured_auth(),
        metavar="USER:PASSWORD",
        help="require this login (default: $QA_AUTH); strongly advised with a non-loopback --host",
    )
    _watch_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "eval",
        help="measure retrieval quality on a question set or a BEIR benchmark",
        description="QUESTIONS: .jsonl lines {id, question, answers: [{doc, quote}]} (answers [] = "
        "unanswerable) or a .csv with the columns id,question,doc,quote. A passage is relevant "
        "when it comes from the quote's document and covers at least half of the quote. "
        "With --beir DIR, evaluate a BEIR corpus (corpus.jsonl, queries.jsonl, qrels/) at "
        "document level on its own index.",
    )
    _common(p)
    p.add_argument("questions", nargs="?", type=Path, default=None, help="question set (.jsonl or .csv)")
    p.add_argument("--beir", type=Path, default=None, metavar="DIR", help="evaluate a BEIR folder instead")
    p.add_argument(
        "--beir-index",
        type=Path,
        default=None,
        metavar="DIR",
        help="index folder of the BEIR corpus (default: embeddings-beir/<name>/; built if missing)",
    )
    p.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    p.add_argument(
        "--no-sentences",
        action="store_true",
        help="build the BEIR index without sentence vectors (about 4x faster to embed; "
        "no best-sentence reranking)",
    )
    _store_options(p)  # for the BEIR index only
    p.add_argument(
        "--compare",
        default="hybrid",
        metavar="CONFIGS",
        help="comma-separated configurations to run side by side, e.g. dense,bm25,hybrid (default: hybrid)",
    )
    p.add_argument("-k", type=int, default=10, help="cut-off for hit rate and failures (default: 10)")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.add_argument(
        "--out-dir", type=Path, default=None, metavar="DIR", help="write JSON, text, PNG and HTML reports"
    )
    p.add_argument(
        "--html", type=Path, default=None, metavar="FILE", help="write the self-contained HTML report"
    )
    p.add_argument("--lenient", action="store_true", help="skip quotes not found in their document")
    p.add_argument("--failures", type=int, default=10, help="failing questions printed per configuration")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "calibrate",
        help="recompute the abstention threshold on your own question set",
        description="Run a question set (the `qa eval` format: answerable questions with quotes and "
        "unanswerable ones with answers []) and store in the index folder the threshold below which "
        "answers abstain, chosen so that at most --max-false-abstention of the answerable questions "
        "abstain. `qa ask`, `qa batch` and the web UI use it from then on.",
    )
    _common(p)
    p.add_argument("questions", type=Path, help="question set (.jsonl or .csv)")
    p.add_argument(
        "--max-false-abstention",
        type=float,
        default=0.02,
        help="largest share of answerable questions allowed to abstain (default 0.02)",
    )
    p.add_argument("-k", type=int, default=5, help="passages per question (default: 5)")
    p.add_argument("--dry-run", action="store_true", help="print the threshold without storing it")
    p.set_defaults(func=cmd_calibrate)
    return parser


# -- helpers -----------------------------------------------------------------------


def _setup_logging(args: argparse.Namespace) -> None:
    level = (
        logging.ERROR if args.quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("qa: %(levelname)s: %(message)s"))
    # Third-party libraries are chatty below WARNING (and some set their own levels);
    # show their detail only with -vv.
    if args.verbose < 2:
        handler.addFilter(lambda r: r.name.startswith("qa") or r.levelno >= logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    return (args.corpus or default_corpus_dir(), args.index or default_index_dir())


def _open_retriever(args: argparse.Namespace, **kwargs: Any):
    from qa.retrieval import Retriever

    corpus, index = _dirs(args)
    return Retriever.open(index, corpus_dir=corpus, model=args.model, **kwargs)


def _print_answer(answer, out=None) -> None:
    out = out or sys.stdout
    if answer.read_with:
        out.write(f"read with: {' / '.join(answer.read_with)}\n\n")
    if not answer.hits:
        out.write("No passage found.\n")
        return
    if not answer.answered:
        out.write("No relevant passage found; the closest passages are below (low confidence).\n\n")
    width = 100
    for hit in answer.hits:
        out.write(f"{hit.label()}  score {hit.score:.4f}\n")
        title = hit.passage.title + (f" > {hit.passage.heading}" if hit.passage.heading else "")
        out.write(f"    {title}\n")
        for para in hit.text.split("\n"):
            wrapped = textwrap.fill(
                para, width=width, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
            )
            out.write((wrapped or "    ") + "\n")
        out.write("\n")


# -- commands ----------------------------------------------------------------------


def _extraction_limits(args: argparse.Namespace):
    from dataclasses import replace

    from qa.ingest import DEFAULT_LIMITS

    given = {
        "seconds": args.max_seconds,
        "pages": args.max_pages,
        "decompressed_bytes": args.max_decompressed_bytes,
        "depth": args.max_depth,
        "chars": args.max_chars,
    }
    return replace(DEFAULT_LIMITS, **{k: v for k, v in given.items() if v is not None})


def _watch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep running and re-index files added, changed or removed in the corpus folder",
    )
    p.add_argument(
        "--debounce",
        type=int,
        default=1500,
        metavar="MS",
        help="with --watch: re-index once the folder was quiet this long (default 1500 ms)",
    )


def cmd_index(args: argparse.Namespace) -> int:
    from qa.indexing import build_index, settings_for
    from qa.ingest import DEFAULT_MAX_BYTES

    corpus, index = _dirs(args)
    if args.recover:
        from qa.index import recover_index

        print(recover_index(index).summary())
        return 0
    sentences = args.sentences
    settings = settings_for(
        index,
        {
            "max_tokens": args.max_tokens,
            "min_tokens": args.min_tokens,
            "overlap": args.overlap,
            "context": args.context,
            "sentence_vectors": None if sentences is None else sentences != "none",
            "sentence_pooling": sentences if sentences in {p.value for p in SentencePooling} else None,
        },
    )
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    report = build_index(
        corpus,
        index,
        model=args.model,
        settings=settings,
        index_type=args.index_type,
        store=_store_settings(args),
        backend=args.backend,
        rebuild=args.rebuild,
        max_bytes=args.max_bytes or DEFAULT_MAX_BYTES,
        show_progress=progress,
        limits=_extraction_limits(args),
        follow_symlinks=args.follow_symlinks,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif not args.quiet:
        print(report.summary())
    if args.watch:
        from qa.watching import CorpusWatcher

        def reindex(_progress) -> str:
            again = build_index(
                corpus, index, model=args.model, max_bytes=args.max_bytes or DEFAULT_MAX_BYTES
            )
            print(again.summary(), flush=True)
            return again.summary()

        watcher = CorpusWatcher(corpus, reindex, debounce_ms=args.debounce, ignore_dir=index).start()
        print(f"watching {corpus} for changes; Ctrl-C stops", flush=True)
        watcher.wait()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    flt = _filter(args)
    retriever = _open_retriever(args)
    answer = retriever.ask(args.question, k=args.k, mode=args.mode, history=args.after, filters=flt)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from qa.batch import question_filters, read_questions, write_answers

    if str(args.input) == "-":
        questions, bad = read_questions(
            Path("stdin.jsonl"), strict=args.strict, stream=sys.stdin, max_chars=args.max_question_chars
        )
    else:
        questions, bad = read_questions(args.input, strict=args.strict, max_chars=args.max_question_chars)
    fmt = args.format or (args.out.suffix.lstrip(".").lower() if args.out else "jsonl")
    if fmt not in {f.value for f in OutputFormat}:
        fmt = OutputFormat.JSONL.value
    base = _filter(args)
    retriever = _open_retriever(args)
    questions, filters, unknown = question_filters(
        questions, retriever.index.documents, base=base, strict=args.strict, path=args.input
    )
    bad = [*bad, *unknown]
    t0 = time.perf_counter()
    progress = sys.stderr.isatty() and not args.quiet

    def answers():
        from tqdm import tqdm

        bar = tqdm(total=len(questions), unit="q", disable=not progress, file=sys.stderr)
        for i in range(0, len(questions), args.batch_size):
            part = questions[i : i + args.batch_size]
            with_history = any(q.history is not None for q in part)
            found = retriever.ask_many(
                [q.question for q in part],
                k=args.k,
                mode=args.mode,
                qids=[q.qid for q in part],
                history=[list(q.history or ()) for q in part] if with_history else None,
                filters=filters[i : i + args.batch_size],
            )
            # `read_with` only on the questions that came with a history.
            yield from (
                a if q.history is not None else replace(a, read_with=None) for q, a in zip(part, found)
            )
            bar.update(len(part))
        bar.close()

    if args.out:
        tmp = args.out.with_name(args.out.name + ".partial")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            n = write_answers(answers(), out, fmt)
        os.replace(tmp, args.out)
    else:
        n = write_answers(answers(), sys.stdout, fmt)
    dt = time.perf_counter() - t0
    logger.info("answered %d questions in %.2fs (%.1f questions/s)", n, dt, n / dt if dt else 0)
    if bad:
        logger.warning("%d input line(s) skipped: %s", len(bad), "; ".join(str(b) for b in bad[:5]))
        return 1 if not questions else 0
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from qa.index import Index
    from qa.inspection import index_status

    corpus, index_dir = _dirs(args)
    status = index_status(Index.load(index_dir), corpus_dir=corpus)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"index     {status.path}")
    print(f"built     {status.built_at}  (qa {status.qa_version})")
    print(f"model     {status.model_name}  ({status.model['dimension']} dims, {status.backend} backend)")
    print(f"settings  {status.settings}")
    print(f"store     {status.store['name']} ({status.store.get('type', '')})")
    if status.store.get("collection"):  # a server-backed store: where its data lives
        print(
            f"          collection {status.store['collection']} at {status.store.get('uri') or 'milvus.db'}"
        )
    print(f"contents  {status.n_documents} documents, {status.n_passages} passages")
    for d, meta in sorted(status.documents.items()):
        print(f"  {d}  {meta['passages']:>4} passages  {meta['size']:>9,} bytes  {meta['title'][:50]}")
    if status.stale:
        print(f"stale     {status.stale.describe()} - run `qa index`")
    else:
        print("stale     no: the corpus matches the index")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from qa.inspection import check_index

    _, index_dir = _dirs(args)
    result = check_index(index_dir)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(
            f"OK: {result.index}: {result.files} files match their sha256, "
            f"{result.passages} passages of {result.documents} documents cite their text exactly"
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.ui import serve

    corpus, index = _dirs(args)
    serve(
        corpus_dir=corpus,
        index_dir=index,
        model=args.model,
        host=args.host,
        port=args.port,
        build=not args.no_index,
        auth=args.auth,
        watch=args.watch,
        debounce_ms=args.debounce,
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import evaluate, evaluate_beir, parse_configurations
    from qa.evaluation.report import failures_text, format_table, render_html, report_json, write_reports
    from qa.retrieval import Retriever

    configs = parse_configurations(args.compare)
    if args.beir is not None:
        from qa.evaluation.beir import beir_index_dir, ensure_beir_index, load_beir

        if args.questions is not None:
            raise QAError("give either a question set or --beir DIR, not both")
        beir = load_beir(args.beir, split=args.split)
        index_dir = args.beir_index or beir_index_dir(beir)
        settings = IndexSettings(sentence_vectors=False) if args.no_sentences else None
        build = ensure_beir_index(
            beir,
            index_dir,
            model=args.model,
            settings=settings,
            index_type=args.index_type,
            store=_store_settings(args),
            show_progress=sys.stderr.isatty(),
        )
        logger.info("%s", build.summary())
        retriever = Retriever.open(index_dir, model=args.model)
        report = evaluate_beir(beir, retriever, configurations=configs, k=args.k)
        stem = f"beir-{beir.name}-{beir.split}"
    else:
        from qa.errors import IndexNotFoundError
        from qa.evaluation import read_question_set

        if args.questions is None:
            raise QAError("give a question set (.jsonl or .csv), or --beir DIR")
        questions = read_question_set(args.questions)
        try:
            retriever = _open_retriever(args)
        except IndexNotFoundError:
            from qa.indexing import build_index

            corpus, index_dir = _dirs(args)
            logger.warning("no index in %s yet; building it from %s", index_dir, corpus)
            build_index(corpus, index_dir, model=args.model)
            retriever = _open_retriever(args)
        report = evaluate(
            questions,
            retriever,
            configurations=configs,
            k=args.k,
            lenient=args.lenient,
            source=str(args.questions),
        )
        stem = args.questions.stem
    if args.out_dir:
        for kind, path in write_reports(report, args.out_dir, stem=stem).items():
            logger.info("%s report: %s", kind, path)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(report), encoding="utf-8")
    if args.json:
        print(report_json(report))
    elif not args.quiet:
        print(format_table(report))
        if args.failures > 0:
            print()
            print(failures_text(report, limit=args.failures))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from qa.abstention import calibrate, save_calibration
    from qa.evaluation import read_question_set

    _, index_dir = _dirs(args)
    retriever = _open_retriever(args)
    questions = read_question_set(args.questions)
    calibration = calibrate(
        retriever,
        questions,
        k=args.k,
        max_false_abstention=args.max_false_abstention,
        source=str(args.questions),
    )
    neg = calibration.n_unanswerable
    print(
        f"threshold {calibration.threshold:.4f} ({calibration.signal}): {calibration.n_answerable} answerable "
        f"questions, {calibration.false_abstention:.1%} would abstain; {neg} unanswerable"
        + (f", {calibration.abstention:.1%} abstain" if neg else "")
    )
    if not args.dry_run:
        print(f"stored in {save_calibration(index_dir, calibration)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args)
    try:
        return int(args.func(args) or 0)
    except QAError as exc:
        logger.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        logger.error("interrupted; the index on disk is unchanged")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
