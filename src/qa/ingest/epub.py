"""Reader for e-books (.epub): the chapters in reading (spine) order, as visible text.

Needs the `ebooklib` package; the registry imports this module only when an .epub is read.
Each chapter's XHTML goes through the HTML reader's text extraction (`extract_html`):
block elements are paragraphs, scripts, styles and hidden elements are left out.
Images, and chapters outside the spine, are not read.
"""

from __future__ import annotations

import io
import re
import warnings

import ebooklib
from ebooklib import epub

from qa.ingest.archives import check_zip
from qa.ingest.blocks import clean_inline, join_blocks
from qa.ingest.decoding import decode_text
from qa.ingest.html import extract_html
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def reader(data: bytes, notes: list[str]) -> Extracted:
    """An .epub's chapters, separated by a blank line; the title is its DC title, else its first line."""
    check_zip(data, ".epub")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about its own future defaults
            book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
        chapters = []
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            # The navigation document repeats the chapter titles; the chapters hold the text.
            if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
                continue
            chapters.append((item.get_name(), item.get_content()))
        titles = book.get_metadata("DC", "title")
    except Exception as exc:  # noqa: BLE001 - ebooklib raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable .epub ({type(exc).__name__}: {exc})") from None
    blocks = []
    for name, content in chapters:
        chapter_notes: list[str] = []
        try:
            source = decode_text(content, chapter_notes)
        except UnreadableFile as exc:
            notes.append(f"chapter {name} left out: {exc}")
            continue
        notes.extend(f"chapter {name}: {note}" for note in chapter_notes)
        # extract_html separates paragraphs by a blank line; each is a block of its own.
        # A chapter is all content: no site navigation to drop, so every visible element is kept.
        blocks.extend(_PARAGRAPH_BREAK.split(extract_html(source, main_content=False)[0]))
    text = join_blocks(blocks)
    if not text.strip():
        raise UnreadableFile("empty file (the .epub has no chapter with text)")
    title = clean_inline(str(titles[0][0])) if titles and titles[0][0] else ""
    return Extracted(text, fmt="epub", title=title or make_title(text, "epub"))
