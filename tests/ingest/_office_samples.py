"""Test helper: real .docx, .odt, .epub and .pptx files, written by the libraries that read them.

Each sample has a heading, paragraphs, a list and a table, so a reader test can check
every kind of block; the e2e test asks one question per sample.
"""

from __future__ import annotations

import io

__all__ = ["DATA", "make_docx", "make_epub", "make_odt", "make_pptx"]

from pathlib import Path

DATA = Path(__file__).parent / "data"


def make_docx(*, core_title: str = "") -> bytes:
    """A Word document about lighthouse keeping (title from its Title paragraph unless `core_title`)."""
    import docx

    d = docx.Document()
    d.core_properties.title = core_title
    d.add_heading("Lighthouse keeping", 0)
    d.add_heading("Nightly duties", 1)
    d.add_paragraph(
        "The keeper trims the lamp wick every evening at sunset and winds the clockwork "
        "that turns the lens.\nThe log records the weather each hour."
    )
    d.add_paragraph("Paraffin oil for the lamp", style="List Bullet")
    d.add_paragraph("Spare wicks", style="List Bullet 2")
    d.add_paragraph("Brass polish for the lens frame", style="List Bullet")
    d.add_heading("Famous lights", 1)
    table = d.add_table(rows=3, cols=3)
    cells = [["Name", "Height", "First lit"], ["Bell Rock", "35 m", "1810"], ["Eddystone", "49 m", "1882"]]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_paragraph("Fog signals sound every thirty seconds when visibility drops below two miles.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_odt() -> bytes:
    """An OpenDocument text about beekeeping, with a footnote, a list and a table."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, LineBreak, List, ListItem, Note, NoteBody, NoteCitation, P, S

    doc = OpenDocumentText()
    doc.meta.addElement(Title(text="Beekeeping through the year"))
    doc.text.addElement(H(outlinelevel=1, text="The colony"))
    p = P(text="A honey bee colony has a single queen, who lays up to two thousand eggs a day.")
    note = Note(noteclass="footnote", id="ftn1")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="In early summer, at the height of the season."))
    note.addElement(body)
    p.addElement(note)
    p.addText(" Worker bees live about six weeks")
    p.addElement(S(c=2))
    p.addText("in summer.")
    p.addElement(LineBreak())
    p.addText("Drones do not sting.")
    doc.text.addElement(p)
    doc.text.addElement(H(outlinelevel=2, text="Equipment"))
    items = List()
    for text in ["A smoker to calm the bees", "A veil and gloves"]:
        item = ListItem()
        item.addElement(P(text=text))
        items.addElement(item)
    doc.text.addElement(items)
    table = Table(name="Calendar")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row in [["Month", "Task"], ["April", "Inspect the brood frames"], ["August", "Harvest the honey"]]:
        tr = TableRow()
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.text.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


TIDES = (
    (
        "Spring tides",
        "<h1>Spring tides</h1><p>Spring tides happen at new moon and full moon, when the sun "
        "and the moon pull in a line.</p><ul><li>Highest high water</li><li>Lowest low water</li></ul>",
    ),
    (
        "Neap tides",
        "<h1>Neap tides</h1><p>Neap tides come a week later, at the quarter moons, and their "
        "range is smallest.</p><script>hidden()</script>",
    ),
)


def make_epub(
    chapters: tuple[tuple[str, str], ...] = TIDES, *, title: str = "A Small Book of Tides"
) -> bytes:
    """An e-book with one XHTML chapter per (title, body), and a navigation document first in the spine."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("qa-test-" + title.lower().replace(" ", "-"))
    book.set_title(title)
    book.set_language("en")
    items = []
    for n, (name, body) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=name, file_name=f"chapter{n}.xhtml", lang="en")
        item.content = body
        book.add_item(item)
        items.append(item)
    book.toc = tuple(items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    buf = io.BytesIO()
    epub.write_epub(buf, book)
    return buf.getvalue()


def make_pptx() -> bytes:
    """A slide deck about solar power: a title slide, bullets with notes, and a table."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "Solar power at home"
    slide.placeholders[1].text = "A short introduction for householders"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "How panels work"
    frame = slide.placeholders[1].text_frame
    frame.text = "Silicon cells turn sunlight into direct current"
    sub = frame.add_paragraph()
    sub.text = "An inverter changes it to alternating current for the house"
    sub.level = 1
    slide.notes_slide.notes_text_frame.text = "Mention the roof installation in Leeds."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Output by month"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(4), Inches(2)).table
    for r, row in enumerate([["Month", "Energy (kWh)"], ["June", "410"], ["December", "95"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()
