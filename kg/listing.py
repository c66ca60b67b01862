"""Listing orders, written by the build: a page of a long list is then a lookup.

A saved query that lists the first nodes of a kind in some order must otherwise sort
every node of that kind on every request: at a million triples, the 5,806 actors take
about 100 ms to look up and sort in label order, the 1,581 issues 22 ms in order of
prominence (twice per sticking-points answer), the cease-fire proposals 74 ms in IRI
order, the five pages of negotiations-status 67 ms together, before anything else is
done. The build ranks them once, in `graph/listing`, and a page is the nodes ranked below
its size (queries/actors.rq, sticking-points.rq, ceasefire-terms.rq,
negotiations-status.rq, timeline.rq; docs/queries.md).

A node's rank is the position of its first row in the order of the distinct rows (node,
sort key) of the union of the graphs, which is what the endpoint's default graph holds:
an actor with two labels has two rows. So the nodes ranked below N own every row among
the first N, and sorting their rows and keeping N gives exactly the first N rows of the
whole order, as the query that sorts every node would.

A dense listing ranks keys (dates), not rows: a node's rank is the position, among the
distinct keys in order, of its first key. The timeline's page is the events of its first
50 dates (at 1M, finding them took 60 ms of the query's 95): the events ranked below 50.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Store

from .namespaces import LISTING_GRAPH, PARLEY


@dataclass(frozen=True)
class Listing:
    rank: NamedNode  # the property each ranked node gets
    rows: str  # SELECT ?node ?key: one row per distinct (node, key), in the listing's order
    dense: bool = False  # rank by the position of the node's first key among the distinct keys


_PREFIXES = """PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
ACTOR_RANK = NamedNode(PARLEY + "actorRank")
ISSUE_RANK = NamedNode(PARLEY + "issueRank")
CEASEFIRE_PROPOSAL_RANK = NamedNode(PARLEY + "ceasefireProposalRank")
PARTY_RANK = NamedNode(PARLEY + "partyRank")
MEDIATOR_RANK = NamedNode(PARLEY + "mediatorRank")
CONTACT_RANK = NamedNode(PARLEY + "contactRank")
TRUCE_RANK = NamedNode(PARLEY + "truceRank")
ASSESSMENT_RANK = NamedNode(PARLEY + "assessmentRank")
TIMELINE_RANK = NamedNode(PARLEY + "timelineRank")


def _ranked(pattern: str, key: str | None = None) -> str:
    """The distinct rows (?node, ?key) that match `pattern` in some graph, by `key` then IRI.

    `key` is the ORDER BY expression of ?key ahead of the node's IRI; None orders by IRI
    alone (one row per node).
    """
    rows = "?node ?key" if key else "?node"
    order = f"{key} ?node" if key else "?node"
    return (f"{_PREFIXES}SELECT {rows} WHERE {{ {{ SELECT DISTINCT {rows} WHERE {{ {pattern} }} }} }}"
            f" ORDER BY {order}")


LISTINGS = (
    # queries/actors.rq: actors in label order, then IRI order.
    Listing(ACTOR_RANK, _ranked("GRAPH ?typed { ?node a parley:Actor } "
                                "OPTIONAL { GRAPH ?labelled { ?node rdfs:label ?key } }",
                                key="?key")),
    # queries/sticking-points.rq: issues by prominence (unranked last), then IRI order.
    Listing(ISSUE_RANK, _ranked("GRAPH ?typed { ?node a parley:Issue } "
                                "OPTIONAL { GRAPH ?ranked { ?node parley:prominence ?key } }",
                                key="(!BOUND(?key)) ?key")),
    # queries/ceasefire-terms.rq: proposals one of whose terms is a cease-fire of some kind.
    Listing(CEASEFIRE_PROPOSAL_RANK, _ranked(
        "{ GRAPH ?g1 { ?term parley:ceasefireKind ?kind } } "
        "UNION { GRAPH ?g2 { ?term parley:termType parley:Ceasefire } } "
        "UNION { GRAPH ?g3 { ?term parley:termType parley:CessationOfHostilities } } "
        "GRAPH ?g4 { ?node parley:hasTerm ?term } GRAPH ?g5 { ?node a parley:Proposal }")),
    # queries/negotiations-status.rq: a page of each topic.
    Listing(PARTY_RANK, _ranked("GRAPH ?g { ?node parley:partyTo ?negotiation }")),
    Listing(MEDIATOR_RANK, _ranked("GRAPH ?g { ?node parley:mediates ?negotiation }")),
    Listing(CONTACT_RANK, _ranked("GRAPH ?g { ?node parley:forNegotiation ?negotiation }")),
    Listing(TRUCE_RANK, _ranked("GRAPH ?g { ?node a parley:Truce }")),
    Listing(ASSESSMENT_RANK, _ranked("GRAPH ?g { ?node parley:assessmentOf ?target }")),
    # queries/timeline.rq: events by date (a day, a month or a year as ISO text), then
    # start date, undated ones (parley:none) last; ties of text broken by the term, so
    # that the first 50 dates are always 50 distinct ones. Over the union view: the
    # class path reads the ontology's graph, the dates the sources'.
    Listing(TIMELINE_RANK, _ranked(
        "?kind rdfs:subClassOf* parley:Event . ?node a ?kind . "
        "OPTIONAL { ?node parley:date ?onDate } OPTIONAL { ?node parley:startDate ?startDate } "
        "BIND (COALESCE(?onDate, ?startDate, parley:none) AS ?key)",
        key="isIRI(?key) STR(?key) ?key"), dense=True),
)


def write_ranks(store: Store) -> int:
    """Write every listing's ranks into the listing graph; the number of nodes ranked."""
    quads = []
    for listing in LISTINGS:
        ranks: dict = {}
        # The default graph is empty until the union phase: the union view is the union.
        rows = store.query(listing.rows, use_default_graph_as_union=True)
        if not listing.dense:
            for position, row in enumerate(rows):
                ranks.setdefault(row["node"], position)
        else:
            position, last = -1, None
            for row in rows:
                if row["key"] != last:
                    position, last = position + 1, row["key"]
                ranks.setdefault(row["node"], position)
        quads += [Quad(node, listing.rank, Literal(rank), LISTING_GRAPH)
                  for node, rank in ranks.items()]
    store.bulk_extend(quads)
    return len(quads)
