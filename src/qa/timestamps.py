"""Timestamps written to manifests, calibrations and reports: UTC, ISO 8601, to the second."""

from __future__ import annotations

import datetime as dt

__all__ = ["name_stamp", "utc_now"]


def utc_now() -> str:
    """The current UTC time, e.g. `2026-12-02T15:45:00+00:00`."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def name_stamp() -> str:
    """The current local time for names that sort by age, e.g. `20261202T154500` (snapshot
    folders, Milvus collections)."""
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S")
