"""End to end: one real file of each new format is indexed and answers a question about it.

Real packaged model, real FAISS; the files are the committed real samples (rst, man
page, CSV) and office files written by their own libraries (docx, odt, epub, pptx).
"""

from __future__ import annotations

import shutil

import pytest
from _office_samples import DATA, make_docx, make_epub, make_odt, make_pptx

pytestmark = pytest.mark.e2e

# Man pages need the groff program (`make test` installs it); the other formats do not.
HAVE_GROFF = shutil.which("groff") is not None

NEEDS_GROFF = pytest.mark.skipif(not HAVE_GROFF, reason="needs groff (Debian groff-base)")

# Paraphrased questions, the file that answers each, and a quote of the answering passage.
CASES = [
    pytest.param(q, doc, quote, id=doc, marks=[NEEDS_GROFF] if doc.endswith(".gz") else [])
    for q, doc, quote in [
        (
            "How can I bring back objects archived in Glacier storage?",
            "s3-examples.rst",
            "Restore Glacier objects",
        ),
        ("How do I copy a whole directory tree to another host?", "scp.1.gz", "Recursively copy entire"),
        ("When was Debian bookworm released?", "debian-releases.csv", "codename: Bookworm"),
        ("What does the keeper do to the lamp each evening?", "lighthouse.docx", "trims the lamp wick"),
        ("How many eggs can a queen bee lay in a day?", "bees.odt", "two thousand eggs a day"),
        ("When do neap tides happen?", "tides.epub", "at the quarter moons"),
        ("What device converts the panels' direct current for household use?", "solar.pptx", "An inverter"),
    ]
]
# Each document's own title (a CSV has none: its file name).
EXPECTED_TITLES = {
    "s3-examples.rst": "List objects in an Amazon S3 bucket",
    "debian-releases.csv": "debian-releases.csv",
    "lighthouse.docx": "Lighthouse keeping",
    "bees.odt": "Beekeeping through the year",
    "tides.epub": "A Small Book of Tides",
    "solar.pptx": "Solar power at home",
    **({"scp.1.gz": "scp — OpenSSH secure file copy"} if HAVE_GROFF else {}),
}


@pytest.fixture(scope="module")
def formats_retriever(tmp_path_factory: pytest.TempPathFactory, real_embedder):
    from qa.index import Index
    from qa.indexing import build_index
    from qa.retrieval import Retriever

    corpus = tmp_path_factory.mktemp("formats-corpus")
    (corpus / "s3-examples.rst").write_bytes((DATA / "boto3-s3-examples.rst").read_bytes())
    if HAVE_GROFF:
        (corpus / "scp.1.gz").write_bytes((DATA / "scp.1.gz").read_bytes())
    (corpus / "debian-releases.csv").write_bytes((DATA / "debian-releases.csv").read_bytes())
    (corpus / "lighthouse.docx").write_bytes(make_docx())
    (corpus / "bees.odt").write_bytes(make_odt())
    (corpus / "tides.epub").write_bytes(make_epub())
    (corpus / "solar.pptx").write_bytes(make_pptx())
    index_dir = tmp_path_factory.mktemp("formats-index")
    report = build_index(corpus, index_dir, embedder=real_embedder)
    assert sorted(report.added) == sorted(EXPECTED_TITLES)
    assert report.skipped == []
    return Retriever(Index.load(index_dir), embedder=real_embedder)


@pytest.mark.parametrize(("question", "doc_id", "quote"), CASES)
def test_each_format_answers_from_its_own_file(
    formats_retriever, question: str, doc_id: str, quote: str
) -> None:
    answer = formats_retriever.ask(question, k=3)
    assert answer.answered, question
    best = answer.hits[0]
    assert best.passage.doc_id == doc_id, [h.label() for h in answer.hits]
    assert quote in best.text
    document = formats_retriever.index.documents[doc_id]
    assert document.text[best.passage.start : best.passage.end] == best.text


def test_titles_come_from_the_documents(formats_retriever) -> None:
    titles = {doc_id: d.title for doc_id, d in formats_retriever.index.documents.items()}
    assert titles == EXPECTED_TITLES
