"""The Gradio web chat, built on the library (no retrieval logic here)."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.indexing import build_index  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.types import Answer  # noqa: E402

__all__ = ["build_app", "render_answer", "serve"]

logger = logging.getLogger(__name__)


def render_answer(answer: Answer) -> str:
    """An answer as HTML: numbered quotes, each exactly its source slice, with its citation."""
    if not answer.hits:
        return "<p>No passage found.</p>"
    parts = []
    for hit in answer.hits:
        parts.append(
            f'<div class="qa-hit"><div class="qa-cite">{html.escape(hit.label())} '
            f"· score {hit.score:.4f}</div>"
            f'<blockquote class="qa-quote" style="white-space: pre-wrap">{html.escape(hit.text)}</blockquote></div>'
        )
    return "\n".join(parts)


def build_app(retriever: Retriever):
    import gradio as gr

    def respond(message: str, history: list):
        message = (message or "").strip()
        if not message:
            return history, ""
        answer = retriever.ask(message, k=5)
        history = history + [
            {"role": "user", "content": message},
            {"role": "assistant", "content": render_answer(answer)},
        ]
        return history, ""

    with gr.Blocks(title="qa") as demo:
        gr.Markdown("# qa\nAsk a question; the answer is the exact source passages, with citations.")
        chat = gr.Chatbot(label="Answers", height=520)
        box = gr.Textbox(label="Question", placeholder="e.g. How many US soldiers died in May?")
        box.submit(respond, [box, chat], [chat, box], api_name="ask_chat")
    return demo


def serve(
    *,
    corpus_dir: Path,
    index_dir: Path,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    build: bool = True,
) -> None:
    """Build or update the index if needed, then serve the UI."""
    if build:
        report = build_index(corpus_dir, index_dir, model=model, show_progress=True)
        logger.warning("%s", report.summary())
    retriever = Retriever.open(index_dir, corpus_dir=corpus_dir, model=model)
    demo = build_app(retriever)
    demo.queue().launch(server_name=host, server_port=port, show_error=True)
