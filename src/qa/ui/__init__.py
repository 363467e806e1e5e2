"""The Gradio web app over the library.

`app` lays out the tabs and wires their events, `handlers` does what the events ask
(through the library), `rendering` turns answers into HTML and Markdown, `eval_tab` is
the Evaluate tab, and `server` serves the app with its `static/` styles and script.
"""

from __future__ import annotations

import os

# Before Gradio is first imported: qa runs offline and sends no usage statistics.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.ui.app import build_app  # noqa: E402
from qa.ui.handlers import SEED_EXAMPLES, UIHandlers, examples_for  # noqa: E402
from qa.ui.server import check_exposure, launch, launch_options, parse_auth, serve  # noqa: E402

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
