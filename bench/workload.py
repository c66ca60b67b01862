"""The requests every benchmark asks: each saved query with example values bound as terms."""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, Store

from parley.kg.catalog import SavedQuery, load_catalog
from parley.kg.querying import bind_parameters, query_with_values, run_query

# On a generated graph the article's example IRIs (pid:benjamin-netanyahu) do not exist;
# an IRI parameter then takes the busiest node of the kind it names, so the query does the
# work a real lookup does. Keyed by parameter name; other parameters keep their example.
_BUSIEST = {
    "actor": """PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?node WHERE { ?position parley:holder ?node } GROUP BY ?node
ORDER BY DESC(COUNT(?position)) ?node LIMIT 1""",
    "resource": """PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?node WHERE { ?node parley:evidence ?span } GROUP BY ?node
ORDER BY DESC(COUNT(?span)) ?node LIMIT 1""",
    # the article's example track does not exist on a generated graph (0 rows, no work)
    "track": """PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?node WHERE { ?issue parley:partOfTrack ?node } GROUP BY ?node
ORDER BY DESC(COUNT(?issue)) ?node LIMIT 1""",
}


@dataclass(frozen=True)
class BoundQuery:
    """A saved query with its values: as Parley takes them, and as plain SPARQL for peers."""

    query: SavedQuery
    values: dict[str, str]            # parameter name -> value as a URL or CLI would give it
    bindings: dict                    # parameter name -> RDF term
    sparql_with_values: str           # the text with a VALUES block, for endpoints without API

    @property
    def id(self) -> str:
        return self.query.id


def bound_queries(store: Store | None = None, *, use_examples: bool = True) -> list[BoundQuery]:
    """Every saved query of the packaged catalog, its parameters bound.

    With `use_examples`, parameters take the example of their header; otherwise (a generated
    graph) IRI parameters named in _BUSIEST take the busiest matching node of `store`.
    """
    bound = []
    for query in load_catalog():
        values = {}
        for parameter in query.parameters:
            value = parameter.example or parameter.default
            if not use_examples and parameter.name in _BUSIEST and store is not None:
                found = list(run_query(store, _BUSIEST[parameter.name]))
                if found:
                    value = found[0]["node"].value
            if value is not None:
                values[parameter.name] = value
        bindings = bind_parameters(query, values)
        bound.append(BoundQuery(query, values, bindings, query_with_values(query, bindings)))
    if not bound:
        raise RuntimeError("the saved-query catalog is empty")
    return bound


def iri_value(term) -> str:
    return term.value if isinstance(term, NamedNode) else str(term)
