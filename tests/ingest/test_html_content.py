"""HTML main content: navigation, menus, search, site header/footer dropped; tables as rows."""

from __future__ import annotations

from qa.ingest import extract_html

SPHINX = """<html><head><title>Scope</title></head><body>
<div class="related" role="navigation"><h3>Navigation</h3><ul><li><a href="i.html">index</a></li>
<li><a href="n.html">next</a> |</li></ul></div>
<div class="document"><div class="body" role="main">
<section><h1>1. Scope<a class="headerlink" href="#s">¶</a></h1>
<p>The purpose of this document is an overview.</p>
<table><thead><tr><th>Name</th><th>Use</th></tr></thead>
<tbody><tr><td><p>apt</p></td><td>installs packages</td></tr><tr><td>dpkg</td><td>low level</td></tr></tbody></table>
<p>After the table.</p></section></div></div>
<div class="sphinxsidebar" role="navigation"><p>Previous topic</p><div role="search">Quick search</div></div>
<div class="footer" role="contentinfo">&copy; Copyright 2023.</div>
</body></html>"""

DOCBOOK = """<html><body><div class="navheader"><table><tr><td>Chapter 10. Kernel</td></tr>
<tr><td><a>Prev</a></td><td><a>Next</a></td></tr></table></div>
<div class="chapter"><h2>Chapter 10. Kernel</h2><div class="toc"><p>Table of Contents</p><dl><dt>10.1. Q?</dt></dl></div>
<h3>10.1. Q?</h3><p>Yes.</p></div>
<div class="navfooter"><table><tr><td>Chapter 9</td><td>Chapter 11</td></tr></table></div>
<nav><a>Home</a></nav></body></html>"""


def test_only_the_main_part_of_a_sphinx_page() -> None:
    text, title = extract_html(SPHINX)
    assert title == "Scope"
    assert text.split("\n\n") == [
        "1. Scope",
        "The purpose of this document is an overview.",
        "Name | Use\napt | installs packages\ndpkg | low level",
        "After the table.",
    ]


def test_docbook_navigation_and_table_of_contents_are_dropped() -> None:
    text, _ = extract_html(DOCBOOK)
    assert text.split("\n\n") == ["Chapter 10. Kernel", "10.1. Q?", "Yes."]


def test_a_page_without_main_keeps_all_but_its_chrome() -> None:
    text, _ = extract_html("<header role='banner'>Site</header><p>Body one.</p><nav>Menu</nav><p>Two.</p>")
    assert text.split("\n\n") == ["Body one.", "Two."]


def test_main_content_off_keeps_the_whole_visible_page() -> None:
    text, _ = extract_html(SPHINX, main_content=False)
    for chrome in ("Navigation", "Previous topic", "Quick search", "Copyright 2023"):
        assert chrome in text
    assert "After the table." in text
