"""How readable is the text qa extracts? PDF furniture, wrapped lines and hyphens; HTML boilerplate.

    .venv/bin/python bench/extraction.py [FOLDER ...]
    # default: eval/collections/tools-mixed/corpus (PDFs) and eval/collections/debian-manuals/corpus (HTML)

For every PDF it extracts the text three ways: pypdf (qa's extractor before issue #14),
pypdfium2's raw text, and qa's reader today (pypdfium2 + `qa.ingest.pdf_layout`). It
counts, over all non-empty lines:

- furniture: a line whose text with digits masked occurs on at least half of its
  document's pages (running headers/footers), a bare page number, or a man-page header
  (same first and last word). The count is made the same way for every extractor.
- wrapped: a line that does not end a sentence and is followed by a line starting in
  lower case (a paragraph broken by the layout).
- hyphenated: a line ending in letter + "-" followed by a line starting in lower case.

Shares are of all non-empty lines; joining lines lowers the line count, so the
absolute counts are printed too.

For every HTML page it compares all visible text (qa before issue #14) with the main
content (`extract_html`, today's reader) and counts boilerplate paragraphs: a
paragraph that occurs in at least 30% of the pages of its folder (one manual), such as
"Navigation", "next |" or a copyright footer.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from pypdf import PdfReader

from qa.ingest import extract_html
from qa.ingest.decoding import decode_text
from qa.ingest.pdf import extract_layout
from qa.ingest.pdf_layout import is_mirrored, is_page_number, line_key

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = [ROOT / "eval" / "collections" / name / "corpus" for name in ("tools-mixed", "debian-manuals")]


def pages_pypdf(data: bytes) -> list[str]:
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def pages_pdfium(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(pdf))]
    finally:
        pdf.close()


def pages_qa(data: bytes) -> list[str]:
    layout = extract_layout(data)
    ends = [*layout.page_starts[1:], len(layout.text)]
    return [layout.text[s:e] for s, e in zip(layout.page_starts, ends)]


EXTRACTORS: dict[str, Callable[[bytes], list[str]]] = {
    "pypdf (before)": pages_pypdf,
    "pypdfium2 raw": pages_pdfium,
    "qa (pypdfium2 + cleanup)": pages_qa,
}


def measure(pages: list[str]) -> Counter[str]:
    lines_per_page = [[ln.strip() for ln in p.splitlines() if ln.strip()] for p in pages]
    on_pages: Counter[str] = Counter()
    for lines in lines_per_page:
        on_pages.update({line_key(ln) for ln in lines})
    need = max(2, (len(pages) + 1) // 2)
    c: Counter[str] = Counter()
    for lines in lines_per_page:
        for i, ln in enumerate(lines):
            c["lines"] += 1
            key = line_key(ln)
            if (
                (len(pages) >= 2 and on_pages[key] >= need and key.strip("# "))
                or is_page_number(ln)
                or is_mirrored(ln)
            ):
                c["furniture"] += 1
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt[:1].islower():
                if len(ln) > 1 and ln.endswith("-") and ln[-2].isalpha():
                    c["hyphenated"] += 1
                elif not ln.endswith((".", ":", ";", "!", "?")):
                    c["wrapped"] += 1
    return c


def pdf_table(files: list[Path]) -> None:
    print(f"{len(files)} PDFs\n")
    print("| extractor | lines | furniture | wrapped | hyphenated | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, extract in EXTRACTORS.items():
        total: Counter[str] = Counter()
        t0 = time.perf_counter()
        for f in files:
            total += measure(extract(f.read_bytes()))
        secs = time.perf_counter() - t0
        n = total["lines"] or 1

        def cell(key: str, total: Counter[str] = total, n: int = n) -> str:
            return f"{total[key]:,} ({100 * total[key] / n:.1f}%)"

        print(
            f"| {name} | {total['lines']:,} | {cell('furniture')} | {cell('wrapped')} | "
            f"{cell('hyphenated')} | {secs:.1f} |"
        )


def html_table(files: list[Path]) -> None:
    print(f"\n{len(files)} HTML pages\n")
    print("| extractor | paragraphs | boilerplate paragraphs | characters |")
    print("|---|---:|---:|---:|")
    for name, main_content in (("all visible text (before)", False), ("main content (qa)", True)):
        by_folder: dict[Path, list[list[str]]] = {}
        for f in files:
            text, _ = extract_html(decode_text(f.read_bytes(), []), main_content=main_content)
            by_folder.setdefault(f.parent, []).append([p.strip() for p in text.split("\n\n") if p.strip()])
        paragraphs = boiler = chars = 0
        for pages in by_folder.values():
            seen: Counter[str] = Counter()
            for paras in pages:
                seen.update(set(paras))
            need = max(2, round(0.3 * len(pages)))
            for paras in pages:
                paragraphs += len(paras)
                chars += sum(map(len, paras))
                boiler += sum(1 for p in paras if seen[p] >= need)
        share = 100 * boiler / (paragraphs or 1)
        print(f"| {name} | {paragraphs:,} | {boiler:,} ({share:.1f}%) | {chars:,} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="*", type=Path, default=DEFAULTS)
    args = ap.parse_args(argv)
    pdfs = sorted(f for d in args.folders for f in d.rglob("*.pdf"))
    pages = sorted(f for d in args.folders for f in d.rglob("*.htm*"))
    if not pdfs and not pages:
        print(
            f"no PDF or HTML under {', '.join(map(str, args.folders))}; build it: python3 eval/collections/build.py"
        )
        return 1
    print(f"under {', '.join(str(d) for d in args.folders)}\n")
    if pdfs:
        pdf_table(pdfs)
    if pages:
        html_table(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
