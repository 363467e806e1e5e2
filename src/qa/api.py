"""The HTTP JSON API (`/api/v1`): search, documents and health, served beside the web UI.

`build_api` makes a FastAPI app that `qa.ui.server.launch` mounts at `/api` on the
Gradio server's own FastAPI app, so one port serves both. Answers have exactly the
shape of `qa batch` JSONL. With `--auth`, every API route (and the docs) needs the same
user and password, sent as HTTP Basic; the body size, batch size, question length and
k are limited (`ApiLimits`); the docs at `/api/docs` are served from local files.
About 420 lines, half of them the pydantic request and response schemas the docs show.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.routing import Route

from qa import __version__
from qa.batch import MAX_HISTORY, MAX_QUESTION_CHARS
from qa.config import RetrievalMode
from qa.errors import QAError
from qa.inspection import document_infos
from qa.retrieval import Filter, Retriever

__all__ = ["API_PREFIX", "ApiLimits", "build_api"]

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
OPENAPI_PATH = "/openapi.json"
MAX_K = 100

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class ApiLimits:
    """What one API request may ask for; over a limit is 413 (body) or 422 (the rest)."""

    max_body_bytes: int = 1_000_000
    max_questions: int = 100
    max_question_chars: int = MAX_QUESTION_CHARS
    max_k: int = MAX_K


# -- request and response schemas (what /api/docs shows) --------------------------------


class FilterIn(BaseModel):
    """Search only some documents: alternatives within a field, every field that is set must match."""

    model_config = ConfigDict(extra="forbid")

    doc: list[str] | str | None = Field(
        None, description="document ids (paths relative to the corpus folder)"
    )
    under: list[str] | str | None = Field(
        None, description="folder prefixes, e.g. `reports` or `reports/2024`"
    )
    type: list[str] | str | None = Field(None, description="file types: txt, md, html, pdf")
    title: list[str] | str | None = Field(None, description="words every allowed title contains")


class SearchIn(BaseModel):
    """One question (`question`) or several (`questions`), searched with the same settings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "How many US soldiers died in May?", "k": 3},
                {"questions": ["who was nominated prime minister", "seats won"], "mode": "bm25"},
                {"question": "casualties", "filters": {"doc": ["004_1d47129261bda866.txt"]}},
            ]
        },
    )

    question: str | None = Field(None, description="one question")
    questions: list[str] | None = Field(None, description="several questions, answered in order")
    ids: list[str] | None = Field(None, description="an id per question (default q1, q2, ...)")
    k: int = Field(5, ge=1, le=MAX_K, description="passages per question")
    mode: RetrievalMode = Field(RetrievalMode.HYBRID, description="hybrid, dense or bm25")
    filters: FilterIn | None = None
    history: list[str] | None = Field(
        None,
        description="earlier questions of the conversation, oldest first: a follow-up question is "
        "read with them (every question of the request shares this history)",
    )

    @model_validator(mode="after")
    def _one_of(self) -> SearchIn:
        if (self.question is None) == (self.questions is None):
            raise ValueError('send either "question" (a string) or "questions" (a list of strings)')
        if self.ids is not None and len(self.ids) != len(self.texts()):
            raise ValueError(f'"ids" has {len(self.ids)} entries for {len(self.texts())} questions')
        return self

    def texts(self) -> list[str]:
        return [self.question] if self.question is not None else list(self.questions or [])


class HighlightOut(BaseModel):
    start: int
    end: int
    score: float


class PassageOut(BaseModel):
    """One cited passage: `text` is exactly the document's text[start:end]."""

    rank: int
    passage_id: str
    doc: str
    title: str
    start: int
    end: int
    paragraphs: list[int]
    page: int | None
    heading: str | None
    text: str
    score: float
    scores: dict[str, float]
    ranks: dict[str, int]
    highlights: list[HighlightOut]
    citation: str


class AnswerOut(BaseModel):
    """One question's answer, as one line of `qa batch` JSONL output."""

    id: str | None
    question: str
    answered: bool = Field(description="false when qa abstains: no passage is close enough")
    confidence: float | None
    passages: list[PassageOut]
    read_with: list[str] | None = Field(
        None,
        description='with "history": the earlier questions this one was read with (empty: it stands alone)',
    )


class SearchOut(BaseModel):
    answers: list[AnswerOut]


class DocumentOut(BaseModel):
    doc: str = Field(description="the document id: its path relative to the corpus folder")
    title: str
    type: str
    passages: int
    size: int = Field(description="bytes of the source file")
    indexed_at: str | None


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class SpanOut(BaseModel):
    passage_id: str
    start: int
    end: int
    paragraphs: list[int]
    page: int | None
    heading: str | None
    text: str


class DocumentDetailOut(DocumentOut):
    text: str = Field(description="the text exactly as indexed; passage offsets index into it")
    page_starts: list[int] = Field(description="for PDFs, the offset where each page starts")
    spans: list[SpanOut] = Field(description="the document's passages in order")


class HealthOut(BaseModel):
    status: str
    version: str
    model: str
    documents: int
    passages: int


# -- request guards ---------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes` (declared or streamed)."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body over the limit of {self.max_bytes:,} bytes; send fewer questions"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await self._refuse(send)


def _auth_guard(credentials: tuple[str, str] | None) -> Callable[..., None]:
    basic = HTTPBasic(auto_error=False, realm="qa")

    def require(given: HTTPBasicCredentials | None = Depends(basic)) -> None:  # noqa: B008 - FastAPI's idiom
        if credentials is None:
            return
        user, password = credentials
        ok = given is not None and (
            secrets.compare_digest(given.username.encode(), user.encode())
            & secrets.compare_digest(given.password.encode(), password.encode())
        )
        if not ok:
            raise HTTPException(
                status_code=401,
                detail="authentication required: send the server's --auth user and password (HTTP Basic)",
                headers={"WWW-Authenticate": 'Basic realm="qa"'},
            )

    return require


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


# -- the app ----------------------------------------------------------------------------


def build_api(
    retriever: Retriever,
    *,
    auth: tuple[str, str] | None = None,
    limits: ApiLimits | None = None,
) -> FastAPI:
    """The API app over `retriever` (it follows the retriever's live index).

    Args:
        retriever: answers the searches; a Collection swapping its index is seen at once.
        auth: (user, password) every request must send as HTTP Basic; None: open.
        limits: body, batch, question and k limits.
    """
    from fastapi_offline import FastAPIOffline

    limits = limits or ApiLimits()
    # The docs page and its scripts come from local files: qa runs offline.
    api = FastAPIOffline(
        title="qa API",
        version="1",
        description="Cited passages from your own documents: every passage is exactly "
        "`document_text[start:end]`. Answers have the shape of `qa batch` JSONL.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        dependencies=[Depends(_auth_guard(auth))],
    )
    # FastAPI serves its schema outside the app's dependencies: serve it behind them instead.
    api.router.routes = [
        r for r in api.router.routes if not (isinstance(r, Route) and r.path == OPENAPI_PATH)
    ]

    @api.get(OPENAPI_PATH, include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return api.openapi()

    api.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    # exclude_unset: `read_with` appears only with a history, as in `qa batch` output.
    @api.post("/v1/search", response_model=SearchOut, response_model_exclude_unset=True, tags=["search"])
    def search(request: SearchIn) -> dict[str, Any]:
        """Answer one or more questions with the top-k exact source passages and their citations."""
        questions = [q.strip() for q in request.texts()]
        if not questions:
            raise _unprocessable('"questions" is empty; send at least one question')
        if len(questions) > limits.max_questions:
            raise _unprocessable(
                f"{len(questions)} questions, over the limit of {limits.max_questions} per request; split them"
            )
        if request.k > limits.max_k:
            raise _unprocessable(f"k={request.k} is over the limit of {limits.max_k}")
        for i, q in enumerate(questions, start=1):
            if not q:
                raise _unprocessable(f"question {i} is empty")
            if len(q) > limits.max_question_chars:
                raise _unprocessable(
                    f"question {i} is {len(q)} characters, over the limit of {limits.max_question_chars}"
                )
        extra: dict[str, Any] = {}
        if request.history is not None:
            history = [h.strip() for h in request.history if h.strip()]
            if sum(len(h) for h in history) > limits.max_question_chars * MAX_HISTORY:
                raise _unprocessable(
                    f'"history" is longer than {MAX_HISTORY} questions of {limits.max_question_chars} characters'
                )
            extra["history"] = [history] * len(questions)
        retriever.refresh()  # a snapshot another process (`qa index`) published
        try:
            flt = Filter.from_dict(request.filters.model_dump(exclude_none=True)) if request.filters else None
            answers = retriever.ask_many(
                questions,
                k=request.k,
                mode=request.mode,
                qids=request.ids or [f"q{i}" for i in range(1, len(questions) + 1)],
                filters=flt,
                **extra,
            )
        except QAError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        return {"answers": [a.to_dict() for a in answers]}

    @api.get("/v1/documents", response_model=DocumentsOut, tags=["documents"])
    def documents() -> dict[str, Any]:
        """The indexed documents, sorted by id."""
        retriever.refresh()
        return {
            "documents": [
                {
                    "doc": d.doc_id,
                    "title": d.title,
                    "type": d.fmt,
                    "passages": d.passages,
                    "size": d.size,
                    "indexed_at": d.indexed_at,
                }
                for d in document_infos(retriever.index)
            ]
        }

    @api.get("/v1/documents/{doc_id:path}", response_model=DocumentDetailOut, tags=["documents"])
    def document(doc_id: str) -> dict[str, Any]:
        """One document: its text exactly as indexed and its passages (offsets into that text)."""
        index = retriever.index
        found = index.documents.get(doc_id)
        if found is None:
            raise HTTPException(
                status_code=404,
                detail=f"no document {doc_id!r} in the index; GET /api/v1/documents lists them",
            )
        meta = index.manifest.documents.get(doc_id)
        spans = [
            {
                "passage_id": p.passage_id,
                "start": p.start,
                "end": p.end,
                "paragraphs": [p.paragraph_start, p.paragraph_end],
                "page": found.page_of(p.start),
                "heading": p.heading,
                "text": p.text,
            }
            for p in (index.passages[row] for row in index.passages.rows_of(doc_id))
        ]
        return {
            "doc": doc_id,
            "title": found.title,
            "type": found.fmt,
            "passages": len(spans),
            "size": found.size,
            "indexed_at": (meta.indexed_at or None) if meta is not None else None,
            "text": found.text,
            "page_starts": list(found.page_starts),
            "spans": sorted(spans, key=lambda s: s["start"]),
        }

    @api.get("/v1/health", response_model=HealthOut, tags=["health"])
    def health() -> dict[str, Any]:
        """Whether the server answers, and what its index holds."""
        index = retriever.index
        return {
            "status": "ok",
            "version": __version__,
            "model": index.model_name,
            "documents": len(index.documents),
            "passages": len(index),
        }

    return api
