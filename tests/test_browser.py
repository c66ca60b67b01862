"""The query UI in a real headless Chromium (Debian's), driven by Playwright, over loopback."""
from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from parley.server.app import create_app
from parley.server.settings import ServerSettings
from test_ui import HOSTILE, make_app

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
WIDTHS = {"desktop": 1280, "phone": 390}


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        app.extensions["parley.service"].close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    yield from _serve(make_app(tmp_path_factory.mktemp("ui")))


@pytest.fixture(scope="module")
def article_url(article_store):
    """The app over the store built from the article, with the packaged saved queries."""
    yield from _serve(create_app(ServerSettings(store=article_store, executors=1, cache_bytes=0)))


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} "
                    "(bash scripts/system-deps.sh installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


# Tests of layout take both widths through this; the others run at the desktop width.
BOTH_WIDTHS = pytest.mark.parametrize("page", list(WIDTHS), indirect=True)


@pytest.fixture
def page(request, browser, base_url):
    yield from _page(request, browser, base_url)


@pytest.fixture
def article_page(request, browser, article_url):
    yield from _page(request, browser, article_url)


def _page(request, browser, base_url):
    width = getattr(request, "param", "desktop")
    context = browser.new_context(base_url=base_url,
                                  viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    page.width_name = width
    # Every console error (a CSP violation, a failed script) fails the test that caused it.
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()
    assert errors == []


def shoot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.width_name}.png"), full_page=True)


@BOTH_WIDTHS
def test_home_shows_the_answers(page):
    page.goto("/")
    answer = page.locator("article.answer").filter(has_text="Who mediates the talks?")
    playwright_api.expect(answer).to_be_visible()
    playwright_api.expect(answer.locator("table.results")).to_contain_text("Ana Ruiz said she supports a ceasefire")
    playwright_api.expect(answer.get_by_role("link", name="Ana Ruiz")).to_have_attribute("href", "/id/ana-ruiz")
    _no_horizontal_overflow(page)
    shoot(page, "home")


ARTICLE_QUESTIONS = ["How are the negotiations going?",
                     "What terms are being floated for a new cease-fire?",
                     "What are the sticking points?",
                     "What happens after the war ends?"]


@pytest.mark.parametrize("article_page", list(WIDTHS), indirect=True)
def test_home_answers_the_four_article_questions(article_page):
    page = article_page
    page.goto("/")
    questions = page.locator("#questions ~ article.answer")
    playwright_api.expect(questions.get_by_role("heading", level=3)).to_have_text(ARTICLE_QUESTIONS)
    for number in range(len(ARTICLE_QUESTIONS)):
        answer = questions.nth(number)
        # An answer: rows of labels linked to their pages, each with its evidence quote
        # and a link to that span in the source view.
        playwright_api.expect(answer.locator("tbody tr").first).to_be_visible()
        playwright_api.expect(answer.locator("td a.iri").first).to_be_visible()
        assert answer.locator("tr.evidence .evidence-item").count() >= 1
        quote = answer.locator("tr.evidence .evidence-item").first
        playwright_api.expect(quote.locator("blockquote.quote, q.excerpt").first).not_to_be_empty()
        playwright_api.expect(quote.get_by_role("link", name="in the source")).to_have_attribute(
            "href", re.compile(r"^/source/hostage-talks-2024-01#ev-"))
        # No `xLabel` column next to the `x` column its label already names.
        headings = answer.locator("thead th").all_inner_texts()
        assert not any(h.endswith("label") for h in headings), headings
    _no_horizontal_overflow(page)
    shoot(page, "home-article")
    # An excerpt opens to the whole quote; its link leads to the span in the source.
    excerpt = page.locator("details.quote").first
    excerpt.locator("summary").click()
    playwright_api.expect(excerpt.locator("blockquote.quote")).to_be_visible()
    link = excerpt.locator("xpath=..").get_by_role("link", name="in the source")
    anchor = link.get_attribute("href").split("#")[1]
    link.click()
    playwright_api.expect(page.locator(f"#{anchor}")).to_be_in_viewport()


def test_a_missing_page_is_an_html_page(page):
    response = page.goto("/id/nobody")
    assert response.status == 404
    # Chromium logs the status of the page itself as a console error: the one expected.
    assert len(page.console_errors) == 1 and "404" in page.console_errors[0]
    page.console_errors.clear()
    playwright_api.expect(page.get_by_role("heading", level=1)).to_contain_text("Not Found")
    playwright_api.expect(page.get_by_role("alert")).to_contain_text("No statement of the graph mentions")
    playwright_api.expect(page.get_by_role("link", name="home page")).to_be_visible()


@BOTH_WIDTHS
def test_run_a_saved_query_with_a_parameter(page):
    page.goto("/query")
    saved = page.locator("details").filter(has_text="Positions of an actor")
    saved.locator("summary").click()
    saved.get_by_label("actor").fill("pid:ana-ruiz")
    saved.get_by_role("button", name="Run positions").click()
    page.wait_for_url("**/query?saved=positions&actor=pid%3Aana-ruiz")
    results = page.locator(".results-section")
    playwright_api.expect(results).to_contain_text("1 row")
    playwright_api.expect(results.get_by_role("link", name="supports")).to_be_visible()
    _no_horizontal_overflow(page)
    shoot(page, "saved-query")


def test_edit_and_run_a_query(page):
    page.goto("/query")
    editor = page.locator(".CodeMirror")
    playwright_api.expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?person WHERE { ?person a <https://w3id.org/parley/ontology#Person> } ORDER BY ?person")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/query?query=*")
    playwright_api.expect(page.locator(".results-section").get_by_role("link", name="Ana Ruiz")).to_be_visible()
    assert "query=SELECT" in page.url   # the URL holds the query: it can be shared
    # A syntax error comes back next to the editor, its line marked.
    editor = page.locator(".CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT * WHERE {\n?s ?p }")
    page.keyboard.press("Control+Enter")
    playwright_api.expect(page.get_by_role("alert")).to_contain_text("Line 2, column")
    playwright_api.expect(page.locator(".CodeMirror .error-line")).to_have_count(1)
    shoot(page, "query-error")


def test_completion_offers_ontology_terms(page):
    page.goto("/query")
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nparley:Pers")
    page.keyboard.press("Control+Space")
    playwright_api.expect(page.locator(".CodeMirror-hints")).to_contain_text("parley:Person")


@BOTH_WIDTHS
def test_entity_page_shows_evidence_and_escapes_literals(page):
    page.goto("/id/ana-ruiz")
    playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text("Ana Ruiz")
    evidence = page.locator("section", has=page.get_by_role("heading", name="Evidence"))
    playwright_api.expect(evidence).to_contain_text("Ana Ruiz said she supports a ceasefire")
    playwright_api.expect(page.locator(".types")).to_contain_text("inferred")
    # The curated <script> literal is text on the page and never ran.
    playwright_api.expect(page.get_by_text(HOSTILE).first).to_be_visible()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    _no_horizontal_overflow(page)
    shoot(page, "entity")


def test_same_iri_as_turtle(page, base_url):
    response = page.request.get(f"{base_url}/id/ana-ruiz", headers={"Accept": "text/turtle"})
    assert response.ok
    assert response.headers["content-type"].startswith("text/turtle")
    assert "pid:ana-ruiz" in response.text() or "<https://w3id.org/parley/id/ana-ruiz>" in response.text()


@BOTH_WIDTHS
def test_source_view_links_spans(page):
    page.goto("/source/tiny-talks")
    playwright_api.expect(page.locator(".source-text mark")).to_have_count(4)
    page.locator("#at-ev-speech").click()
    playwright_api.expect(page.locator("#ev-speech")).to_be_in_viewport()
    shoot(page, "source")


def test_graph_view_draws_the_network(page):
    page.goto("/graph?iri=https://w3id.org/parley/id/ana-ruiz")
    playwright_api.expect(page.locator("#network[data-ready=true] canvas").first).to_be_attached()
    shoot(page, "graph")


def test_keyboard_reaches_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    playwright_api.expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def _no_horizontal_overflow(page):
    # Wide tables scroll inside their own region; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
