"""The IRIs of docs/design.md: namespaces, named graphs and the prefixes used in messages."""
from __future__ import annotations

from pyoxigraph import NamedNode

PARLEY = "https://w3id.org/parley/ontology#"
PID = "https://w3id.org/parley/id/"
SRC = "https://w3id.org/parley/source/"
EVIDENCE_BASE = "https://w3id.org/parley/evidence/"
CURATION_BASE = "https://w3id.org/parley/curation/"
GRAPH_BASE = "https://w3id.org/parley/graph/"
SOURCE_GRAPH_BASE = GRAPH_BASE + "source/"
BUILD_BASE = "https://w3id.org/parley/build/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
OA = "http://www.w3.org/ns/oa#"
TIME = "http://www.w3.org/2006/time#"
DCTERMS = "http://purl.org/dc/terms/"
SH = "http://www.w3.org/ns/shacl#"
VOID = "http://rdfs.org/ns/void#"

ONTOLOGY_GRAPH = NamedNode(GRAPH_BASE + "ontology")
SHAPES_GRAPH = NamedNode(GRAPH_BASE + "shapes")
INFERRED_GRAPH = NamedNode(GRAPH_BASE + "inferred")
LINKS_GRAPH = NamedNode(GRAPH_BASE + "links")
WIKIDATA_GRAPH = NamedNode(GRAPH_BASE + "wikidata")
BUILD_GRAPH = NamedNode(GRAPH_BASE + "build")
LISTING_GRAPH = NamedNode(GRAPH_BASE + "listing")

# Namespaces whose terms count as declared without the ontology saying so.
BUILT_IN = (RDF, RDFS, OWL, XSD)

PREFIXES = {
    "parley": PARLEY, "pid": PID, "src": SRC, "rdf": RDF, "rdfs": RDFS, "owl": OWL,
    "xsd": XSD, "skos": SKOS, "prov": PROV, "org": ORG, "oa": OA, "time": TIME,
    "dcterms": DCTERMS, "sh": SH, "void": VOID,
}


def source_graph(source_id: str) -> NamedNode:
    return NamedNode(SOURCE_GRAPH_BASE + source_id)


def source_document(source_id: str) -> NamedNode:
    return NamedNode(SRC + source_id)


def curation(source_id: str) -> NamedNode:
    return NamedNode(CURATION_BASE + source_id)


def evidence_namespace(source_id: str) -> str:
    return f"{EVIDENCE_BASE}{source_id}/"


def term(namespace: str, local: str) -> NamedNode:
    return NamedNode(namespace + local)


def shorten(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """`parley:Person` for a known namespace, `<iri>` otherwise (for messages)."""
    table = {**PREFIXES, **(prefixes or {})}
    best = max(((p, ns) for p, ns in table.items() if iri.startswith(ns)),
               key=lambda item: len(item[1]), default=None)
    if best is not None:
        local = iri[len(best[1]):]
        if local and all(c.isalnum() or c in "-_." for c in local) and not local.endswith("."):
            return f"{best[0]}:{local}"
    return f"<{iri}>"
