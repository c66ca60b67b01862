"""The home page: what the graph holds, and the article's questions answered live."""
from __future__ import annotations

from flask import Blueprint

from parley.kg.errors import KGError
from parley.kg.namespaces import GRAPH_BASE
from parley.kg.querying import bind_parameters

from .labels import terms_of
from .reading import catalog, graph, render_page

bp = Blueprint("home", __name__)

_SOURCES = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?source ?title ?date ?approximate ?characters WHERE {
  ?source a parley:SourceDocument .
  OPTIONAL { ?source dcterms:title ?title }
  OPTIONAL { ?source dcterms:date ?date }
  OPTIONAL { ?source parley:dateApproximate ?approximate }
  OPTIONAL { ?source parley:characters ?characters }
} ORDER BY ?source
"""

_GRAPH_SIZES = """
SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY ?graph
"""

_COUNTS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?class (COUNT(DISTINCT ?thing) AS ?things) WHERE {
  VALUES ?class { parley:Actor parley:Issue parley:Position parley:Proposal parley:Event
                  parley:Claim parley:Evidence }
  ?thing a ?class
} GROUP BY ?class ORDER BY DESC(?things) ?class
"""

_LAST_BUILD = """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?build ?ended WHERE {
  GRAPH <https://w3id.org/parley/graph/build> {
    ?build a prov:Activity .
    OPTIONAL { ?build prov:endedAtTime ?ended }
  }
} ORDER BY DESC(?ended) ?build LIMIT 1
"""


@bp.get("/")
def page():
    store = graph()
    sources = store.select(_SOURCES)
    sizes = store.select(_GRAPH_SIZES)
    counts = store.select(_COUNTS)
    builds = store.select(_LAST_BUILD)
    answers = [_answer(store, query) for query in _questions()]
    terms = terms_of(sources) + terms_of(counts) + terms_of(builds)
    for answer in answers:
        terms += terms_of(answer["results"].rows) if answer["results"] else []
    return render_page("ui/home.html", terms=terms, sources=sources, sizes=sizes,
                       counts=counts, build=builds[0] if builds else None, answers=answers,
                       total=sum(int(r["triples"].value) for r in sizes),
                       graph_base=GRAPH_BASE)


def _questions():
    # The questions the graph is built to answer are the saved queries that state a
    # question and run without arguments; the catalog is their single source.
    return [q for q in catalog() if q.question and not any(p.required for p in q.parameters)]


def _answer(store, query) -> dict:
    # One question the server refuses (a timeout, a query the guard rejects) must not
    # take the other answers down with it; the reason is shown in its place.
    try:
        return {"query": query, "results": store.run(query.text, bind_parameters(query)),
                "error": None}
    except KGError as error:
        return {"query": query, "results": None, "error": str(error)}
