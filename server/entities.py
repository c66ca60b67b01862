"""Every IRI of the graph dereferences: an HTML page for browsers, RDF for RDF clients."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph
from flask import Blueprint, Response, abort, request, url_for
from pyoxigraph import NamedNode, RdfFormat

from parley.kg.namespaces import INFERRED_GRAPH, PREFIXES, RDF

from .addressing import external_href, node_for_path
from .labels import terms_of
from .reading import graph, render_page
from .sources import source_page

bp = Blueprint("entities", __name__)

# Media types a client may ask for, HTML first so that `*/*` gets the page.
RDF_MEDIA_TYPES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
}
OFFERED = ["text/html", *RDF_MEDIA_TYPES]
# `?format=` for links and clients that cannot set Accept.
FORMAT_NAMES = {"ttl": "text/turtle", "jsonld": "application/ld+json",
                "nt": "application/n-triples", "html": "text/html"}
_FORMAT_LINKS = (("ttl", "text/turtle", "Turtle"), ("jsonld", "application/ld+json", "JSON-LD"),
                 ("nt", "application/n-triples", "N-Triples"))
# A class such as parley:Actor is the object of every instance's rdf:type.
REFERENCE_LIMIT = 500

# What the graph says about the resource and what it says pointing at it, in any graph.
_DESCRIBE = """
CONSTRUCT { ?resource ?p ?o . ?s ?q ?resource }
WHERE { { ?resource ?p ?o } UNION { ?s ?q ?resource } }
"""

_STATEMENTS = """
SELECT ?resource ?p ?o ?g WHERE { GRAPH ?g { ?resource ?p ?o } } ORDER BY ?p ?o ?g
"""

_REFERENCES = """
SELECT ?resource ?s ?p ?g WHERE { GRAPH ?g { ?s ?p ?resource } }
ORDER BY ?p ?s ?g LIMIT %d
""" % (REFERENCE_LIMIT + 1)

_PREAMBLE = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""

_EVIDENCE = _PREAMBLE + """
SELECT ?resource ?evidence ?quote ?source ?start WHERE {
  ?resource parley:evidence ?evidence .
  ?evidence oa:exact ?quote .
  OPTIONAL { ?evidence prov:wasQuotedFrom ?source }
  OPTIONAL { ?evidence oa:start ?start }
} ORDER BY ?source ?start ?evidence
"""

# The statements an evidence span supports (when the resource is itself a span).
_SUPPORTS = _PREAMBLE + """
SELECT ?resource ?statement ?type WHERE {
  ?statement parley:evidence ?resource .
  OPTIONAL { ?statement a ?type . FILTER(STRSTARTS(STR(?type), STR(parley:))) }
} ORDER BY ?statement ?type
"""

_SECTIONS = (
    ("roles", "Roles and offices", _PREAMBLE + """
SELECT ?resource ?office ?organization ?member ?start ?end ?asOf WHERE {
  ?assignment org:member|org:role|org:organization ?resource .
  ?assignment a parley:RoleAssignment .
  OPTIONAL { ?assignment org:member ?member }
  OPTIONAL { ?assignment org:role ?office }
  OPTIONAL { ?assignment org:organization ?organization }
  OPTIONAL { ?assignment parley:startDate ?start }
  OPTIONAL { ?assignment parley:endDate ?end }
  OPTIONAL { ?assignment parley:asOf ?asOf }
} ORDER BY ?member ?office ?organization ?start
"""),
    ("positions", "Positions", _PREAMBLE + """
SELECT ?resource ?position ?holder ?stance ?on ?condition ?statedOn ?quote WHERE {
  ?position a parley:Position .
  { ?position parley:holder ?resource } UNION
  { ?position parley:onIssue|parley:onProposal|parley:onTerm ?resource }
  OPTIONAL { ?position parley:holder ?holder }
  OPTIONAL { ?position parley:stance ?stance }
  OPTIONAL { ?position parley:onIssue|parley:onProposal|parley:onTerm ?on }
  OPTIONAL { ?position parley:condition ?condition }
  OPTIONAL { ?position parley:statedOn ?statedOn }
  OPTIONAL { ?position parley:evidence/oa:exact ?quote }
} ORDER BY ?holder ?statedOn ?position ?on ?quote
"""),
    ("proposals", "Proposals", _PREAMBLE + """
SELECT ?resource ?proposal ?proposedBy ?term ?termType WHERE {
  ?proposal a parley:Proposal .
  { ?proposal parley:proposedBy|parley:concernsIssue ?resource } UNION
  { ?proposal parley:hasTerm ?resource }
  OPTIONAL { ?proposal parley:proposedBy ?proposedBy }
  OPTIONAL { ?proposal parley:hasTerm ?term . OPTIONAL { ?term parley:termType ?termType } }
} ORDER BY ?proposal ?term ?termType
"""),
    ("claims", "Who said what", _PREAMBLE + """
SELECT DISTINCT ?resource ?claim ?claimant ?channel ?directQuote ?asserts WHERE {
  ?claim a parley:Claim .
  { ?claim parley:claimant ?resource } UNION
  { ?claim parley:asserts ?resource } UNION
  { ?claim parley:asserts ?node . ?node ?anything ?resource }
  OPTIONAL { ?claim parley:claimant ?claimant }
  OPTIONAL { ?claim parley:channel ?channel }
  OPTIONAL { ?claim parley:directQuote ?directQuote }
  OPTIONAL { ?claim parley:asserts ?asserts }
} ORDER BY ?claimant ?claim ?asserts
"""),
)

_LINKS = _PREAMBLE + """
SELECT DISTINCT ?resource ?link WHERE {
  ?resource owl:sameAs|skos:exactMatch|skos:closeMatch ?link .
  FILTER(STRSTARTS(STR(?link), "http://www.wikidata.org/entity/"))
} ORDER BY ?link
"""


@dataclass(frozen=True)
class Statement:
    """One (property, value) of the resource with the graphs that hold it."""

    predicate: object
    value: object
    graphs: tuple

    @property
    def inferred(self) -> bool:
        # The reasoner's graph holds only what no source asserts (docs/design.md).
        return all(g == INFERRED_GRAPH for g in self.graphs)


@bp.get("/id/<path:rest>")
def id(rest: str):
    return describe(node_for_path("id", rest))


@bp.get("/evidence/<path:rest>")
def evidence(rest: str):
    return describe(node_for_path("evidence", rest))


@bp.get("/source/<path:rest>")
def source(rest: str):
    node = node_for_path("source", rest)
    if _wanted() == "text/html" and _is_source_document(node):
        return source_page(node)
    return describe(node)


@bp.get("/resource")
def resource():
    iri = request.args.get("iri", "")
    try:
        node = NamedNode(iri)
    except ValueError:
        abort(400, f"'{iri}' is not an IRI")
    return describe(node)


def describe(node: NamedNode):
    """The resource as its page or as RDF, whichever the client prefers."""
    wanted = _wanted()
    if wanted != "text/html":
        return rdf_response(node, wanted)
    statements = _statements(node)
    references = graph().select(_REFERENCES, resource=node)
    if not statements and not references:
        abort(404, f"No statement of the graph mentions <{node.value}>.")
    return render_entity(node, statements, references)


def rdf_response(node: NamedNode, media_type: str, sparql: str | None = None) -> Response:
    """`node` described in `media_type`; `sparql`, if given, is a CONSTRUCT of its own."""
    triples = list(graph().query(sparql, {}) if sparql else
                   graph().query(_DESCRIBE, {"resource": node}))
    if not triples:
        abort(404, f"No statement of the graph mentions <{node.value}>.")
    body = pyoxigraph.serialize(triples, format=RDF_MEDIA_TYPES[media_type],
                                prefixes=PREFIXES if media_type == "text/turtle" else None)
    response = Response(body, mimetype=media_type)
    response.vary.add("Accept")
    return response


def render_entity(node: NamedNode, statements: list[Statement], references: list[dict]):
    store = graph()
    truncated = len(references) > REFERENCE_LIMIT
    references = references[:REFERENCE_LIMIT]
    sections = []
    for key, title, sparql in _SECTIONS:
        rows = store.select(sparql, resource=node)
        if rows:
            sections.append({"key": key, "title": title,
                             "variables": [v for v in rows[0] if v != "resource"],
                             "rows": rows})
    evidence = store.select(_EVIDENCE, resource=node)
    supports = store.select(_SUPPORTS, resource=node)
    links = store.select(_LINKS, resource=node)
    types = [s for s in statements if s.predicate.value == RDF + "type"]
    by_property = defaultdict(list)
    for s in statements:
        by_property[s.predicate].append(s)
    terms = ([node] + [t for s in statements for t in (s.predicate, s.value)]
             + terms_of(references) + terms_of(evidence) + terms_of(supports) + terms_of(links)
             + [t for section in sections for t in terms_of(section["rows"])])
    response = Response(render_page(
        "ui/entity.html", terms=terms, node=node, types=types,
        properties=list(by_property.items()), references=references, truncated=truncated,
        reference_limit=REFERENCE_LIMIT, sections=sections, evidence=evidence,
        supports=supports, links=[(r["link"], external_href(r["link"].value)) for r in links],
        inferred_graph=INFERRED_GRAPH))
    response.vary.add("Accept")
    return response


def _statements(node: NamedNode) -> list[Statement]:
    graphs = defaultdict(list)
    for row in graph().select(_STATEMENTS, resource=node):
        graphs[(row["p"], row["o"])].append(row["g"])
    return [Statement(p, o, tuple(gs)) for (p, o), gs in graphs.items()]


def _is_source_document(node: NamedNode) -> bool:
    return bool(graph().select(
        _PREAMBLE + "SELECT ?resource WHERE { ?resource a parley:SourceDocument } LIMIT 1",
        resource=node))


def format_links() -> list[tuple[str, str, str]]:
    """(label, media type, URL) of this page in each RDF format: the same URL with `format=`.

    Built from the request's endpoint and arguments rather than as `?format=...`, which
    would drop the query string that names the resource on /resource?iri=...
    """
    args = {**request.args, **(request.view_args or {})}
    return [(label, media, url_for(request.endpoint, **{**args, "format": name}))
            for name, media, label in _FORMAT_LINKS]


def _wanted() -> str:
    named = request.args.get("format")
    if named is not None:
        if named not in FORMAT_NAMES:
            abort(400, f"unknown format '{named}' (one of: {', '.join(FORMAT_NAMES)})")
        return FORMAT_NAMES[named]
    return request.accept_mimetypes.best_match(OFFERED, default="text/html")
