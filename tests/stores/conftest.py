"""Fixtures of the store tests: `case` runs a test on every store target, `milvus_case` on Milvus ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from stores.targets import TARGETS, Case


@pytest.fixture(params=sorted(TARGETS))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    target = TARGETS[request.param]
    if target.missing:
        pytest.skip(target.missing)
    return Case(target.store, target.settings(tmp_path), tmp_path)


@pytest.fixture(params=sorted(t for t in TARGETS if TARGETS[t].store == "milvus"))
def milvus_case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    """`case` for the Milvus targets only (Milvus' own features)."""
    target = TARGETS[request.param]
    if target.missing:
        pytest.skip(target.missing)
    return Case(target.store, target.settings(tmp_path), tmp_path)
