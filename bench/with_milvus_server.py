"""Run a command next to a throw-away milvus-server: `bench/with_milvus_server.py [--data DIR] -- CMD ...`.

Starts milvus-server 2.3.5 in a network namespace with only loopback
(tests/stores/milvus_server.py), runs CMD in that namespace (`nsenter`), where the
server is `http://127.0.0.1:19530`, then stops the server and removes its data folder.
Exits with CMD's exit code. Needs root (unshare), like the server tests.

Example (SciFact through the server):
`.venv/bin/python bench/with_milvus_server.py -- .venv/bin/qa eval --beir /work/shared/benchmarks/scifact
--beir-index /tmp/scifact-server --store milvus --store-uri http://127.0.0.1:19530 --compare dense,hybrid`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _server_module():
    # Loaded by path: tests/ is not a package on sys.path here.
    spec = importlib.util.spec_from_file_location(
        "milvus_server", HERE.parent / "tests/stores/milvus_server.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # @dataclass looks its module up in sys.modules
    spec.loader.exec_module(module)
    return module


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("/tmp/qa-milvus-server/data"), help="server data folder")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ...")
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the command to run after --")
    module = _server_module()
    reason = module.unavailable()
    if reason:
        raise SystemExit(f"cannot start milvus-server: {reason}")
    with module.milvus_server(args.data) as server:
        return server.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
