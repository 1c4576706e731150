"""The HTML review in a real headless browser: it loads without console errors, shows its
charts, graphs, route table and explanation anchors, and is not a blank page."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import Browser, find_browser, luminance_stats

from backend_expert.review.command import run_review

ROOT = Path(__file__).resolve().parent.parent
BROWSER = find_browser()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        BROWSER is None,
        reason="no Chromium/Chrome found (install the `chromium` package or set BEX_CHROME)",
    ),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    html = run_review(ROOT / "tests" / "fixtures" / "django_shop", "html", use_cache=False)
    path = tmp_path_factory.mktemp("review") / "review.html"
    path.write_text(html, encoding="utf-8")
    browser = Browser(BROWSER)
    try:
        browser.open(path.as_uri())
        yield browser
    finally:
        browser.close()


def test_the_page_loads_without_console_errors(page):
    assert page.evaluate("document.readyState") == "complete"
    assert page.console_errors() == []


def test_charts_and_graphs_are_drawn(page):
    assert page.evaluate("document.querySelectorAll('#chart-packs rect.bar').length") >= 2
    assert page.evaluate("document.querySelectorAll('#chart-severity rect.bar').length") == 3
    assert page.evaluate("document.querySelectorAll('#graph-layers g.node').length") >= 5
    assert page.evaluate("document.querySelectorAll('#graph-models g.node').length") >= 10
    assert page.evaluate("document.querySelectorAll('#graph-models path.edge').length") >= 10
    # the SVG is laid out: the chart has a real size on screen
    width = page.evaluate("document.querySelector('#chart-packs').getBoundingClientRect().width")
    assert width > 200


def test_route_table_and_explanation_links(page):
    rows = page.evaluate("document.querySelectorAll('#routes tbody tr').length")
    assert rows >= 20
    links = page.evaluate(
        "Array.from(document.querySelectorAll('#findings a')).map(a => a.getAttribute('href'))"
    )
    assert links
    missing = page.evaluate(
        "Array.from(document.querySelectorAll('#findings a'))"
        ".filter(a => !document.querySelector(a.getAttribute('href'))).length"
    )
    assert missing == 0  # every finding links to an explanation on the same page
    sections = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
    assert sections[:3] == ["Summary", "Implementation details", "Code examples"]


def test_the_severity_filter_hides_other_rows(page):
    page.evaluate("document.querySelector('.filters button[data-severity=error]').click()")
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('#findings tbody tr'))"
        ".filter(r => r.style.display !== 'none').map(r => r.dataset.severity)"
    )
    page.evaluate("document.querySelector('.filters button[data-severity=all]').click()")
    assert shown and set(shown) == {"error"}


def test_the_screenshot_is_not_blank(page):
    variance, inked = luminance_stats(page.screenshot())
    assert variance > 200, variance
    assert inked > 0.03, inked


def test_a_blank_broken_page_fails_both_checks(tmp_path):
    # The checks above can fail: an empty page has no variance, a script error is reported.
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body><script>null.x = 1;</script></body></html>")
    browser = Browser(BROWSER)
    try:
        browser.open(blank.as_uri())
        variance, inked = luminance_stats(browser.screenshot())
        errors = browser.console_errors()
    finally:
        browser.close()
    assert variance < 1 and inked == 0
    assert errors and "null" in errors[0]
