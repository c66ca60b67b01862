"""SPARQL 1.1 Service Description (GET /sparql without a query) and VoID (/.well-known/void).

The description lists the saved queries as examples, in the vocabulary of the SIB SPARQL
examples (used by UniProt, Rhea, Bgee and their query editors): each is a
`sh:SPARQLExecutable` with its text in `sh:select` (or `sh:ask`, `sh:construct`), an
`rdfs:label` and `rdfs:comment` for people, `schema:keywords` for its tags and
`schema:target` naming the endpoint it runs on. SPARQL-SD has no property for examples;
`schema:target` links each example to the service's `sd:endpoint`.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from parley.server.api import catalog
from parley.server.errors import ProtocolError
from parley.server.negotiation import GRAPHS, RESULTS, choose

blueprint = Blueprint("description", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SH = "http://www.w3.org/ns/shacl#"
SCHEMA = "https://schema.org/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
# DESCRIBE has no SHACL executable; the SIB examples vocabulary adds one.
SPEX_DESCRIBE = "https://purl.expasy.org/sparql-examples/ontology#describe"
PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS, "sh": SH, "schema": SCHEMA, "rdfs": RDFS,
            "dcterms": DCTERMS}
_EXECUTABLES = {
    "SELECT": ("SPARQLSelectExecutable", SH + "select"),
    "ASK": ("SPARQLAskExecutable", SH + "ask"),
    "CONSTRUCT": ("SPARQLConstructExecutable", SH + "construct"),
    "DESCRIBE": (None, SPEX_DESCRIBE),
}
# W3C format IRIs (https://www.w3.org/ns/formats/) for what the endpoint can answer in.
_FORMAT_IRIS = {
    "JSON": "SPARQL_Results_JSON", "XML": "SPARQL_Results_XML", "CSV": "SPARQL_Results_CSV",
    "TSV": "SPARQL_Results_TSV", "TURTLE": "Turtle", "N_TRIPLES": "N-Triples", "RDF_XML": "RDF_XML",
    "JSON_LD": "JSON-LD", "TRIG": "TriG", "N_QUADS": "N-Quads",
}
_VOID_NUMBERS = {"triples": "triples", "subjects": "distinctSubjects", "properties": "properties",
                 "objects": "distinctObjects", "classes": "classes"}


def _sd(name: str) -> NamedNode:
    return NamedNode(SD + name)


def _void(name: str) -> NamedNode:
    return NamedNode(VOID + name)


def _count(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)


def _statistics(subject, numbers: dict) -> list[Triple]:
    return [Triple(subject, _void(prop), _count(numbers[key])) for key, prop in _VOID_NUMBERS.items()]


def _english(text: str) -> Literal:
    return Literal(text, language="en")


def _examples(service, endpoint: NamedNode) -> list[Triple]:
    """Each saved query as a SPARQL executable running on `endpoint`, under its API URL."""
    triples = []
    for query in catalog():
        try:
            form = service.shape(query.text).form
        except ProtocolError:
            continue  # refused by this server's guard (a SERVICE with --no-federation): no example here
        if form not in _EXECUTABLES:
            continue  # the parser would reject it; nothing to offer as an example
        node = NamedNode(url_for("api.run_query", name=query.id, _external=True))
        kind, text_property = _EXECUTABLES[form]
        triples += [
            Triple(node, RDF_TYPE, NamedNode(SH + "SPARQLExecutable")),
            Triple(node, NamedNode(text_property), Literal(query.text)),
            Triple(node, NamedNode(SCHEMA + "target"), endpoint),
            Triple(node, NamedNode(RDFS + "label"), _english(query.title)),
            # The caption query editors show: the question the query answers, if it has one.
            Triple(node, NamedNode(RDFS + "comment"), _english(query.question or query.title)),
            Triple(node, NamedNode(DCTERMS + "description"), _english(query.description)),
            Triple(node, NamedNode(DCTERMS + "identifier"), Literal(query.id)),
            *(Triple(node, NamedNode(SCHEMA + "keywords"), Literal(tag)) for tag in query.tags),
        ]
        if kind:
            triples.append(Triple(node, RDF_TYPE, NamedNode(SH + kind)))
    return triples


def _rdf_response(triples: list[Triple]) -> Response:
    media = choose(GRAPHS, request.headers.get("Accept"), request.args.get("format"))
    body = serialize(triples, format=getattr(RdfFormat, media.name),
                     prefixes=PREFIXES if media.name in ("TURTLE", "TRIG") else None)
    response = Response(body, content_type=media.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    return response


def service_description() -> Response:
    service = current_app.extensions["parley.service"]
    settings = service.settings
    numbers = service.statistics()
    endpoint = NamedNode(request.base_url)
    node, dataset, default = BlankNode(), BlankNode(), BlankNode()
    triples = [
        Triple(node, RDF_TYPE, _sd("Service")),
        Triple(node, _sd("endpoint"), endpoint),
        Triple(node, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(node, _sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(node, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, RDF_TYPE, _void("Dataset")),
        Triple(dataset, _void("sparqlEndpoint"), endpoint),
        Triple(dataset, _sd("defaultGraph"), default),
        Triple(default, RDF_TYPE, _sd("Graph")),
        *_examples(service, endpoint),
    ]
    # The limits a client meets, for people reading the description (SD has no terms for them).
    allowed = ", ".join(sorted(settings.service_allowlist)) or "none"
    triples.append(Triple(node, NamedNode(RDFS + "comment"), Literal(
        f"Read-only SPARQL 1.1 query endpoint. An answer holds at most {settings.row_cap} solutions "
        f"or triples: a longer one is cut, and its response says so in the X-Parley-Truncated "
        f"header. A query may run {settings.timeout:g} s, then it is stopped with 503. "
        f"SERVICE may call: {allowed}.")))
    if service.union_default_graph():
        triples.append(Triple(node, _sd("feature"), _sd("UnionDefaultGraph")))
    if settings.service_allowlist:
        triples.append(Triple(node, _sd("feature"), _sd("BasicFederatedQuery")))
    for name in dict.fromkeys(f.name for f in RESULTS + GRAPHS):
        triples.append(Triple(node, _sd("resultFormat"), NamedNode(FORMATS + _FORMAT_IRIS[name])))
    if numbers is None:
        # A remote backend that cannot count (or not in time): the description goes
        # without statistics rather than failing.
        return _rdf_response(triples)
    triples += _statistics(default, numbers["default"])
    for graph in numbers["graphs"]:
        named, described = BlankNode(), BlankNode()
        triples += [
            Triple(dataset, _sd("namedGraph"), named),
            Triple(named, RDF_TYPE, _sd("NamedGraph")),
            Triple(named, _sd("name"), NamedNode(graph["name"])),
            Triple(named, _sd("graph"), described),
            Triple(described, RDF_TYPE, _sd("Graph")),
            *_statistics(described, graph),
        ]
    return _rdf_response(triples)


@blueprint.route("/.well-known/void", methods=["GET"])
def void():
    service = current_app.extensions["parley.service"]
    numbers = service.statistics()
    dataset = NamedNode(request.base_url + "#dataset")
    endpoint = NamedNode(url_for("protocol.sparql", _external=True))
    triples = [
        Triple(dataset, RDF_TYPE, _void("Dataset")),
        Triple(dataset, _void("sparqlEndpoint"), endpoint),
    ]
    if numbers is None:
        return _rdf_response(triples)
    triples += _statistics(dataset, numbers["default"])
    for graph in numbers["graphs"]:
        # Each named graph is a subset of the dataset, described under its own IRI.
        subset = NamedNode(graph["name"])
        triples += [
            Triple(dataset, _void("subset"), subset),
            Triple(subset, RDF_TYPE, _void("Dataset")),
            Triple(subset, _void("sparqlEndpoint"), endpoint),
            *_statistics(subset, graph),
        ]
    return _rdf_response(triples)
