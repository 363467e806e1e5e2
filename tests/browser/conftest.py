"""Browser-test fixtures: the real app (real model, FAISS, seed documents) served on a free loopback port,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.index import Index
from qa.retrieval import Retriever

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
ARTIFACTS = Path(os.environ.get("QA_ARTIFACTS") or ROOT / "artifacts")
TIMEOUT_MS = 60_000


@dataclass
class Served:
    url: str
    retriever: Retriever
    collection: Collection
    corpus: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI; `make test` installs it with `make browser`")
        pytest.skip(f"{CHROMIUM} is missing; run `make browser` (apt-get install chromium chromium-driver)")
    return CHROMIUM


def copy_seeds(root: Path, seed_index_dir: Path) -> tuple[Path, Path]:
    """A private copy of the seed documents and their index under `root`: (corpus, index)."""
    corpus, index_dir = root / "corpus", root / "index"
    shutil.copytree(SEEDS, corpus)
    shutil.copytree(seed_index_dir, index_dir)
    return corpus, index_dir


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path, real_embedder) -> Iterator[Served]:
    """The app over a private copy of the seeds and their index (uploads change only the copy)."""
    from qa.ui import build_app, launch

    corpus, index_dir = copy_seeds(tmp_path_factory.mktemp("browser"), seed_index_dir)
    retriever = Retriever(Index.load(index_dir), embedder=real_embedder)
    collection = Collection(retriever, corpus_dir=corpus, index_dir=index_dir)
    app = build_app(retriever, collection=collection)
    port = _free_port()
    launch(app, port=port, block=False, quiet=True)
    try:
        yield Served(f"http://127.0.0.1:{port}/", retriever, collection, corpus)
    finally:
        app.close()


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served: Served):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    # Gradio pages never reach "networkidle": wait for "load", then for the question box.
    pg.goto(served.url, wait_until="load")
    pg.wait_for_selector("#qa-question textarea")
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
