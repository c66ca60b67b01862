"""Every class and property the curated data uses must be declared by the ontology."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from pyoxigraph import Literal, Store, Variable

from .errors import DataError
from .namespaces import BUILT_IN, ONTOLOGY_GRAPH, SOURCE_GRAPH_BASE, shorten
from .parsing import SourceMaps

_DECLARED = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?term ?kind ?ontology WHERE {
  GRAPH ?ontology { ?term a ?kind }
  VALUES ?kind { owl:Class rdfs:Class owl:ObjectProperty owl:DatatypeProperty
                 owl:AnnotationProperty rdf:Property owl:NamedIndividual skos:Concept }
  FILTER isIRI(?term)
} ORDER BY ?term
"""

# The distinct predicates, and classes in rdf:type objects, of every graph: one scan of
# the data, no per-quad test (the ontology is then asked about each distinct term in
# Python). Restricting the scan to the source graphs here would cost a string test per
# quad, several times the scan itself at a million triples; instead the few undeclared
# terms are traced to the source graphs that use them, by index, below. Not ORDER BY:
# pyoxigraph sorts every solution before DISTINCT removes the duplicates (4 s instead of
# 0.7 at a million triples); the hundred or so distinct rows are sorted in Python.
_USED = """
SELECT DISTINCT ?term ?usage WHERE {
  { GRAPH ?graph { ?s ?term ?o } BIND("property" AS ?usage) }
  UNION
  { GRAPH ?graph { ?s a ?term } FILTER isIRI(?term) BIND("class" AS ?usage) }
}
"""

# The source graphs that use one undeclared term, for the per-graph errors.
_GRAPHS_USING = {
    "property": """
SELECT DISTINCT ?graph ?term ?sourceGraphs WHERE {
  GRAPH ?graph { ?s ?term ?o } FILTER STRSTARTS(STR(?graph), ?sourceGraphs)
} ORDER BY ?graph""",
    "class": """
SELECT DISTINCT ?graph ?term ?sourceGraphs WHERE {
  GRAPH ?graph { ?s a ?term } FILTER STRSTARTS(STR(?graph), ?sourceGraphs)
} ORDER BY ?graph""",
}


_PROPERTY_KINDS = frozenset(
    ["http://www.w3.org/2002/07/owl#" + k
     for k in ("ObjectProperty", "DatatypeProperty", "AnnotationProperty")]
    + ["http://www.w3.org/1999/02/22-rdf-syntax-ns#Property"])
_CLASS_KINDS = frozenset(["http://www.w3.org/2002/07/owl#Class",
                          "http://www.w3.org/2000/01/rdf-schema#Class"])


@dataclass(frozen=True)
class Vocabulary:
    """The terms the ontology declares, each with the kinds it is declared as."""

    kinds: dict[str, frozenset[str]]

    @classmethod
    def from_store(cls, store: Store) -> "Vocabulary":
        kinds: dict[str, set[str]] = {}
        for row in store.query(_DECLARED, substitutions={Variable("ontology"): ONTOLOGY_GRAPH}):
            kinds.setdefault(row["term"].value, set()).add(row["kind"].value)
        return cls({term: frozenset(k) for term, k in kinds.items()})

    def is_declared(self, iri: str) -> bool:
        return iri in self.kinds or iri.startswith(BUILT_IN)

    def nearest(self, iri: str, usage: str) -> str | None:
        """The declared term the unknown one is most likely a typo of.

        Candidates of the same usage (a property for a predicate, a class for an rdf:type
        object) come first, and within them the same namespace, compared by local name.
        """
        wanted = _PROPERTY_KINDS if usage == "property" else _CLASS_KINDS
        same_usage = sorted(t for t, k in self.kinds.items() if k & wanted)
        return _closest(iri, same_usage or sorted(self.kinds))


def _closest(iri: str, candidates: list[str]) -> str | None:
    namespace, local = _split(iri)
    same_namespace = {_split(t)[1]: t for t in candidates if _split(t)[0] == namespace}
    match = difflib.get_close_matches(local, list(same_namespace), n=1, cutoff=0.6)
    if match:
        return same_namespace[match[0]]
    # Across namespaces compare local names too (whole IRIs share long prefixes and all
    # look alike), but ask for a closer match: a wrong prefix is the rarer typo.
    elsewhere = {}
    for term in candidates:
        elsewhere.setdefault(_split(term)[1], term)
    match = difflib.get_close_matches(local, list(elsewhere), n=1, cutoff=0.8)
    return elsewhere[match[0]] if match else None


def check_declared(store: Store, maps: SourceMaps) -> list[DataError]:
    """One error per undeclared term per source graph, at the first place it is written."""
    vocabulary = Vocabulary.from_store(store)
    sources = Literal(SOURCE_GRAPH_BASE)
    used = sorted(((row["term"], row["usage"].value) for row in store.query(_USED)),
                  key=lambda used: (used[0].value, used[1]))
    undeclared = [(term, usage) for term, usage in used if not vocabulary.is_declared(term.value)]
    problems = []
    for term, usage in undeclared:
        iri = term.value
        nearest = vocabulary.nearest(iri, usage)
        for row in store.query(_GRAPHS_USING[usage], substitutions={
                Variable("term"): term, Variable("sourceGraphs"): sources}):
            graph = row["graph"]
            path, line, col = maps.locate(iri, graph)
            prefixes = maps.by_graph[graph][-1].prefixes if graph in maps.by_graph else None
            hint = (f"did you mean {shorten(nearest, prefixes)}?" if nearest
                    else "declare it in ontology/parley.ttl or use a declared term")
            problems.append(DataError(
                f"{shorten(iri, prefixes)} is used as a {usage} but declared nowhere",
                path=path, line=line, col=col, hint=hint))
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0, p.col or 0))


def _split(iri: str) -> tuple[str, str]:
    cut = max(iri.rfind("#"), iri.rfind("/")) + 1
    return iri[:cut], iri[cut:]


