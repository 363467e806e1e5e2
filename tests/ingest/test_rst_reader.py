"""The .rst reader: docutils' document without markup, title, exact offsets, nothing pulled in."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact, paragraphs_of
from _office_samples import DATA

from qa.ingest import scan_corpus
from qa.ingest.rst import reader

GUIDE = b"""\
================
Harbour handbook
================

:Author: Ann Smith
:Version: 2

Boats leave the harbour at dawn.  See :ref:`tides <tide-table>` and the
`port authority <https://example.org>`_ site [1]_.

.. note:: Moorings are free in winter.

.. toctree::

   tides
   fees

Fees
----

* Small boats pay *five* pounds a night.
* Large boats pay ten.

  * Catamarans count as large.

=========  =======
Boat       Fee
=========  =======
Dinghy     free
Yacht      10
=========  =======

.. [1] Open on weekdays.

.. include:: /etc/passwd

.. raw:: html
   :file: /etc/hostname

.. A comment that is not shown.
"""


def test_rst_markup_is_removed_and_blocks_are_paragraphs() -> None:
    extracted = reader(GUIDE, [])
    assert extracted.fmt == "rst" and extracted.title == "Harbour handbook"
    paragraphs = paragraphs_of(extracted.text)
    assert paragraphs == [
        "Harbour handbook",
        "Author: Ann Smith\nVersion: 2",
        "Boats leave the harbour at dawn. See tides and the port authority site [1].",
        "Note: Moorings are free in winter.",
        "Fees",
        "- Small boats pay five pounds a night.\n- Large boats pay ten.\n  - Catamarans count as large.",
        "Boat: Dinghy; Fee: free\nBoat: Yacht; Fee: 10",
        "[1] Open on weekdays.",
    ]


def test_rst_never_includes_other_files() -> None:
    text = reader(GUIDE, []).text
    assert (
        "root:" not in text
        and "include" not in text
        and Path("/etc/hostname").read_text().strip() not in text
    )


def test_rst_title_from_a_title_field_else_the_first_section() -> None:
    assert reader(b":title: Return codes\n\nZero means success.\n", []).title == "Return codes"
    assert reader(b"Intro\n-----\n\nText.\n\nMore\n----\n\nText.\n", []).title == "Intro"
    aside = b".. admonition:: Aside\n\n   Text.\n\nIntro\n-----\n\nText.\n\nMore\n----\n\nText.\n"
    assert reader(aside, []).title == "Intro"


def test_real_rst_file_reads_with_code_blocks_and_exact_offsets(tmp_path: Path) -> None:
    (tmp_path / "s3.rst").write_bytes((DATA / "boto3-s3-examples.rst").read_bytes())
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.fmt == "rst" and doc.title == "List objects in an Amazon S3 bucket"
    assert "^^^^" not in doc.text and ".. code-block::" not in doc.text
    assert "Restore Glacier objects in an Amazon S3 bucket\n\n" in doc.text
    assert "for obj in bucket.objects.all():\n    print(obj.key)" in doc.text
    assert_exact(doc)
