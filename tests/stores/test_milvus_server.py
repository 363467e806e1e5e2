"""The store tests against a real Milvus server (milvus-server 2.3.5), started here.

The server runs in a network namespace of its own with only loopback (it binds every
interface whatever its settings), so the tests that talk to it run there too: a pytest
sub-session under `nsenter`, with `QA_TEST_MILVUS_URI` set, over the store contract and
the Milvus store's own tests. This test asserts on that session's outcome.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stores.milvus_server import Server, milvus_server, unavailable
from stores.targets import TARGETS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUBSESSION_TIMEOUT = 600


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reason = unavailable() or TARGETS["milvus-lite"].missing
    if reason:
        pytest.skip(reason)
    with milvus_server(tmp_path_factory.mktemp("milvus-server") / "data") as running:
        yield running


def test_server_namespace_has_only_loopback(server: Server) -> None:
    links = server.run(["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=10)
    names = [line.split(":")[1].strip() for line in links.stdout.splitlines()]
    assert names == ["lo"]
    listening = server.run(["ss", "-Hltn"], capture_output=True, text=True, timeout=10).stdout
    assert ":19530" in listening  # the server is up in its namespace, and only there


def test_store_suite_passes_on_the_server(server: Server) -> None:
    env = {**os.environ, "QA_TEST_MILVUS_URI": server.uri}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(HERE / "test_store_contract.py"),
        str(HERE / "test_milvus_store.py"),
        "-k",
        "milvus-server",
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(server.data.parent / "subsession"),
    ]
    out = server.run(cmd, capture_output=True, text=True, timeout=SUBSESSION_TIMEOUT, cwd=ROOT, env=env)
    report = out.stdout[-6000:] + out.stderr[-2000:]
    assert out.returncode == 0, report
    passed = re.search(r"(\d+) passed", out.stdout)
    assert passed and int(passed.group(1)) >= 11, report  # 8 contract tests + the Milvus store's own
    assert not re.search(r"\d+ (failed|skipped|error)", out.stdout), report
