"""SPARQL 1.1 Service Description (GET /sparql without a query) and VoID (/.well-known/void)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from parley.server.cors import allow_cross_origin
from parley.server.negotiation import GRAPHS, RESULTS, choose

blueprint = Blueprint("description", __name__)
blueprint.after_request(allow_cross_origin)

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS}
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
    _, numbers = service.statistics()
    endpoint = NamedNode(request.base_url)
    node, dataset, default = BlankNode(), BlankNode(), BlankNode()
    triples = [
        Triple(node, RDF_TYPE, _sd("Service")),
        Triple(node, _sd("endpoint"), endpoint),
        Triple(node, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(node, _sd("feature"), _sd("UnionDefaultGraph")),
        Triple(node, _sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(node, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, RDF_TYPE, _void("Dataset")),
        Triple(dataset, _void("sparqlEndpoint"), endpoint),
        Triple(dataset, _sd("defaultGraph"), default),
        Triple(default, RDF_TYPE, _sd("Graph")),
        *_statistics(default, numbers["union"]),
    ]
    if settings.service_allowlist:
        triples.append(Triple(node, _sd("feature"), _sd("BasicFederatedQuery")))
    for name in dict.fromkeys(f.name for f in RESULTS + GRAPHS):
        triples.append(Triple(node, _sd("resultFormat"), NamedNode(FORMATS + _FORMAT_IRIS[name])))
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
    _, numbers = service.statistics()
    dataset = NamedNode(request.base_url + "#dataset")
    endpoint = NamedNode(url_for("protocol.sparql", _external=True))
    triples = [
        Triple(dataset, RDF_TYPE, _void("Dataset")),
        Triple(dataset, _void("sparqlEndpoint"), endpoint),
        *_statistics(dataset, numbers["union"]),
    ]
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
