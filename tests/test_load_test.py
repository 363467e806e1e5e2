"""The load-test script (bench/load_test.py), bounded: 20 concurrent clients while a document is indexed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


@pytest.mark.e2e
@pytest.mark.slow
def test_concurrent_clients_during_upload_get_exact_answers(tmp_path: Path) -> None:
    import load_test

    report = load_test.run(clients=20, questions=60, timeout=600, workdir=tmp_path, k=3, upload_kb=100)
    assert report["errors"] == 0, report["error_samples"]
    assert report["answered"] == 60 and not report["timed_out"]
    assert report["inexact_passages"] == 0 and report["passages_checked"] == 60 * 3
    assert report["upload"]["added"] == ["zorblax.txt"] and report["upload"]["embedded"] > 0
    assert report["upload"]["bytes"] >= 100 * 1024  # posted over HTTP, as the browser does
    assert report["oversize_upload_status"] == 413  # over the limit: refused while streaming
    assert report["upload"]["answers_while_indexing"] > 0  # questions were answered during indexing
    assert report["passages_from_upload"] > 0  # ... and the new document is served afterwards
    assert load_test.passed(report)
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
