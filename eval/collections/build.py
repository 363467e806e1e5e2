"""Rebuild the evaluation corpora under eval/collections/<name>/corpus/ from Debian packages.

Each collection has a committed `sources.json`: the Debian packages (with the versions
the question set was written against) and a fixed list of files, each with the path it
is copied from, the document id it gets in the corpus, and the sha256 of the bytes
written (after gunzip for `.gz` sources). Rebuilding is deterministic: the corpus is
assembled in a temporary folder, every file is checked against its sha256, and only a
complete, verified corpus replaces the old one. A file whose bytes differ (another
package version) stops the build with the file, both hashes and the fix, so the
question sets' quotes never silently go stale.

Usage (from the repository root)::

    python eval/collections/build.py                     # every collection; installs missing packages
    python eval/collections/build.py debian-manuals      # one collection
    python eval/collections/build.py --no-install        # only check/copy; fail if a package is missing
    python eval/collections/build.py --freeze NAME       # maintainers: record sha256s + versions anew

Only the standard library is used, so it runs before the venv exists.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger("collections.build")

HERE = Path(__file__).resolve().parent
SOURCES = "sources.json"


class BuildError(Exception):
    """A corpus cannot be rebuilt as recorded; the message names the file and the fix."""


def collection_names() -> list[str]:
    """Every folder under eval/collections/ that has a sources.json, sorted."""
    return sorted(p.parent.name for p in HERE.glob(f"*/{SOURCES}"))


def read_sources(name: str) -> dict:
    path = HERE / name / SOURCES
    if not path.is_file():
        raise BuildError(f"unknown collection {name!r}; choose one of {collection_names()}")
    return json.loads(path.read_text(encoding="utf-8"))


def installed_version(package: str) -> str | None:
    """The installed version of a Debian package, or None if it is not installed."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BuildError("dpkg-query not found: these corpora are built on Debian (bookworm)") from exc
    status, _, version = out.stdout.strip().partition(" ")
    return version if out.returncode == 0 and status == "installed" else None


def ensure_packages(packages: dict[str, str], *, install: bool) -> None:
    """Install missing packages with apt-get (or fail when `install` is False); warn on other versions."""
    missing = [p for p in packages if installed_version(p) is None]
    if missing:
        if not install:
            raise BuildError(
                f"packages not installed: {' '.join(missing)}; run "
                f"`apt-get install -y --no-install-recommends {' '.join(missing)}` "
                "or drop --no-install"
            )
        logger.info("installing %s", " ".join(missing))
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if os.geteuid() != 0:
            cmd.insert(0, "sudo")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(cmd, env=env, check=False)
        if done.returncode != 0:
            raise BuildError(
                f"`{' '.join(cmd)}` failed (exit {done.returncode}); run `apt-get update` first, "
                "then rerun this script"
            )
    for package, wanted in packages.items():
        have = installed_version(package)
        if have != wanted:
            # Not fatal by itself: the per-file sha256 check decides whether the text changed.
            logger.warning("%s is %s; the question set was written against %s", package, have, wanted)


def read_source(path: Path) -> bytes:
    """The bytes a corpus file gets: the source file, gunzipped if it ends in .gz."""
    if not path.is_file():
        raise BuildError(f"source file {str(path)!r} is missing; is its package installed?")
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(name: str, *, install: bool = True) -> Path:
    """Rebuild eval/collections/<name>/corpus/ from the recorded sources; returns the corpus folder."""
    spec = read_sources(name)
    ensure_packages(spec["packages"], install=install)
    target = HERE / name / "corpus"
    work = Path(tempfile.mkdtemp(prefix=".corpus-tmp-", dir=HERE / name))
    try:
        changed: list[str] = []
        for entry in spec["files"]:
            data = read_source(Path(entry["source"]))
            got = sha256(data)
            if got != entry["sha256"]:
                changed.append(
                    f"  {entry['doc']} (from {entry['source']}): sha256 {got[:12]}…, recorded "
                    f"{entry['sha256'][:12]}…"
                )
                continue
            out = work / entry["doc"]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        if changed:
            versions = ", ".join(f"{p}={v}" for p, v in spec["packages"].items())
            raise BuildError(
                f"collection {name!r}: {len(changed)} file(s) differ from the recorded ones:\n"
                + "\n".join(changed)
                + f"\nInstall the recorded versions ({versions}), or, if the new text is wanted, "
                f"run `build.py --freeze {name}` and re-check every quote with "
                f"`python eval/collections/validate.py {name}`"
            )
        # Publish only a complete corpus: the old one is removed after the new one is whole.
        old = None
        if target.exists():
            old = target.with_name(f".corpus-old-{os.getpid()}")
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if work.exists():
            shutil.rmtree(work)
    logger.info("%s: %d files in %s", name, len(spec["files"]), target.relative_to(HERE.parents[1]))
    return target


def freeze(name: str) -> None:
    """Record the sha256 of every source file and the installed package versions."""
    path = HERE / name / SOURCES
    spec = read_sources(name)
    for package in spec["packages"]:
        version = installed_version(package)
        if version is None:
            raise BuildError(f"package {package!r} is not installed; install it before --freeze")
        spec["packages"][package] = version
    docs = [e["doc"] for e in spec["files"]]
    if len(set(docs)) != len(docs):
        raise BuildError(f"collection {name!r}: duplicate document ids in {SOURCES}")
    for entry in spec["files"]:
        entry["sha256"] = sha256(read_source(Path(entry["source"])))
    path.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("%s: recorded %d files", name, len(spec["files"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"collections (default: all of {collection_names()})")
    parser.add_argument(
        "--no-install", action="store_true", help="never run apt-get; fail if a package is missing"
    )
    parser.add_argument(
        "--freeze", action="store_true", help="record sha256s and versions of the installed files"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        for name in args.names or collection_names():
            if args.freeze:
                freeze(name)
            else:
                build(name, install=not args.no_install)
    except BuildError as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
