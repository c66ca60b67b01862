"""Explain an inconsistency HermiT found: which individuals clash, and by which axioms."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Store, Variable

from .corpus import Corpus
from .errors import DataError, display_path
from .namespaces import ONTOLOGY_GRAPH, OWL, SOURCE_GRAPH_BASE, shorten
from .parsing import SourceMaps

_PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

# Every class an individual belongs to by assertion or by the domain/range of a property
# it uses: the typings an OWL reasoner starts from.
_TYPINGS = _PREFIXES + """
SELECT DISTINCT ?graph ?individual ?class ?property ?via ?ontology ?sourceGraphs WHERE {
  {
    GRAPH ?graph { ?individual a ?class }
  } UNION {
    GRAPH ?graph { ?individual ?property ?value }
    GRAPH ?ontology { ?property rdfs:domain ?class }
    BIND("domain" AS ?via)
  } UNION {
    GRAPH ?graph { ?subject ?property ?individual }
    GRAPH ?ontology { ?property rdfs:range ?class }
    BIND("range" AS ?via)
  }
  FILTER (isIRI(?individual) && isIRI(?class) && STRSTARTS(STR(?graph), ?sourceGraphs))
} ORDER BY ?graph ?individual ?class ?property
"""

_SUPERCLASSES = _PREFIXES + """
SELECT DISTINCT ?class ?super ?ontology WHERE {
  GRAPH ?ontology { ?class (rdfs:subClassOf|owl:equivalentClass|^owl:equivalentClass)* ?super }
  FILTER (isIRI(?class) && isIRI(?super))
} ORDER BY ?class ?super
"""

_DISJOINT = _PREFIXES + """
SELECT DISTINCT ?first ?second ?axiom ?ontology WHERE {
  GRAPH ?ontology {
    {
      ?first owl:disjointWith ?second .
      BIND("disjointWith" AS ?axiom)
    } UNION {
      ?all a owl:AllDisjointClasses ; owl:members ?list .
      ?list rdf:rest*/rdf:first ?first .
      ?list rdf:rest*/rdf:first ?second .
      FILTER (?first != ?second)
      BIND("AllDisjointClasses" AS ?axiom)
    }
  }
} ORDER BY ?first ?second
"""

_FUNCTIONAL_CLASHES = _PREFIXES + """
SELECT DISTINCT ?graph ?individual ?property ?one ?other ?ontology ?sourceGraphs WHERE {
  GRAPH ?ontology { ?property a owl:FunctionalProperty , owl:DatatypeProperty }
  GRAPH ?graph { ?individual ?property ?one , ?other }
  FILTER (STRSTARTS(STR(?graph), ?sourceGraphs) && STR(?one) < STR(?other))
} ORDER BY ?graph ?individual ?property
"""


# Values outside a data property's range restriction (facets of a datatype, or an
# enumeration): what makes HermiT find, say, a score of 1.5 inconsistent.
_FACET_CLASHES = _PREFIXES + """
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT DISTINCT ?graph ?individual ?property ?value ?facet ?limit ?ontology ?sourceGraphs WHERE {
  GRAPH ?ontology {
    ?property rdfs:range ?range .
    ?range owl:withRestrictions/rdf:rest*/rdf:first ?restriction .
    ?restriction ?facet ?limit .
  }
  GRAPH ?graph { ?individual ?property ?value }
  FILTER (STRSTARTS(STR(?graph), ?sourceGraphs) && isLiteral(?value))
  FILTER (
    (?facet = xsd:minInclusive && !COALESCE(?value >= ?limit, false)) ||
    (?facet = xsd:maxInclusive && !COALESCE(?value <= ?limit, false)) ||
    (?facet = xsd:minExclusive && !COALESCE(?value > ?limit, false)) ||
    (?facet = xsd:maxExclusive && !COALESCE(?value < ?limit, false)))
} ORDER BY ?graph ?individual ?property ?value ?facet
"""

_ENUMERATION_CLASHES = _PREFIXES + """
SELECT DISTINCT ?graph ?individual ?property ?value ?ontology ?sourceGraphs WHERE {
  GRAPH ?ontology { ?property rdfs:range/owl:oneOf ?list }
  GRAPH ?graph { ?individual ?property ?value }
  FILTER (STRSTARTS(STR(?graph), ?sourceGraphs) && isLiteral(?value))
  FILTER NOT EXISTS {
    GRAPH ?ontology { ?list rdf:rest*/rdf:first ?allowed }
    FILTER (COALESCE(?allowed = ?value, false))
  }
} ORDER BY ?graph ?individual ?property ?value
"""


@dataclass(frozen=True)
class Typing:
    cls: str
    property: str | None
    via: str | None


def explain_inconsistency(store: Store, corpus: Corpus, maps: SourceMaps) -> list[DataError]:
    bindings = {Variable("ontology"): ONTOLOGY_GRAPH,
                Variable("sourceGraphs"): Literal(SOURCE_GRAPH_BASE)}
    problems = _disjointness_clashes(store, maps, bindings)
    problems += _functional_clashes(store, maps, bindings)
    if not problems:
        problems.append(DataError(
            "the ontology and the curated data are inconsistent (HermiT), but no clash of "
            "disjoint classes or functional data properties explains it",
            path=corpus.ontology,
            hint="look for owl:complementOf, cardinality restrictions or owl:differentFrom; "
                 "Protégé's explanation of the inconsistency names the axioms"))
    return problems


def value_clashes(store: Store, maps: SourceMaps) -> list[DataError]:
    """Clashes of literal values with the ontology, found with SPARQL over the store.

    Two values of a functional data property, and values outside a data range (facets,
    enumerations): the inconsistencies the rule path must detect without HermiT.
    """
    bindings = {Variable("ontology"): ONTOLOGY_GRAPH,
                Variable("sourceGraphs"): Literal(SOURCE_GRAPH_BASE)}
    problems = _functional_clashes(store, maps, bindings)
    for query, why in ((_FACET_CLASHES, "facet"), (_ENUMERATION_CLASHES, "enumeration")):
        for row in _select(store, query, bindings, "ontology", "sourceGraphs"):
            graph = row["graph"]
            prefixes = maps.by_graph[graph][-1].prefixes
            individual, prop = row["individual"].value, row["property"].value
            path, line, col = maps.locate(individual, graph)
            allowed = (f"{shorten(row['facet'].value, prefixes)} {row['limit'].value}"
                       if why == "facet" else "one of the values its range enumerates")
            problems.append(DataError(
                f"{shorten(individual, prefixes)} has {shorten(prop, prefixes)} "
                f"{row['value'].value!r}, outside the range of {shorten(prop, prefixes)} "
                f"({allowed})", path, line, col,
                hint="the ontology restricts the values of this property; correct the value"))
    return problems


def _disjointness_clashes(store: Store, maps: SourceMaps, bindings) -> list[DataError]:
    supers: dict[str, set[str]] = defaultdict(set)
    for row in _select(store, _SUPERCLASSES, bindings, "ontology"):
        supers[row["class"].value].add(row["super"].value)
    disjoint = defaultdict(set)
    axioms = {}
    for row in _select(store, _DISJOINT, bindings, "ontology"):
        first, second = row["first"].value, row["second"].value
        disjoint[first].add(second)
        disjoint[second].add(first)
        axioms.setdefault(frozenset((first, second)), row["axiom"].value)
    typings: dict[tuple[NamedNode, str], list[Typing]] = defaultdict(list)
    for row in _select(store, _TYPINGS, bindings, "ontology", "sourceGraphs"):
        typing = Typing(row["class"].value, row["property"] and row["property"].value,
                        row["via"] and row["via"].value)
        if typing not in typings[(row["graph"], row["individual"].value)]:
            typings[(row["graph"], row["individual"].value)].append(typing)
    problems, reported = [], set()
    for (graph, individual), kinds in typings.items():
        kinds.sort(key=lambda t: t.via is not None)  # explain by assertions first
        for i, a in enumerate(kinds):
            for b in kinds[i:]:
                for first in supers.get(a.cls, {a.cls}) | {a.cls}:
                    clash = disjoint[first] & (supers.get(b.cls, {b.cls}) | {b.cls})
                    for second in sorted(clash):
                        pair = frozenset((first, second))
                        if (individual, pair) in reported:
                            continue
                        reported.add((individual, pair))
                        problems.append(_clash_error(maps, graph, individual, a, b, first,
                                                     second, axioms[pair]))
    return problems


def _clash_error(maps: SourceMaps, graph, individual: str, a: Typing, b: Typing,
                 first: str, second: str, axiom: str) -> DataError:
    prefixes = maps.by_graph[graph][-1].prefixes
    path, line, col = maps.locate(individual, graph)
    name = lambda iri: shorten(iri, prefixes)  # noqa: E731
    if a == b:
        what = f"is a {_typing(a, name)}, a subclass of both {name(first)} and {name(second)}"
    else:
        what = f"is both a {_typing(a, name)} and a {_typing(b, name)}"
    where = _axiom_location(maps, axiom, first, second)
    return DataError(f"{name(individual)} {what}, but {name(first)} and {name(second)} are "
                     f"disjoint ({where})", path, line, col,
                     hint="correct the type assertion, or the property that implies it")


def _typing(typing: Typing, name) -> str:
    if typing.via is None:
        return name(typing.cls)
    role = "subject" if typing.via == "domain" else "object"
    return (f"{name(typing.cls)} (as {role} of {name(typing.property)}, whose "
            f"{typing.via} is {name(typing.cls)})")


def _axiom_location(maps: SourceMaps, axiom: str, first: str, second: str) -> str:
    """`file:line:col` of the statement that makes the two classes disjoint."""
    ontology = maps.by_graph.get(ONTOLOGY_GRAPH, [])
    for source_map in ontology:
        for offset in source_map.occurrences(OWL + axiom):
            start, end = source_map.statement_span(offset)
            span = source_map.text[start:end]
            if all(any(s in span for s in source_map.spellings(c)) for c in (first, second)):
                line, col = source_map.position(start)
                return f"{display_path(source_map.path)}:{line}:{col}"
    return f"owl:{axiom} in the ontology"


def _functional_clashes(store: Store, maps: SourceMaps, bindings) -> list[DataError]:
    problems = []
    for row in _select(store, _FUNCTIONAL_CLASHES, bindings, "ontology", "sourceGraphs"):
        graph = row["graph"]
        prefixes = maps.by_graph[graph][-1].prefixes
        individual, prop = row["individual"].value, row["property"].value
        path, line, col = maps.locate(individual, graph)
        problems.append(DataError(
            f"{shorten(individual, prefixes)} has two values of the functional property "
            f"{shorten(prop, prefixes)}: {row['one'].value!r} and {row['other'].value!r}",
            path, line, col, hint="a functional property allows one value per subject"))
    return problems


def _select(store: Store, query: str, bindings, *names: str):
    return store.query(query, substitutions={Variable(n): bindings[Variable(n)] for n in names})
