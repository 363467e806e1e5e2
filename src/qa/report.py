"""Old import path of `qa.evaluation.report`: remove once cli.py imports the new one."""

from __future__ import annotations

from qa.evaluation.report import failures_text, format_table, render_html, report_json, write_reports

__all__ = ["failures_text", "format_table", "render_html", "report_json", "write_reports"]
