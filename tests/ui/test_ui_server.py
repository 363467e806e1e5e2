"""Serving: login parsing, the exposure warning, and the page styles and script read from package data."""

from __future__ import annotations

import pytest

from qa.errors import ConfigError
from qa.ui.server import launch_options, page_css, page_head


def test_auth_parsing_and_exposure_warning() -> None:
    from qa.ui import check_exposure, parse_auth

    assert parse_auth("ann:secret") == ("ann", "secret")
    assert parse_auth(None) is None
    with pytest.raises(ConfigError, match="USER:PASSWORD"):
        parse_auth("no-colon")
    assert check_exposure("127.0.0.1", None) is None
    warning = check_exposure("0.0.0.0", None)
    assert warning and "WITHOUT authentication" in warning and "--auth" in warning
    assert check_exposure("0.0.0.0", ("ann", "secret")) is None


def test_page_styles_and_script_are_package_data() -> None:
    css, head = page_css(), page_head()
    assert ".qa-hit" in css and "#qa-header h1" in css
    assert head.strip().startswith("<script>") and head.strip().endswith("</script>")
    assert "window.__qaUi" in head and "qa-view-request" in head
    options = launch_options()
    assert options["css"] == css and options["head"] == head and options["theme"] is not None
