"""The ontology page: classes and properties with their definitions and hierarchy."""
from __future__ import annotations

from collections import defaultdict
from urllib.parse import quote

from flask import Blueprint
from pyoxigraph import NamedNode

from parley.kg.namespaces import PARLEY, shorten

from .addressing import ONTOLOGY
from .entities import rdf_response, _wanted
from .reading import graph, render_page

bp = Blueprint("ontology", __name__)

_TERMS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term ?kind (SAMPLE(?def) AS ?definition) WHERE {
  GRAPH <https://w3id.org/parley/graph/ontology> {
    ?term a ?type .
    VALUES (?type ?kind) {
      (owl:Class "class") (owl:ObjectProperty "object property")
      (owl:DatatypeProperty "datatype property") (owl:AnnotationProperty "annotation property")
    }
    OPTIONAL { ?term skos:definition|rdfs:comment ?def }
  }
  FILTER isIRI(?term)
} GROUP BY ?term ?kind ORDER BY ?kind ?term
"""

_PARENTS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?term ?parent WHERE {
  GRAPH <https://w3id.org/parley/graph/ontology> {
    ?term rdfs:subClassOf|rdfs:subPropertyOf ?parent .
    FILTER(isIRI(?parent))
  }
} ORDER BY ?term ?parent
"""

_SIGNATURES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?term ?p ?value WHERE {
  GRAPH <https://w3id.org/parley/graph/ontology> {
    ?term ?p ?value .
    VALUES ?p { rdfs:domain rdfs:range }
    FILTER(isIRI(?value))
  }
} ORDER BY ?term ?p ?value
"""

# The ontology document as RDF: every statement of the ontology graph.
_ONTOLOGY_GRAPH = """
CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://w3id.org/parley/graph/ontology> { ?s ?p ?o } }
"""


@bp.get("/ontology")
def page():
    wanted = _wanted()
    if wanted != "text/html":
        return rdf_response(NamedNode(ONTOLOGY), wanted, _ONTOLOGY_GRAPH)
    store = graph()
    terms = store.select(_TERMS)
    parents = defaultdict(list)
    for row in store.select(_PARENTS):
        parents[row["term"].value].append(row["parent"])
    signatures = defaultdict(lambda: defaultdict(list))
    for row in store.select(_SIGNATURES):
        signatures[row["term"].value][row["p"].value.rsplit("#", 1)[-1]].append(row["value"])
    kinds = defaultdict(list)
    for row in terms:
        kinds[row["kind"].value].append(row)
    declared = {row["term"].value for row in terms}
    trees = {kind: _tree(rows, parents, declared) for kind, rows in kinds.items()}
    everything = ([r["term"] for r in terms] + [p for ps in parents.values() for p in ps]
                  + [v for sig in signatures.values() for vs in sig.values() for v in vs])
    anchors = {iri: _anchor(iri) for iri in declared}
    return render_page("ui/ontology.html", terms=everything, kinds=kinds, trees=trees,
                       parents=parents, signatures=signatures, anchors=anchors)


def _anchor(iri: str) -> str:
    # Parley terms keep their local name, so that `/ontology#Person` is the term's IRI path.
    if iri.startswith(PARLEY):
        return iri[len(PARLEY):]
    short = shorten(iri)
    return "term-" + (short if not short.startswith("<") else quote(iri, safe=""))


def _tree(rows, parents, declared):
    """(term, children) pairs: roots are terms with no parent declared in this list."""
    own = {r["term"].value: r for r in rows}
    children = defaultdict(list)
    roots = []
    for iri, row in own.items():
        ups = [p.value for p in parents.get(iri, []) if p.value in own and p.value != iri]
        for up in ups:
            children[up].append(iri)
        if not ups:
            roots.append(iri)

    def build(iri, path):
        # A cycle (equivalent classes stated as mutual subclasses) must not recurse forever.
        kids = [build(k, path | {k}) for k in sorted(children[iri]) if k not in path]
        return {"row": own[iri], "children": kids}

    return [build(r, {r}) for r in sorted(roots)]
