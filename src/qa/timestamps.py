"""Timestamps written to manifests, calibrations and reports: UTC, ISO 8601, to the second."""

from __future__ import annotations

import datetime as dt

__all__ = ["utc_now"]


def utc_now() -> str:
    """The current UTC time, e.g. `2026-12-02T15:45:00+00:00`."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
