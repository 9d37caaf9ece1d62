"""The in-memory link check: every relative href and src of a page names a file of the site, found in the
order the page has them, whichever folder the page is in."""

from __future__ import annotations

import pytest

from bir.site.linkcheck import LinkChecker

FILES = {"index.html", "records/a.html", "records/b.html", "reports/cost.html", "assets/logo.svg", "kinds/index.html"}
DIRS = {"records", "reports", "assets", "kinds"}

CASES = [
    ("records/x.html", '<a href="a.html">a</a><a href="c.html">c</a>', ["c.html"]),
    ("records/x.html", '<a href="../reports/cost.html"></a><a href="../reports/none.html"></a>', ["../reports/none.html"]),
    # src and href in the order the page has them (the scan of src links keeps their order among the hrefs)
    ("records/x.html", '<img src="../assets/no.svg"><a href="d.html"></a><img src="../assets/logo.svg"><a href="e.html"></a>',
     ["../assets/no.svg", "d.html", "e.html"]),
    ("records/x.html", '<div data-href="z.html" data-src="y.svg"></div>', ["z.html", "y.svg"]),
    ("index.html", '<a href="records/a.html"></a><a href="records/a.html#top"></a><a href="kinds/"></a><a href="../up.html"></a>',
     ["../up.html"]),
    ("records/x.html", '<a href="https://example.org/x">e</a><a href="#attributes"></a><a href="mailto:a@b.c"></a>', []),
    ("records/x.html", '<a href="c.html"></a><a href="c.html"></a>', ["c.html", "c.html"]),
    ("reports/x.html", '<a href="a.html"></a>', ["a.html"]),  # the same link from another folder names another file
]


@pytest.mark.parametrize(("rel", "text", "bad"), CASES)
def test_the_links_that_name_no_file(rel: str, text: str, bad: list[str]) -> None:
    assert LinkChecker(FILES, DIRS).check_text(rel, text) == bad


def test_one_checker_answers_every_page_as_a_new_one_would() -> None:
    shared = LinkChecker(FILES, DIRS)
    for rel, text, bad in CASES * 2:
        assert shared.check_text(rel, text) == bad == LinkChecker(FILES, DIRS).check_text(rel, text)
