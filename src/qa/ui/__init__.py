"""The Gradio web app over the library: layout and events, handlers, rendering, the Evaluate tab."""

from __future__ import annotations

import os

# Before Gradio is first imported: qa runs offline and sends no usage statistics.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.ui.app import (  # noqa: E402
    SEED_EXAMPLES,
    UIHandlers,
    build_app,
    check_exposure,
    examples_for,
    launch,
    launch_options,
    parse_auth,
    serve,
)

__all__ = [
    "SEED_EXAMPLES",
    "UIHandlers",
    "build_app",
    "check_exposure",
    "examples_for",
    "launch",
    "launch_options",
    "parse_auth",
    "serve",
]
