"""Serving the web app: page styles and script (package data), login, and the HTTP server."""

from __future__ import annotations

import functools
import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from qa.collection import Collection, UploadLimits
from qa.errors import ConfigError
from qa.retrieval import Retriever
from qa.ui.app import build_app

__all__ = ["check_exposure", "launch", "launch_options", "page_css", "page_head", "parse_auth", "serve"]

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _static(name: str) -> str:
    """A file of the package's `static/` folder (package data, in editable and normal installs)."""
    return resources.files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


@functools.cache
def page_css() -> str:
    return "\n" + _static("qa.css")


@functools.cache
def page_head() -> str:
    """The page script (`static/qa.js`) as a `<script>` element for the page head."""
    return f"\n<script>\n{_static('qa.js')}</script>\n"


def launch_options() -> dict[str, Any]:
    """Theme, CSS and page script for `app.launch(...)` (Gradio takes them at launch)."""
    import gradio as gr

    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    # System fonts only: the default theme fetches web fonts, and qa runs offline.
    theme = gr.themes.Soft(primary_hue="indigo", font=system, font_mono=mono)
    return {"theme": theme, "css": page_css(), "head": page_head()}


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`"user:pass"` -> ("user", "pass"); None or "" -> None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth / QA_AUTH must look like USER:PASSWORD (both non-empty)")
    return user, password


def check_exposure(host: str, auth: tuple[str, str] | None) -> str | None:
    """A warning when the app would be reachable from other machines without a password."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    if auth is None:
        return (
            f"serving on {host}, reachable from other machines, WITHOUT authentication: anyone who "
            "can reach this port can read and change your documents; set --auth USER:PASSWORD "
            "(or QA_AUTH), or serve on 127.0.0.1"
        )
    return None


def launch(
    app,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    quiet: bool = False,
    auth: tuple[str, str] | None = None,
    max_file_size: int | None = None,
    api=None,
):
    """Serve a built app on `host:port` (loopback by default).

    `max_file_size` (bytes): Gradio refuses a larger upload with HTTP 413 while it
    streams in, before it is written whole to a temporary file. `api` (a FastAPI app,
    see `qa.api.build_api`) is mounted at `/api` on the same server before it accepts
    connections.
    """
    app.queue(default_concurrency_limit=1)
    extra: dict[str, Any] = {}
    if api is not None:
        from qa.api import API_PREFIX

        @asynccontextmanager
        async def mount_api(server_app):
            # Gradio creates its FastAPI app inside launch(); its start-up hook mounts the API.
            server_app.mount(API_PREFIX, api)
            yield

        extra["app_kwargs"] = {"lifespan": mount_api}
    return app.launch(
        auth=auth,
        max_file_size=max_file_size,
        server_name=host,
        server_port=port,
        show_error=True,
        prevent_thread_lock=not block,
        quiet=quiet,
        footer_links=["api"],
        **launch_options(),
        **extra,
    )


def serve(
    *,
    corpus_dir: Path,
    index_dir: Path,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    build: bool = True,
    max_upload_bytes: int | None = None,
    block: bool = True,
    auth: str | None = None,
    watch: bool = False,
    debounce_ms: int | None = None,
):
    """Build or update the index if needed, then serve the UI and the JSON API (uploads go into `corpus_dir`).

    `auth` ("user:password") protects the app with a login and the API with HTTP Basic;
    serving on a non-loopback host without it logs a warning.

    `watch` re-indexes the corpus folder whenever files in it change (`qa.watching`),
    waiting until it has been quiet for `debounce_ms`.
    """
    from qa.api import build_api
    from qa.indexing import build_index

    credentials = parse_auth(auth)
    warning = check_exposure(host, credentials)
    if warning:
        logger.warning("%s", warning)

    if build:
        report = build_index(corpus_dir, index_dir, model=model, show_progress=True)
        logger.warning("%s", report.summary())
    retriever = Retriever.open(index_dir, corpus_dir=corpus_dir, model=model)
    # Load the model now, so the first question is as fast as the next ones.
    retriever.ask("warm-up", k=1)
    limits = UploadLimits(max_bytes=max_upload_bytes) if max_upload_bytes else UploadLimits()
    collection = Collection(retriever, corpus_dir=Path(corpus_dir), index_dir=Path(index_dir), limits=limits)
    watcher = None
    if watch:
        from qa.watching import DEFAULT_DEBOUNCE_MS, CorpusWatcher

        quiet_ms = debounce_ms or DEFAULT_DEBOUNCE_MS
        watcher = CorpusWatcher(
            Path(corpus_dir),
            lambda progress: collection.sync(progress=progress).summary(),
            debounce_ms=quiet_ms,
            ignore_dir=Path(index_dir),
        ).start()
        logger.warning("watching %s for changes (re-indexed after %d ms of quiet)", corpus_dir, quiet_ms)
    app = build_app(retriever, collection=collection, watcher=watcher)
    api = build_api(retriever, auth=credentials)
    logger.warning("serving on http://%s:%d (JSON API: /api/v1, docs: /api/docs)", host, port)
    return launch(
        app, host=host, port=port, block=block, auth=credentials, max_file_size=limits.max_bytes, api=api
    )
