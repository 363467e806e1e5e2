"""Fixtures shared by the ingest tests."""

from __future__ import annotations

import pytest

from qa.ingest import registry


@pytest.fixture
def fresh_registry():
    """The reader registry with nothing resolved yet (and cleared again afterwards)."""
    registry._resolve.cache_clear()
    yield
    registry._resolve.cache_clear()
