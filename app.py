"""Entry point for the web UI: `python app.py` (or `qa serve`). All logic lives in qa.ui."""

from __future__ import annotations

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
