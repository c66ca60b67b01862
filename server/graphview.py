"""The graph view: the neighbourhood of a resource as an interactive network and a table."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for
from pyoxigraph import NamedNode

from parley.kg.namespaces import PARLEY

from .addressing import local_href
from .labels import fetch_labels
from .reading import graph, render_page

bp = Blueprint("graphview", __name__)

# A network beyond this many nodes is a hairball, not a picture.
NODE_LIMIT = 120

# The IRI-to-IRI statements around the given resources, without the bookkeeping edges
# (types, evidence, provenance) that would connect everything to everything.
_EDGES = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?s ?p ?o WHERE {
  VALUES ?resource { %s }
  { ?resource ?p ?o . BIND(?resource AS ?s) } UNION { ?s ?p ?resource . BIND(?resource AS ?o) }
  FILTER(isIRI(?s) && isIRI(?o))
  FILTER(?p NOT IN (rdf:type, parley:evidence, prov:wasQuotedFrom, prov:wasGeneratedBy,
                    prov:wasDerivedFrom, skos:inScheme, rdfs:isDefinedBy))
} ORDER BY ?s ?p ?o
"""

# Nodes that stand for a fact rather than a thing: the view expands them one more hop,
# so that an actor's page shows the issues of its positions, not only the positions.
_FACT_NODES = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT DISTINCT ?node WHERE {
  VALUES ?node { %s }
  ?node a ?class .
  VALUES ?class { parley:Position parley:Claim parley:RoleAssignment parley:Term
                  parley:Assessment parley:Quantity parley:Condition }
} ORDER BY ?node
"""


@bp.get("/graph")
def page():
    node = _requested()
    edges = neighbourhood(node)
    nodes = {node.value} | {t.value for e in edges for t in (e[0], e[2])}
    return render_page("ui/graph.html", terms=[NamedNode(n) for n in nodes] + [e[1] for e in edges],
                       node=node, edges=edges,
                       data_url=url_for(".data", iri=node.value))


@bp.get("/graph.json")
def data():
    """Nodes and edges for cytoscape.js; labels and links are made here, not in the browser."""
    node = _requested()
    edges = neighbourhood(node)
    iris = {node.value} | {t.value for e in edges for t in (e[0], e[2])}
    labels = fetch_labels(graph(), [NamedNode(i) for i in iris] + [e[1] for e in edges])
    return jsonify({
        "focus": node.value,
        "nodes": [{"id": iri, "label": labels.label(iri), "href": local_href(iri),
                   "kind": "term" if iri.startswith(PARLEY) else "resource"}
                  for iri in sorted(iris)],
        "edges": [{"id": f"e{i}", "source": s.value, "target": o.value,
                   "label": labels.label(p)} for i, (s, p, o) in enumerate(edges)],
    })


def neighbourhood(node: NamedNode) -> list[tuple]:
    store = graph()
    edges = _edges(store, [node])
    seen = {node.value} | {t.value for e in edges for t in (e[0], e[2])}
    neighbours = sorted(seen - {node.value})
    if neighbours:
        facts = store.select(_FACT_NODES % _values(neighbours))
        if facts:
            for edge in _edges(store, [r["node"] for r in facts]):
                new = {edge[0].value, edge[2].value} - seen
                if len(seen) + len(new) > NODE_LIMIT:
                    continue
                seen |= new
                edges.append(edge)
    return sorted(set(edges), key=lambda e: (e[0].value, e[1].value, e[2].value))


def _edges(store, nodes) -> list[tuple]:
    rows = store.select(_EDGES % _values([n.value for n in nodes]))
    return [(r["s"], r["p"], r["o"]) for r in rows][:NODE_LIMIT * 4]


def _values(iris) -> str:
    # Serialised NamedNodes were validated when built; they cannot leave their <...>.
    return " ".join(str(NamedNode(i)) for i in iris)


def _requested() -> NamedNode:
    iri = request.args.get("iri", "")
    try:
        return NamedNode(iri)
    except ValueError:
        abort(400, f"'{iri}' is not an IRI")
