"""Reader for reStructuredText (.rst, .rest): the document as docutils parses it, without markup.

Needs the `docutils` package; the registry imports this module only when an .rst is read.
Section titles are paragraphs of their own, list items lines of one block, literal blocks
kept line by line, table rows read "column: value; column: value", field lists
"name: value". Comments, substitution definitions and the output of unknown (e.g.
Sphinx-only) directives are left out; unknown roles keep their text. `include`, `raw`
and file/URL options are disabled: a document never pulls in other files.
"""

from __future__ import annotations

import io
import re

from docutils import nodes
from docutils.core import publish_doctree

from qa.ingest.blocks import clean_inline, join_blocks, list_lines, table_blocks
from qa.ingest.decoding import decode_text
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]

_SETTINGS = {
    "report_level": 5,  # never print warnings
    "halt_level": 5,  # never stop on an error: keep what parses
    "file_insertion_enabled": False,  # no include / file / url options
    "raw_enabled": False,
    "_disable_config": True,  # no docutils.conf from the user's machine
    "input_encoding": "unicode",
    "doctitle_xform": True,
    "docinfo_xform": True,
    "sectsubtitle_xform": False,
}
# Nodes with nothing to read (or, like system messages, only the parser's complaints).
_SKIPPED = (
    nodes.comment,
    nodes.system_message,
    nodes.substitution_definition,
    nodes.target,
    nodes.pending,
    nodes.raw,
    nodes.image,
    nodes.transition,
    nodes.decoration,
)
_ADMONITIONS = (nodes.Admonition,)
# `:role:`text <target>``, or `:role:`text``: group 1 is the text.
_ROLE = re.compile(r"^:[\w:.+-]+:`([^`<]*?)\s*(?:<[^`]*>)?`$", re.DOTALL)


def _inline(node: nodes.Element) -> str:
    """The text of an inline run (a paragraph, title or cell), without markup."""
    parts: list[str] = []
    for child in node.children:
        if isinstance(child, nodes.system_message):
            continue
        if isinstance(child, nodes.Text):
            parts.append(child.astext())
        elif isinstance(child, (nodes.footnote_reference, nodes.citation_reference)):
            parts.append(f"[{child.astext()}]")
        elif isinstance(child, nodes.problematic):
            # An unknown role (Sphinx's :ref:, :class:...): keep its text, not its markup.
            m = _ROLE.match(child.astext())
            parts.append(m.group(1) if m else child.astext())
        elif isinstance(child, nodes.Element):
            parts.append(_inline(child))
    return "".join(parts)


def _list_items(node: nodes.Element, level: int, out: list[tuple[int, str]]) -> None:
    for item in node.children:
        if not isinstance(item, nodes.list_item):
            continue
        texts: list[str] = []
        for child in item.children:
            if isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
                if texts:
                    out.append((level, " ".join(texts)))
                    texts = []
                _list_items(child, level + 1, out)
            elif isinstance(child, nodes.Element) and not isinstance(child, _SKIPPED):
                texts.append(
                    clean_inline(_inline(child) if isinstance(child, nodes.TextElement) else child.astext())
                )
        if texts:
            out.append((level, " ".join(texts)))


def _table_rows(table: nodes.table) -> list[list[str]]:
    return [
        [clean_inline(entry.astext()) for entry in row.children if isinstance(entry, nodes.entry)]
        for row in table.findall(nodes.row)
    ]


class _Walk:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.first_title = ""
        self.field_title = ""  # a `:title:` field, as some docs set in their front matter

    def visit(self, node: nodes.Element) -> None:
        for child in node.children:
            if isinstance(child, _SKIPPED) or not isinstance(child, nodes.Element):
                continue
            if isinstance(child, nodes.topic) and "contents" in child["classes"]:
                continue  # a generated table of contents repeats the section titles
            if isinstance(child, (nodes.title, nodes.subtitle, nodes.rubric)):
                text = clean_inline(_inline(child))
                if not self.first_title and isinstance(node, (nodes.section, nodes.document)):
                    self.first_title = text  # a section's title, not an admonition's or a sidebar's
                self.blocks.append(text)
            elif isinstance(child, (nodes.literal_block, nodes.doctest_block)):
                self.blocks.append(child.astext())
            elif isinstance(child, nodes.line_block):
                self.blocks.append(
                    "\n".join(clean_inline(line.astext()) for line in child.findall(nodes.line))
                )
            elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
                items: list[tuple[int, str]] = []
                _list_items(child, 0, items)
                self.blocks.append(list_lines(items))
            elif isinstance(
                child, (nodes.field_list, nodes.docinfo, nodes.definition_list, nodes.option_list)
            ):
                self.blocks.append("\n".join(self._pairs(child)))
            elif isinstance(child, nodes.table):
                for title in child.children:
                    if isinstance(title, nodes.title):
                        self.blocks.append(clean_inline(title.astext()))
                self.blocks.extend(table_blocks(_table_rows(child)))
            elif isinstance(child, (nodes.footnote, nodes.citation)):
                label = next((c.astext() for c in child.children if isinstance(c, nodes.label)), "")
                body = " ".join(
                    clean_inline(c.astext()) for c in child.children if not isinstance(c, nodes.label)
                )
                self.blocks.append(f"[{label}] {body}" if label else body)
            elif isinstance(child, _ADMONITIONS) and not isinstance(child, nodes.admonition):
                # note, warning, tip...: say which, then read the content.
                inner = _Walk()
                inner.visit(child)
                kept = [b for b in inner.blocks if b.strip()]
                if kept:
                    kept[0] = f"{child.tagname.capitalize()}: {kept[0]}"
                self.blocks.extend(kept)
            elif isinstance(child, nodes.TextElement):
                self.blocks.append(clean_inline(_inline(child)))
            else:
                self.visit(child)  # sections, block quotes, admonitions, figures, containers

    def _pairs(self, node: nodes.Element) -> list[str]:
        lines = []
        for item in node.children:
            if not isinstance(item, nodes.Element):
                continue
            parts = [clean_inline(c.astext()) for c in item.children if isinstance(c, nodes.Element)]
            parts = [p for p in parts if p]
            if isinstance(item, nodes.field) or isinstance(node, nodes.docinfo):
                # docinfo holds both generic fields and bibliographic elements (author, date...).
                if isinstance(item, nodes.field):
                    lines.append(": ".join(parts))
                    if len(parts) == 2 and parts[0].lower() == "title" and not self.field_title:
                        self.field_title = parts[1]
                else:
                    lines.append(f"{item.tagname.capitalize()}: {clean_inline(item.astext())}")
            elif parts:
                lines.append(": ".join(parts))
        return lines


def reader(data: bytes, notes: list[str]) -> Extracted:
    """An .rst file's text without markup; the title is its document title, else its first section title."""
    source = decode_text(data, notes)
    if not source.strip():
        raise UnreadableFile("empty file (only whitespace)")
    try:
        doctree = publish_doctree(source, settings_overrides={**_SETTINGS, "warning_stream": io.StringIO()})
    except Exception as exc:  # noqa: BLE001 - a docutils bug on odd input should not lose the file
        raise UnreadableFile(f"reStructuredText could not be parsed ({type(exc).__name__}: {exc})") from None
    walk = _Walk()
    walk.visit(doctree)
    text = join_blocks(walk.blocks)
    if not text.strip():
        raise UnreadableFile("empty file (no text once the markup is removed)")
    title = (
        clean_inline(str(doctree.get("title", "")))
        or walk.field_title
        or walk.first_title
        or make_title(text, "rst")
    )
    return Extracted(text, fmt="rst", title=title)
