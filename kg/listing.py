"""The actors' listing order, written by the build: a page of the list is then a lookup.

A saved query that lists the first actors in label order must otherwise sort every actor
on every request: at a million triples, 5,806 actors take about 100 ms to look up and
sort before anything else is done. The build ranks them once, in `graph/listing`, and the
page is the actors ranked below its size (queries/actors.rq; docs/queries.md).

An actor's rank is the position of its first row in the (label, IRI) order of the
distinct (actor, label) rows of the union of the graphs, which is what the endpoint's
default graph holds: an actor with two labels has two rows. So the actors ranked below N
own every row among the first N, and sorting their rows and keeping N gives exactly the
first N rows of the whole order.
"""
from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad, Store

from .namespaces import LISTING_GRAPH, PARLEY

LIST_RANK = NamedNode(PARLEY + "listRank")

_ROWS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?actor WHERE {
  { SELECT DISTINCT ?actor ?label WHERE {
      GRAPH ?typed { ?actor a parley:Actor }
      OPTIONAL { GRAPH ?labelled { ?actor rdfs:label ?label } }
  } }
} ORDER BY ?label ?actor
"""


def rank_actors(store: Store) -> int:
    """Write each actor's rank into the listing graph; the number of actors ranked."""
    ranks: dict = {}
    for position, row in enumerate(store.query(_ROWS)):
        ranks.setdefault(row["actor"], position)
    store.bulk_extend([Quad(actor, LIST_RANK, Literal(rank), LISTING_GRAPH)
                       for actor, rank in ranks.items()])
    return len(ranks)
