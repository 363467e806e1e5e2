"""The Gradio web app's layout and events: one builder per tab, then the events wired to UIHandlers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from qa.collection import Collection
from qa.config import RetrievalMode
from qa.errors import QAError
from qa.retrieval import Retriever
from qa.ui.handlers import EXPORT_SCOPES, MAX_K, UIHandlers, examples_for
from qa.ui.rendering import empty_document_html, file_size, status_html, watch_html
from qa.watching import CorpusWatcher

__all__ = ["MODE_LABELS", "AskTab", "DocumentsTab", "build_app"]

# The retrieval modes as the settings offer them, in display order.
MODE_LABELS: dict[RetrievalMode, str] = {
    RetrievalMode.HYBRID: "Hybrid",
    RetrievalMode.DENSE: "Dense",
    RetrievalMode.BM25: "BM25",
}
# Events of the page stay out of the public API (which is `/ask`).
PRIVATE = {"api_visibility": "private"}


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, with library errors shown as a message on the page instead of a stack trace."""
    import gradio as gr

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    return run


@dataclass
class AskTab:
    """The Ask tab's components that events read or write."""

    chat: Any
    question: Any
    ask_btn: Any
    examples: list[tuple[str, Any]]
    clear_btn: Any
    scope: Any
    export_text: Any
    download: Any
    k: Any
    mode: Any
    show_scores: Any
    rerank: Any
    documents: Any
    source: Any
    view_request: Any
    context_request: Any = None


@dataclass
class DocumentsTab:
    """The Documents tab's components; the upload controls are None without a collection."""

    table: Any
    files: Any = None
    to_remove: Any = None
    remove_btn: Any = None
    sync_btn: Any = None
    status: Any = None


def _build_ask_tab(ui: UIHandlers, examples: dict[str, Sequence[str]] | None) -> AskTab:
    import gradio as gr

    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            chat = gr.Chatbot(
                elem_id="qa-chat",
                label="Answers",
                show_label=False,
                height=600,
                autoscroll=False,
                render_markdown=False,
                latex_delimiters=[],
                buttons=[],
                feedback_options=None,
                layout="panel",
                placeholder="Ask a question about your documents. Every answer is a set of exact "
                "quotes with citations; the best-matching sentence is highlighted.",
            )
            with gr.Row(equal_height=True):
                question = gr.Textbox(
                    elem_id="qa-question",
                    show_label=False,
                    placeholder="Ask a question and press Enter",
                    lines=1,
                    max_lines=4,
                    scale=6,
                    autofocus=True,
                )
                ask_btn = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
            example_questions = examples_for(ui.retriever, examples)
            example_buttons = []
            if example_questions:
                gr.Markdown("Try an example:", elem_id="qa-examples-label")
                with gr.Row(elem_id="qa-examples"):
                    for q in example_questions:
                        example_buttons.append((q, gr.Button(q, size="sm", variant="secondary")))
            with gr.Row():
                clear_btn = gr.Button("New conversation", size="sm", elem_id="qa-clear")
            with gr.Accordion("Export as Markdown", open=False, elem_id="qa-export-box"):
                scope = gr.Radio(
                    list(EXPORT_SCOPES), value=EXPORT_SCOPES[0], show_label=False, elem_id="qa-export-scope"
                )
                export_text = gr.Code(
                    language="markdown",
                    buttons=["copy"],
                    interactive=False,
                    elem_id="qa-export",
                    label="Markdown (copy with the button)",
                )
                download = gr.DownloadButton("Download .md", elem_id="qa-download", size="sm")
        with gr.Column(scale=2, min_width=360, elem_id="qa-side"):
            with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                k = gr.Slider(1, MAX_K, value=5, step=1, label="Passages (k)", elem_id="qa-k")
                mode = gr.Radio(
                    [(label, m.value) for m, label in MODE_LABELS.items()],
                    value=RetrievalMode.HYBRID.value,
                    label="Retrieval mode",
                    info="Hybrid combines embeddings and BM25 keywords.",
                    elem_id="qa-mode",
                )
                show_scores = gr.Checkbox(
                    value=False,
                    label="Show each signal's score (dense, BM25, fused, rerank)",
                    elem_id="qa-show-scores",
                )
                rerank = gr.Checkbox(
                    value=True,
                    label="Rerank hybrid results by their best sentence",
                    elem_id="qa-rerank",
                )
                documents = gr.Dropdown(
                    choices=ui.document_ids(),
                    value=[],
                    multiselect=True,
                    label="Search in documents",
                    info="Empty: all documents. The top-k is taken among the picked ones.",
                    elem_id="qa-filter-docs",
                )
            source = gr.HTML(empty_document_html(), elem_id="qa-source", label="In context")
            view_request = gr.Textbox(visible="hidden", elem_id="qa-view-request")
            context_request = gr.Textbox(visible="hidden", elem_id="qa-context-request")
    return AskTab(
        chat=chat,
        question=question,
        ask_btn=ask_btn,
        examples=example_buttons,
        clear_btn=clear_btn,
        scope=scope,
        export_text=export_text,
        download=download,
        k=k,
        mode=mode,
        show_scores=show_scores,
        rerank=rerank,
        documents=documents,
        source=source,
        view_request=view_request,
        context_request=context_request,
    )


def _build_documents_tab(ui: UIHandlers, collection: Collection | None) -> DocumentsTab:
    import gradio as gr

    table = gr.Dataframe(
        value=ui.documents_table(),
        headers=["Document", "Title", "Passages", "Size", "Indexed"],
        datatype=["str", "str", "number", "str", "str"],
        interactive=False,
        wrap=True,
        column_widths=["26%", "44%", "9%", "9%", "12%"],
        elem_id="qa-docs",
        label="Indexed documents",
    )
    if collection is None:
        gr.Markdown("Uploads are disabled: this server was started without a corpus folder.")
        return DocumentsTab(table)
    suffixes = ", ".join(collection.limits.accepted_suffixes())
    with gr.Row(equal_height=False):
        with gr.Column():
            files = gr.File(
                label=f"Add documents ({suffixes}; up to {file_size(collection.limits.max_bytes)} each)",
                file_count="multiple",
                type="filepath",
                elem_id="qa-upload",
            )
        with gr.Column():
            to_remove = gr.Dropdown(
                choices=ui.document_ids(),
                multiselect=True,
                label="Remove documents",
                elem_id="qa-remove-select",
            )
            with gr.Row():
                remove_btn = gr.Button("Remove selected", variant="stop", elem_id="qa-remove")
                sync_btn = gr.Button("Re-scan corpus folder", elem_id="qa-sync")
    status = gr.HTML("", elem_id="qa-upload-status")
    return DocumentsTab(table, files, to_remove, remove_btn, sync_btn, status)


def _wire_ask_tab(ui: UIHandlers, tab: AskTab, views: Any) -> None:
    import gradio as gr

    ask_inputs = [tab.question, views, tab.k, tab.mode, tab.show_scores, tab.rerank, tab.documents]
    ask_outputs = [tab.chat, views, tab.question]
    export_outputs = [tab.export_text, tab.download]

    def on_ask(q, vs, k_, mode_, scores_, rerank_, docs_):
        if not (q or "").strip():
            gr.Warning("Type a question first.")
            return gr.skip(), gr.skip(), gr.skip()
        return _guarded(ui.ask)(q, vs, k_, mode_, scores_, rerank_, docs_)

    def export(vs, scope_):
        text, path = ui.export(vs, scope_)
        return text, gr.DownloadButton(value=path, interactive=path is not None)

    ask_opts = {**PRIVATE, "concurrency_id": "qa-ask", "show_progress": "minimal"}
    for trigger in (tab.question.submit, tab.ask_btn.click):
        trigger(on_ask, ask_inputs, ask_outputs, **ask_opts).then(
            export, [views, tab.scope], export_outputs, **PRIVATE, show_progress="hidden"
        )
    for q, btn in tab.examples:
        btn.click(lambda q=q: q, None, tab.question, **PRIVATE, show_progress="hidden").then(
            on_ask, ask_inputs, ask_outputs, **ask_opts
        ).then(export, [views, tab.scope], export_outputs, **PRIVATE, show_progress="hidden")
    tab.show_scores.change(ui.messages, [views, tab.show_scores], tab.chat, **PRIVATE, show_progress="hidden")
    tab.scope.change(export, [views, tab.scope], export_outputs, **PRIVATE)

    def new_conversation():
        return [], [], empty_document_html(), "", gr.DownloadButton(value=None, interactive=False)

    reset_outputs = [tab.chat, views, tab.source, tab.export_text, tab.download]
    tab.clear_btn.click(new_conversation, None, reset_outputs, **PRIVATE)
    # The chat's own trash button clears the messages; forget the answers with them.
    tab.chat.clear(new_conversation, None, reset_outputs, **PRIVATE)
    tab.view_request.change(
        _guarded(ui.view), [tab.view_request, views], tab.source, **PRIVATE, show_progress="minimal"
    )
    # "Read alone" / "Read with the conversation" under a follow-up's answer.
    tab.context_request.change(
        _guarded(ui.toggle_context),
        [tab.context_request, views, tab.show_scores, tab.rerank],
        [tab.chat, views],
        **PRIVATE,
        concurrency_id="qa-ask",
        show_progress="minimal",
    ).then(export, [views, tab.scope], export_outputs, **PRIVATE, show_progress="hidden")


def _wire_documents_tab(ui: UIHandlers, tab: DocumentsTab, header: Any, picker: Any) -> None:
    import gradio as gr

    def refreshed(message: str, ok: bool):
        return (
            status_html(message, ok=ok),
            ui.documents_table(),
            gr.Dropdown(choices=ui.document_ids(), value=[]),
            ui.stats(),
            # The Ask tab's document picker offers the documents as they are now.
            gr.Dropdown(choices=ui.document_ids(), value=[]),
        )

    write_outputs = [tab.status, tab.table, tab.to_remove, header, picker]

    def on_upload(paths, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
        try:
            message = ui.upload(paths, progress=lambda f, what: progress(f, desc=what))
        except QAError as exc:
            return (*refreshed(f"Not added: {exc}", False), None)
        return (*refreshed(f"Done: {message}", True), None)

    def on_remove(doc_ids, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
        try:
            message = ui.remove(doc_ids, progress=lambda f, what: progress(f, desc=what))
        except QAError as exc:
            return refreshed(f"Not removed: {exc}", False)
        return refreshed(f"Done: {message}", True)

    def on_sync(progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
        try:
            message = ui.sync(progress=lambda f, what: progress(f, desc=what))
        except QAError as exc:
            return refreshed(f"Not re-indexed: {exc}", False)
        return refreshed(f"Done: {message}", True)

    write_opts = {**PRIVATE, "concurrency_id": "qa-write"}
    tab.files.upload(on_upload, tab.files, [*write_outputs, tab.files], **write_opts)
    tab.remove_btn.click(
        on_remove,
        tab.to_remove,
        write_outputs,
        # A js function returns the list of input values: wrap the selection.
        js="(ids) => [(ids && ids.length && confirm('Remove ' + ids.join(', ') + "
        "' from the corpus folder and the index?')) ? ids : []]",
        **write_opts,
    )
    tab.sync_btn.click(on_sync, None, write_outputs, **write_opts)


def _wire_watch_status(
    ui: UIHandlers, watcher: CorpusWatcher, box: Any, tab: DocumentsTab, header: Any
) -> None:
    """A status line in the Documents tab, polled every 2 s; the table refreshes after each run."""
    import gradio as gr

    seen = {"runs": watcher.status.runs}

    def tick():
        status = watcher.status
        if status.runs == seen["runs"]:
            return watch_html(status), gr.skip(), gr.skip()
        seen["runs"] = status.runs
        return watch_html(status), ui.documents_table(), ui.stats()

    gr.Timer(2.0).tick(tick, None, [box, tab.table, header], **PRIVATE)


def _add_api(ui: UIHandlers) -> None:
    import gradio as gr

    def ask(question: str, k: int = 5, mode: str = RetrievalMode.HYBRID.value) -> dict:
        """Answer a question with the top-k exact source passages and their citations (JSON).

        Args:
            question: the question.
            k: number of passages (1-20).
            mode: "hybrid", "dense" or "bm25".
        """
        try:
            return ui.api_ask(question, k, mode)
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    gr.api(ask, api_name="ask", concurrency_id="qa-ask")


def build_app(
    retriever: Retriever,
    *,
    collection: Collection | None = None,
    examples: dict[str, Sequence[str]] | None = None,
    watcher: CorpusWatcher | None = None,
):
    """The Gradio Blocks app over a retriever (and, for uploads, its collection).

    With a `watcher` (`qa serve --watch`), the Documents tab shows what it is doing and
    refreshes the document list after each re-index.

    Launch it with `launch(app)`, or pass `**launch_options()` to `app.launch`.
    """
    import gradio as gr

    # Imported here: the Evaluate tab brings the evaluation and report modules (and matplotlib).
    from qa.ui.eval_tab import build_eval_tab

    ui = UIHandlers(retriever, collection)
    # delete_cache: exported Markdown files and uploads older than a day are cleaned up.
    with gr.Blocks(title="qa - cited answers from your documents", delete_cache=(3600, 86400)) as app:
        header = gr.HTML(ui.stats(), elem_id="qa-header-box")
        views = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                ask_tab = _build_ask_tab(ui, examples)
            with gr.Tab("Documents", id="documents"):
                documents_tab = _build_documents_tab(ui, collection)
                if watcher is not None:
                    watch_box = gr.HTML(watch_html(watcher.status), elem_id="qa-watch-status")
            with gr.Tab("Evaluate", id="evaluate"):
                build_eval_tab(lambda: ui.retriever)
        _wire_ask_tab(ui, ask_tab, views)
        if collection is not None:
            _wire_documents_tab(ui, documents_tab, header, ask_tab.documents)
        if watcher is not None:
            _wire_watch_status(ui, watcher, watch_box, documents_tab, header)
        _add_api(ui)
        app.load(lambda: (ui.stats(), ui.documents_table()), None, [header, documents_tab.table], **PRIVATE)
    return app
