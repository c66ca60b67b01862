"""Counts of a built store: triples per named graph, instances per class."""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Store, Variable

from .namespaces import BUILD_GRAPH, GRAPH_BASE, ONTOLOGY_GRAPH, SHAPES_GRAPH

_TRIPLES_PER_GRAPH = """
SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY ?graph
"""

# Instances of the data (asserted in a source graph or inferred), not of the ontology,
# shapes or build graphs, whose classes and shapes would only count themselves.
_INSTANCES_PER_CLASS = """
SELECT ?class (COUNT(DISTINCT ?instance) AS ?instances) ?ontology ?shapes ?build WHERE {
  GRAPH ?graph { ?instance a ?class }
  FILTER (?graph NOT IN (?ontology, ?shapes, ?build))
} GROUP BY ?class ?ontology ?shapes ?build ORDER BY DESC(?instances) ?class
"""

_BUILD_NOTES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?note ?build WHERE { GRAPH ?build { ?activity rdfs:comment ?note } } ORDER BY ?note
"""


@dataclass(frozen=True)
class Stats:
    graphs: list[tuple[str, int]]
    classes: list[tuple[str, int]]
    notes: list[str]

    @property
    def triples(self) -> int:
        return sum(count for _, count in self.graphs)


def compute_stats(store: Store) -> Stats:
    graphs = [(row["graph"].value, int(row["triples"].value))
              for row in store.query(_TRIPLES_PER_GRAPH)]
    classes = [(row["class"].value, int(row["instances"].value))
               for row in store.query(_INSTANCES_PER_CLASS, substitutions={
                   Variable("ontology"): ONTOLOGY_GRAPH, Variable("shapes"): SHAPES_GRAPH,
                   Variable("build"): BUILD_GRAPH})]
    notes = [row["note"].value for row in store.query(
        _BUILD_NOTES, substitutions={Variable("build"): BUILD_GRAPH})]
    return Stats(graphs, classes, notes)


def format_stats(stats: Stats, shorten) -> str:
    lines = ["triples per graph:"]
    width = max((len(_graph_name(g)) for g, _ in stats.graphs), default=0)
    lines += [f"  {_graph_name(g):<{width}}  {n:>8}" for g, n in stats.graphs]
    lines.append(f"  {'total':<{width}}  {stats.triples:>8}")
    lines.append("instances per class (asserted and inferred):")
    names = [(shorten(c), n) for c, n in stats.classes]
    width = max((len(c) for c, _ in names), default=0)
    lines += [f"  {c:<{width}}  {n:>8}" for c, n in names]
    if stats.notes:
        lines.append("build notes:")
        lines += [f"  {note}" for note in stats.notes]
    return "\n".join(lines) + "\n"


def _graph_name(iri: str) -> str:
    return iri[len(GRAPH_BASE):] if iri.startswith(GRAPH_BASE) else iri


