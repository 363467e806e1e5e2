"""Reader for PowerPoint decks (.pptx): each slide's title, text, tables and speaker notes.

Needs the `python-pptx` package; the registry imports this module only when a .pptx is read.
Each slide is a "page" (citations show the slide number as the page); its title is a
paragraph of its own, each text box a block of lines (bullets indented by level), table
rows read "column: value; column: value", speaker notes follow as "Notes: ...".
Charts, SmartArt and images' text are not read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.shapes.base import BaseShape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape

from qa.ingest.archives import check_zip
from qa.ingest.blocks import clean_inline, join_blocks, table_blocks
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]


def _shape_blocks(shapes: Iterable[BaseShape], skip: BaseShape | None) -> list[str]:
    blocks: list[str] = []
    for shape in shapes:
        if skip is not None and shape.shape_id == skip.shape_id:
            continue
        if isinstance(shape, GroupShape) or shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            blocks.extend(_shape_blocks(shape.shapes, None))
        elif isinstance(shape, GraphicFrame) and shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            blocks.extend(table_blocks(rows))
        elif shape.has_text_frame:
            lines = []
            for paragraph in shape.text_frame.paragraphs:
                text = clean_inline(paragraph.text)
                if text:
                    lines.append("  " * paragraph.level + text)
            blocks.append("\n".join(lines))
    return blocks


def reader(data: bytes, notes: list[str]) -> Extracted:
    """A deck's slides in order, one page each; the title is its Title property, else the first slide's title."""
    check_zip(data, ".pptx")
    try:
        deck = Presentation(io.BytesIO(data))
        core_title = deck.core_properties.title or ""
        slides: list[tuple[str, list[str]]] = []
        for slide in deck.slides:
            title_shape = slide.shapes.title
            title = clean_inline(title_shape.text_frame.text) if title_shape is not None else ""
            blocks = [title, *_shape_blocks(slide.shapes, title_shape)]
            if slide.has_notes_slide:
                frame = slide.notes_slide.notes_text_frame
                spoken = clean_inline(frame.text) if frame is not None else ""
                if spoken:
                    blocks.append(f"Notes: {spoken}")
            slides.append((title, blocks))
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable .pptx ({type(exc).__name__}: {exc})") from None
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for _, blocks in slides:
        # Slides are separated by a blank line, so a slide break is a paragraph break.
        if parts:
            parts.append("\n\n")
            pos += 2
        starts.append(pos)
        slide_text = join_blocks(blocks)
        parts.append(slide_text)
        pos += len(slide_text)
    text = "".join(parts)
    if not text.strip():
        raise UnreadableFile("empty file (the .pptx has no slide with text)")
    first_title = next((t for t, _ in slides if t), "")
    title = core_title.strip() or first_title or make_title(text, "pptx")
    return Extracted(text, fmt="pptx", title=title, page_starts=tuple(starts))
