"""The build graph: the build as a prov:Activity, and each named graph's provenance."""
from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata

from pyoxigraph import Literal, NamedNode, Quad, Store

from .corpus import Corpus
from .namespaces import (BUILD_BASE, BUILD_GRAPH, DCTERMS, INFERRED_GRAPH, LINKS_GRAPH,
                         LISTING_GRAPH,
                         ONTOLOGY_GRAPH, PROV, RDF, RDFS, SHAPES_GRAPH, VOID, WIKIDATA_GRAPH, XSD,
                         curation, source_document)

_CURATORS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?agent ?graph WHERE { GRAPH ?graph { ?activity a parley:Curation ;
                                                      prov:wasAssociatedWith ?agent } }
ORDER BY ?agent
"""

_SIZES = "SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } " \
         "GROUP BY ?graph ORDER BY ?graph"

SOFTWARE = ("parley", "pyoxigraph", "rdflib", "pyshacl", "owlready2")


def _n(namespace: str, local: str) -> NamedNode:
    return NamedNode(namespace + local)


def _time(moment: datetime) -> Literal:
    return Literal(moment.isoformat(), datatype=_n(XSD, "dateTime"))


def graph_sizes(store: Store) -> dict[str, int]:
    return {row["graph"].value: int(row["triples"].value) for row in store.query(_SIZES)}


def describe_build(store: Store, corpus: Corpus, report) -> int:
    """Write the build graph; returns how many triples it holds."""
    now = datetime.now(timezone.utc)
    stamp = report.started.strftime("%Y%m%dT%H%M%S%fZ")
    build = NamedNode(f"{BUILD_BASE}{stamp}")
    a, g = _n(RDF, "type"), BUILD_GRAPH
    triples = [
        (build, a, _n(PROV, "Activity")),
        (build, _n(RDFS, "label"), Literal("kg build")),
        (build, _n(PROV, "startedAtTime"), _time(report.started)),
        (build, _n(PROV, "endedAtTime"), _time(now)),
        (build, _n(PROV, "used"), NamedNode("https://w3id.org/parley/ontology")),
    ]
    for name in SOFTWARE:
        agent = NamedNode(f"{build.value}/software/{name}")
        triples += [(build, _n(PROV, "wasAssociatedWith"), agent),
                    (agent, a, _n(PROV, "SoftwareAgent")),
                    (agent, _n(RDFS, "label"), Literal(f"{name} {_version(name)}"))]
    for timing in report.phases:
        phase = NamedNode(f"{build.value}/phase/{timing.name}")
        triples += [(phase, a, _n(PROV, "Activity")),
                    (phase, _n(RDFS, "label"), Literal(timing.name)),
                    (phase, _n(DCTERMS, "isPartOf"), build),
                    (phase, _n(DCTERMS, "extent"),
                     Literal(f"{timing.seconds:.3f}", datatype=_n(XSD, "decimal")))]
    reasoning = NamedNode(f"{build.value}/phase/reasoning")
    if report.reasoning is not None:
        triples.append((reasoning, _n(RDFS, "comment"), Literal(
            f"skipped: {report.reasoning.skipped}" if report.reasoning.skipped
            else f"{report.reasoning.reasoner}: consistent, "
                 f"{report.reasoning.inferred} entailments materialised")))
    for warning in report.warnings:
        triples.append((build, _n(RDFS, "comment"), Literal(f"warning: {warning}")))

    sizes = graph_sizes(store)
    curators: dict[str, list] = {}
    for row in store.query(_CURATORS):
        curators.setdefault(row["graph"].value, []).append(row["agent"])
    for source in corpus.sources:
        graph = source.graph
        triples += [(graph, _n(PROV, "wasDerivedFrom"), source_document(source.id)),
                    (graph, _n(PROV, "wasInfluencedBy"), curation(source.id)),
                    (build, _n(PROV, "used"), source_document(source.id))]
        triples += [(graph, _n(PROV, "wasAttributedTo"), agent)
                    for agent in curators.get(graph.value, [])]
    triples += [(INFERRED_GRAPH, _n(PROV, "wasDerivedFrom"), s.graph) for s in corpus.sources]
    triples += [(INFERRED_GRAPH, _n(PROV, "wasDerivedFrom"), ONTOLOGY_GRAPH),
                (INFERRED_GRAPH, _n(PROV, "wasGeneratedBy"), reasoning)]
    optional = [g for g in (WIKIDATA_GRAPH, LINKS_GRAPH, LISTING_GRAPH) if g.value in sizes]
    for graph in ([ONTOLOGY_GRAPH, SHAPES_GRAPH, INFERRED_GRAPH] + optional
                  + [s.graph for s in corpus.sources]):
        triples += [(graph, a, _n(PROV, "Entity")),
                    (graph, a, _n(VOID, "Dataset")),
                    (graph, _n(VOID, "triples"),
                     Literal(str(sizes.get(graph.value, 0)), datatype=_n(XSD, "integer"))),
                    (graph, _n(PROV, "generatedAtTime"), _time(now)),
                    (build, _n(PROV, "generated"), graph)]
    quads = [Quad(s, p, o, g) for s, p, o in triples]
    store.bulk_extend(quads)
    return len(quads)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
