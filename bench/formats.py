"""Reader speed per document format: the test samples, and real man pages from /usr/share/man.

Run: `.venv/bin/python bench/formats.py [--man-pages N]` (prints a table; nothing is written).
The office samples are the ones the tests write (tests/ingest/_office_samples.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ingest"))

from _office_samples import DATA, make_docx, make_epub, make_odt, make_pptx  # noqa: E402

from qa.ingest import UnreadableFile, load_reader  # noqa: E402


def _time(suffix: str, data: bytes, repeat: int) -> tuple[float, int]:
    reader = load_reader(suffix)
    reader(data, [])  # first call imports the library
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        text = reader(data, []).text
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--man-pages", type=int, default=200, help="real man pages to render (0: none)")
    args = parser.parse_args()
    samples = [
        (".rst", (DATA / "boto3-s3-examples.rst").read_bytes()),
        (".csv", (DATA / "debian-releases.csv").read_bytes()),
        (".gz", (DATA / "scp.1.gz").read_bytes()),
        (".docx", make_docx()),
        (".odt", make_odt()),
        (".epub", make_epub()),
        (".pptx", make_pptx()),
    ]
    print("| format | file bytes | text chars | median ms per file |")
    print("|---|---|---|---|")
    for suffix, data in samples:
        seconds, chars = _time(suffix, data, args.repeat)
        print(f"| {suffix} | {len(data):,} | {chars:,} | {seconds * 1000:.1f} |")
    if args.man_pages:
        pages = sorted(Path("/usr/share/man/man1").glob("*.1.gz"))[: args.man_pages]
        reader = load_reader(".gz")
        read = skipped = chars = 0
        t = time.perf_counter()
        for page in pages:
            try:
                chars += len(reader(page.read_bytes(), []).text)
                read += 1
            except UnreadableFile:
                skipped += 1
        elapsed = time.perf_counter() - t
        print(
            f"\n{len(pages)} man pages from /usr/share/man/man1: {read} read, {skipped} skipped, "
            f"{chars:,} characters, {elapsed:.1f} s ({len(pages) / elapsed:.1f} pages/s)"
        )


if __name__ == "__main__":
    main()
