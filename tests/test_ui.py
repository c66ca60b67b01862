"""The query UI through Flask's test client: pages, escaping, CSP, content negotiation."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph
import pytest
from flask import Flask
from pyoxigraph import NamedNode, RdfFormat, Store

from parley.server.app import create_app
from parley.server.settings import ServerSettings

TEXT = ("Talks resumed in Doha on Monday. Ana Ruiz said she supports a ceasefire, "
        "according to two officials. Nobody else spoke.")
HOSTILE = "<script>window.__pwned = true</script><img src=x onerror=\"window.__pwned=1\">"


def _span(quote: str) -> tuple[int, int]:
    start = TEXT.index(quote)
    return start, start + len(quote)


SPEECH = "Ana Ruiz said she supports a ceasefire"
TALKS = "Talks resumed in Doha on Monday."
OVERLAP = "supports a ceasefire, according to two officials"

TRIG = """
@prefix parley: <https://w3id.org/parley/ontology#> .
@prefix pid: <https://w3id.org/parley/id/> .
@prefix src: <https://w3id.org/parley/source/> .
@prefix ev: <https://w3id.org/parley/evidence/tiny-talks/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .

<https://w3id.org/parley/graph/ontology> {
  parley:Actor a owl:Class ; rdfs:label "actor"@en ; skos:definition "Anyone who acts in a negotiation."@en .
  parley:Person a owl:Class ; rdfs:label "person"@en ; rdfs:subClassOf parley:Actor ;
      skos:definition "A human being."@en .
  parley:Mediator a owl:Class ; rdfs:label "mediator"@en ; rdfs:subClassOf parley:Actor .
  parley:Position a owl:Class ; rdfs:label "position"@en .
  parley:Claim a owl:Class ; rdfs:label "claim"@en .
  parley:Evidence a owl:Class ; rdfs:label "evidence"@en .
  parley:SourceDocument a owl:Class ; rdfs:label "source document"@en .
  parley:holder a owl:ObjectProperty ; rdfs:label "holder"@en ; rdfs:domain parley:Position ;
      rdfs:range parley:Actor .
  parley:evidence a owl:ObjectProperty ; rdfs:label "evidence"@en .
  parley:Supports rdfs:label "supports"@en .
}
<https://w3id.org/parley/graph/source/tiny-talks> {
  src:tiny-talks a parley:SourceDocument ; dcterms:title "Tiny talks" ;
      parley:textFile "tiny-talks.txt" ; parley:characters %(characters)d .
  pid:ana-ruiz a parley:Person ; rdfs:label "Ana Ruiz"@en ; parley:evidence ev:speech .
  pid:doha-talks rdfs:label "Doha talks"@en ; parley:evidence ev:talks .
  pid:position-ana-ceasefire a parley:Position ; parley:holder pid:ana-ruiz ;
      parley:stance parley:Supports ; parley:onIssue pid:issue-ceasefire ;
      parley:evidence ev:speech, ev:overlap .
  pid:issue-ceasefire rdfs:label "ceasefire"@en .
  pid:claim-ana a parley:Claim ; parley:claimant pid:ana-ruiz ;
      parley:directQuote "%(hostile)s" ; parley:asserts pid:position-ana-ceasefire ;
      parley:evidence ev:speech .
  ev:speech a parley:Evidence ; prov:wasQuotedFrom src:tiny-talks ;
      oa:exact "%(speech)s" ; oa:start %(speech_start)d ; oa:end %(speech_end)d .
  ev:talks a parley:Evidence ; prov:wasQuotedFrom src:tiny-talks ;
      oa:exact "%(talks)s" ; oa:start %(talks_start)d ; oa:end %(talks_end)d .
  ev:overlap a parley:Evidence ; prov:wasQuotedFrom src:tiny-talks ;
      oa:exact "%(overlap)s" ; oa:start %(overlap_start)d ; oa:end %(overlap_end)d .
}
<https://w3id.org/parley/graph/inferred> {
  pid:ana-ruiz a parley:Mediator .
}
<https://w3id.org/parley/graph/links> {
  pid:ana-ruiz skos:exactMatch wd:Q4115189 .
}
<https://w3id.org/parley/graph/wikidata> {
  wd:Q4115189 rdfs:label "Ana Ruiz (Wikidata)"@en .
}
""" % {
    "characters": len(TEXT), "hostile": HOSTILE.replace('"', '\\"'),
    "speech": SPEECH, "speech_start": _span(SPEECH)[0], "speech_end": _span(SPEECH)[1],
    "talks": TALKS, "talks_start": _span(TALKS)[0], "talks_end": _span(TALKS)[1],
    "overlap": OVERLAP, "overlap_start": _span(OVERLAP)[0], "overlap_end": _span(OVERLAP)[1],
}

QUERIES = {
    # Two article questions whose ids sort against their `order`: the order must win.
    "a-mediators.rq": """#+ title: Mediators
#+ question: Who mediates the talks?
#+ description: Every actor the reasoner classifies as a mediator, with the evidence.
#+ tags: article-question, mediators
#+ order: 2
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?mediator ?mediatorLabel ?evidence ?quote ?source WHERE {
  ?mediator a parley:Mediator ; parley:evidence ?evidence .
  ?evidence oa:exact ?quote ; prov:wasQuotedFrom ?source .
  OPTIONAL { ?mediator rdfs:label ?mediatorLabel }
} ORDER BY ?mediator ?evidence
""",
    "b-talks.rq": """#+ title: Talks
#+ question: Where are the talks held?
#+ description: The talks with the evidence.
#+ tags: article-question
#+ order: 1
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?talks ?label ?evidence WHERE {
  ?talks rdfs:label ?label ; <https://w3id.org/parley/ontology#evidence> ?evidence .
  ?evidence oa:exact "%(talks)s" .
} ORDER BY ?talks
""" % {"talks": TALKS},
    "claims.rq": """#+ title: Claims
#+ question: Who claims what?
#+ description: Every claim; a saved query that is not one of the article's questions.
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?claim WHERE { ?claim a parley:Claim } ORDER BY ?claim
""",
    "positions.rq": """#+ title: Positions of an actor
#+ description: Every position the actor holds.
#+ param: actor
#+   type: iri
#+   example: pid:ana-ruiz
#+   description: The actor whose positions to list.
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?actor ?position ?stance WHERE {
  ?position parley:holder ?actor ; parley:stance ?stance .
} ORDER BY ?position
""",
    # Its parameter is used in a FILTER: bound by a VALUES block after the group, the
    # FILTER would run with ?after unbound and no row would come back.
    "spans-after.rq": """#+ title: Evidence spans after an offset
#+ description: The evidence spans that start after the given character offset.
#+ param: after
#+   type: integer
#+   default: 0
#+   description: The offset spans must start after.
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?evidence ?start WHERE {
  ?evidence oa:start ?start .
  FILTER (?start > ?after)
} ORDER BY ?start ?evidence
""",
}


def build_store(path: Path, extra: list[pyoxigraph.Quad] = ()) -> Path:
    """The tiny graph in an on-disk store at `path`, closed so that executors may open it."""
    store = Store(str(path))
    store.load(TRIG.encode(), format=RdfFormat.TRIG)
    store.extend(extra)
    store.flush()
    del store
    return path


def make_app(tmp_path: Path, extra: list[pyoxigraph.Quad] = (), **settings) -> Flask:
    """The real app over the tiny graph, with the tiny corpus and saved queries beside it."""
    corpus, queries = tmp_path / "corpus", tmp_path / "queries"
    (corpus / "sources").mkdir(parents=True)
    (corpus / "sources" / "tiny-talks.txt").write_text(TEXT, encoding="utf-8")
    queries.mkdir()
    for name, text in QUERIES.items():
        (queries / name).write_text(text, encoding="utf-8")
    store = build_store(tmp_path / "store", extra)
    return create_app(ServerSettings(store=store, executors=1, cache_bytes=0,
                                     corpus=corpus, queries=queries, **settings))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("ui"))
    yield app.test_client()
    app.extensions["parley.service"].close()


def _questions(page: str) -> list[str]:
    section = page.split('id="questions"')[1].split("</section>")[0]
    return re.findall(r'<h3 id="q-[^"]+">([^<]+)</h3>', section)


def test_home_answers_the_article_questions_with_evidence(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Only the queries tagged article-question, in their `#+ order:` (the ids sort the
    # other way).
    assert _questions(page) == ["Where are the talks held?", "Who mediates the talks?"]
    answer = page.split('id="q-a-mediators"')[1].split("</article>")[0]
    assert ">Ana Ruiz</a>" in answer                        # the IRI shown as its label
    assert '<blockquote class="quote">Ana Ruiz said she supports a ceasefire</blockquote>' in answer
    assert 'href="/source/tiny-talks#ev-speech">in the source</a>' in answer
    # The label, quote and source columns repeat what the label link and the evidence show.
    headings = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', answer)
    assert headings == ["mediator"]
    # Other saved queries are links to the Query page, with an example for a parameter.
    more = page.split('id="more"')[1]
    assert 'href="/query?saved=claims">Claims</a>' in more
    assert 'href="/query?saved=positions&amp;actor=pid:ana-ruiz">' in more


def test_long_quotes_show_an_excerpt_that_expands(tmp_path):
    long_quote = ("Talks resumed in Doha on Monday. " * 5).strip()
    span = NamedNode("https://w3id.org/parley/evidence/tiny-talks/long")
    graph = NamedNode("https://w3id.org/parley/graph/source/tiny-talks")
    extra = [pyoxigraph.Quad(s, NamedNode(p), o, graph) for s, p, o in [
        (NamedNode("https://w3id.org/parley/id/ana-ruiz"),
         "https://w3id.org/parley/ontology#evidence", span),
        (span, "http://www.w3.org/ns/oa#exact", pyoxigraph.Literal(long_quote)),
        (span, "http://www.w3.org/ns/oa#start", pyoxigraph.Literal(0)),
        (span, "http://www.w3.org/ns/prov#wasQuotedFrom",
         NamedNode("https://w3id.org/parley/source/tiny-talks"))]]
    app = make_app(tmp_path, extra)
    try:
        page = app.test_client().get("/").get_data(as_text=True)
    finally:
        app.extensions["parley.service"].close()
    details = page.split('<details class="quote">')[1].split("</details>")[0]
    excerpt = re.search(r'<q class="excerpt">([^<]+)</q>', details)[1]
    assert excerpt.endswith("…") and len(excerpt) < len(long_quote)
    assert f'<blockquote class="quote">{long_quote}</blockquote>' in details


def test_ui_errors_are_pages_for_browsers_and_text_for_others(client):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = client.get("/id/nobody", headers=browser)
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1>Not Found" in html and "No statement of the graph mentions" in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    bad = client.get("/resource?iri=not%20an%20iri", headers=browser)
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    assert "is not an IRI" in bad.get_data(as_text=True)
    # curl, fetch and RDF clients keep the app's plain-text error.
    for accept in ("*/*", "text/turtle"):
        plain = client.get("/id/nobody", headers={"Accept": accept})
        assert plain.status_code == 404 and plain.mimetype == "text/plain", accept
    # The SPARQL endpoint is not the UI's: its errors stay plain text even for a browser.
    sparql = client.get("/sparql?query=SELECT", headers=browser)
    assert sparql.status_code == 400 and sparql.mimetype != "text/html"


def test_every_page_sends_a_strict_csp(client):
    for path in ("/", "/query", "/id/ana-ruiz", "/source/tiny-talks", "/ontology",
                 "/graph?iri=https://w3id.org/parley/id/ana-ruiz"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        page = response.get_data(as_text=True)
        # Scripts only as files: no inline script and no inline handler or style anywhere.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\son[a-z]+=\"", page.replace(HOSTILE, "")), path
        assert " style=" not in page, path


def test_hostile_literal_is_escaped_everywhere(client):
    for path in ("/id/ana-ruiz", "/id/claim-ana", "/query?query=" +
                 "SELECT%20%3Fq%20WHERE%20%7B%20%3Fc%20%3Chttps%3A%2F%2Fw3id.org%2Fparley%2Fontology%23directQuote%3E%20%3Fq%20%7D"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>window.__pwned" not in page, path
        assert "&lt;script&gt;window.__pwned = true&lt;/script&gt;" in page, path


def test_entity_page_shows_types_inferred_evidence_and_wikidata(client):
    page = client.get("/id/ana-ruiz").get_data(as_text=True)
    assert "<h1>Ana Ruiz</h1>" in page
    types = page.split('aria-label="Types"')[1].split("</ul>")[0]
    assert ">person</a></li>" in types and "mediator</a> <span class=\"badge inferred\"" in types
    assert "Ana Ruiz said she supports a ceasefire" in page
    assert 'href="http://www.wikidata.org/entity/Q4115189"' in page
    assert "Who said what" in page and "Positions" in page


def test_entity_iri_negotiates_rdf(client):
    iri = NamedNode("https://w3id.org/parley/id/ana-ruiz")
    turtle = client.get("/id/ana-ruiz", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.mimetype == "text/turtle"
    assert "Accept" in turtle.headers["Vary"]
    triples = [q.triple for q in pyoxigraph.parse(turtle.data, format=RdfFormat.TURTLE)]
    # Outgoing and incoming statements from every graph, the inferred type included.
    assert pyoxigraph.Triple(iri, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                             NamedNode("https://w3id.org/parley/ontology#Mediator")) in triples
    assert any(t.object == iri for t in triples)
    jsonld = client.get("/id/ana-ruiz", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"
    assert any(node.get("@id") == iri.value for node in json.loads(jsonld.data))
    nt = client.get("/id/ana-ruiz", headers={"Accept": "application/n-triples;q=1, text/html;q=0.5"})
    assert nt.mimetype == "application/n-triples"
    assert {q.triple for q in pyoxigraph.parse(nt.data, format=RdfFormat.N_TRIPLES)} == set(triples)
    browser = client.get("/id/ana-ruiz", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "text/html"


def test_unknown_iri_is_404_and_bad_iri_400(client):
    assert client.get("/id/nobody").status_code == 404
    assert client.get("/id/nobody", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/resource?iri=not%20an%20iri").status_code == 400
    wikidata = client.get("/resource?iri=http://www.wikidata.org/entity/Q4115189")
    assert wikidata.status_code == 200
    assert "Ana Ruiz (Wikidata)" in wikidata.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/id/foo%20bar", "/source/a%3Eb", "/evidence/x%7By"])
def test_a_path_that_is_no_iri_is_404(client, path):
    for accept in ("text/html", "text/turtle", "text/plain"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404
        assert "is not a valid IRI" in response.get_data(as_text=True)


def test_rdf_links_keep_the_resource_they_describe(client):
    iri = "http://www.wikidata.org/entity/Q4115189"
    page = client.get("/resource", query_string={"iri": iri}).get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" type="text/turtle">Turtle</a>', page)
    assert len(links) == 1
    turtle = client.get(links[0].replace("&amp;", "&"))
    assert turtle.status_code == 200 and turtle.mimetype == "text/turtle"
    assert "Ana Ruiz (Wikidata)" in turtle.get_data(as_text=True)
    for path in ("/id/ana-ruiz", "/source/tiny-talks", "/ontology"):
        page = client.get(path).get_data(as_text=True)
        assert f'href="{path}?format=jsonld"' in page, path


def test_saved_query_parameter_in_a_filter_binds_on_page_and_api_alike(client):
    after = TALKS_END = len(TALKS)
    expected = sorted((start, name) for name, start in (
        ("speech", _span(SPEECH)[0]), ("talks", 0), ("overlap", _span(OVERLAP)[0]))
        if start > TALKS_END)
    assert len(expected) == 2  # the FILTER keeps some spans and drops one
    page = client.get(f"/query?saved=spans-after&after={after}").get_data(as_text=True)
    assert "2 rows" in page
    shown = re.findall(r'href="/evidence/tiny-talks/([a-z]+)"', page)
    assert shown == [name for _, name in expected]
    api = client.get("/api/queries/spans-after", query_string={"after": after},
                     headers={"Accept": "application/sparql-results+json"}).get_json(force=True)
    rows = [(int(b["start"]["value"]), b["evidence"]["value"].rsplit("/", 1)[-1])
            for b in api["results"]["bindings"]]
    assert rows == expected


def test_rows_cut_by_the_row_cap_are_said_to_be_cut(tmp_path):
    app = make_app(tmp_path, row_cap=2)
    try:
        client = app.test_client()
        page = client.get("/query", query_string={
            "query": "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"}).get_data(as_text=True)
        assert "2+ rows" in page
        assert "limit of 2 rows" in page and "the downloads hold them all" not in page
        whole = client.get("/query", query_string={
            "query": "SELECT ?s WHERE { ?s a <https://w3id.org/parley/ontology#Claim> } ORDER BY ?s"})
        assert "limit of 2" not in whole.get_data(as_text=True)
    finally:
        app.extensions["parley.service"].close()


def test_source_view_reads_the_corpus_it_was_given_and_hides_its_path(tmp_path):
    app = make_app(tmp_path)
    (tmp_path / "corpus" / "sources" / "tiny-talks.txt").unlink()
    try:
        page = app.test_client().get("/source/tiny-talks").get_data(as_text=True)
    finally:
        app.extensions["parley.service"].close()
    assert "tiny-talks.txt is not in the corpus this server was given" in page
    assert str(tmp_path) not in page


def test_only_web_iris_become_links(tmp_path):
    app = make_app(tmp_path, [pyoxigraph.Quad(
        NamedNode("https://w3id.org/parley/id/ana-ruiz"),
        NamedNode("http://www.w3.org/2002/07/owl#sameAs"), NamedNode("javascript:alert(1)"),
        NamedNode("https://w3id.org/parley/graph/links"))])
    try:
        page = app.test_client().get("/id/ana-ruiz").get_data(as_text=True)
    finally:
        app.extensions["parley.service"].close()
    assert "javascript:alert(1)" in page
    assert 'href="javascript:' not in page


def test_source_view_highlights_every_span_and_links_statements(client):
    page = client.get("/source/tiny-talks").get_data(as_text=True)
    for anchor in ("ev-speech", "ev-talks", "ev-overlap"):
        assert f'<li id="{anchor}">' in page
        assert f'id="at-{anchor}"' in page
    # The overlap of two spans is cut into segments, the shared one marked deeper.
    assert 'class="span depth-2"' in page
    assert 'href="/id/position-ana-ceasefire"' in page
    text = page.split('id="text">')[1].split("</div>")[0]
    assert re.sub(r"<[^>]+>", "", text).replace("&#39;", "'") == TEXT


def test_saved_query_with_parameter_runs_and_links_labels(client):
    response = client.get("/query?saved=positions&actor=pid:ana-ruiz")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/id/position-ana-ceasefire"' in page
    assert ">supports</a>" in page
    assert "1 row" in page and " ms</span>" in page
    assert '/query/results.csv?saved=positions&amp;actor=pid:ana-ruiz' in page


def test_saved_query_parameter_error_is_shown(client):
    page = client.get("/query?saved=positions&actor=not-a-curie").get_data(as_text=True)
    assert 'role="alert"' in page and "is not an IRI" in page


def test_syntax_error_is_shown_with_its_position(client):
    page = client.get("/query?query=SELECT%20*%20WHERE%20%7B%0A%20%20%3Fs%20%3Fp%20%7D").get_data(as_text=True)
    assert 'data-error-line="2"' in page
    assert "Line 2, column" in page


def test_downloads_as_csv_and_json(client):
    csv = client.get("/query/results.csv?saved=positions&actor=pid:ana-ruiz")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[0] == "actor,position,stance"
    assert "attachment" in csv.headers["Content-Disposition"]
    body = client.get("/query/results.json?query=ASK%20%7B%7D").get_json(force=True)
    assert body["boolean"] is True
    assert client.get("/query/results.xlsx?query=ASK%20%7B%7D").status_code == 404
    assert client.get("/query/results.csv?query=SELECT%20%3Fx%20WHERE%20%7B").status_code == 400


def test_vocabulary_for_completion(client):
    data = client.get("/query/vocabulary.json").get_json()
    assert data["prefixes"]["parley"] == "https://w3id.org/parley/ontology#"
    assert "https://w3id.org/parley/ontology#Person" in data["classes"]
    assert "https://w3id.org/parley/ontology#holder" in data["properties"]


def test_ontology_page_and_its_rdf(client):
    page = client.get("/ontology").get_data(as_text=True)
    assert 'id="Person"' in page and "A human being." in page
    # Person sits under Actor in the hierarchy.
    tree = page.split('<details class="hierarchy">')[1].split("</details>")[0]
    assert tree.index('href="#Actor"') < tree.index('href="#Person"')
    turtle = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle" and b"A human being." in turtle.data


def test_graph_view_data(client):
    data = client.get("/graph.json?iri=https://w3id.org/parley/id/ana-ruiz").get_json()
    ids = {n["id"] for n in data["nodes"]}
    # The position is a fact node: the view goes one hop further, to its issue.
    assert "https://w3id.org/parley/id/position-ana-ceasefire" in ids
    assert "https://w3id.org/parley/id/issue-ceasefire" in ids
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    labels = {n["id"]: n["label"] for n in data["nodes"]}
    assert labels["https://w3id.org/parley/id/issue-ceasefire"] == "ceasefire"
