"""Human-readable labels for the IRIs a page shows, fetched in one query per page."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode

from parley.kg.namespaces import DCTERMS, RDFS, SKOS, XSD, shorten

from .addressing import local_href

# Preferred first; a Wikidata item's label comes from the extract (rdfs:label).
_LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label", DCTERMS + "title")

_LABELS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?s ?p ?label WHERE {
  VALUES ?s { %s }
  VALUES ?p { skos:prefLabel rdfs:label dcterms:title }
  ?s ?p ?label
  FILTER(isLiteral(?label))
} ORDER BY ?s ?p ?label
"""


@dataclass(frozen=True)
class TermView:
    """What a template needs to show one RDF term: text, link, and for literals the type."""

    kind: str                    # "iri", "literal" or "blank"
    text: str
    value: str                   # the IRI, the lexical form, or the blank node id
    href: str | None = None
    language: str | None = None
    datatype: str | None = None  # shown only when it is not xsd:string


class Labels:
    """The labels of a set of IRIs, and the view of any term in their light."""

    def __init__(self, labels: dict[str, str]):
        self._labels = labels

    def __contains__(self, iri: str) -> bool:
        return iri in self._labels

    def label(self, term: NamedNode | str) -> str:
        iri = term.value if isinstance(term, NamedNode) else term
        if iri in self._labels:
            return self._labels[iri]
        short = shorten(iri)
        return iri if short.startswith("<") else short

    def view(self, term) -> TermView:
        if isinstance(term, NamedNode):
            return TermView("iri", self.label(term), term.value, href=local_href(term.value))
        if isinstance(term, Literal):
            datatype = term.datatype.value if term.datatype else None
            if term.language or datatype in (XSD + "string", None):
                datatype = None
            return TermView("literal", term.value, term.value, language=term.language,
                            datatype=shorten(datatype) if datatype else None)
        if isinstance(term, BlankNode):
            return TermView("blank", f"_:{term.value}", term.value)
        raise TypeError(f"not an RDF term: {term!r}")


def fetch_labels(graph, terms: Iterable) -> Labels:
    """One query for the labels of every IRI among `terms` (which may hold anything)."""
    iris = sorted({t.value for t in terms if isinstance(t, NamedNode)})
    if not iris:
        return Labels({})
    # VALUES holds serialised NamedNodes: each was validated as an IRI when it was built,
    # so the text cannot break out of its <...>.
    rows = graph.select(_LABELS % " ".join(str(NamedNode(i)) for i in iris))
    best: dict[str, tuple[int, str]] = {}
    for row in rows:
        literal = row["label"]
        rank = (_LABEL_PROPERTIES.index(row["p"].value) * 2
                + (0 if literal.language in (None, "en") else 1))
        iri = row["s"].value
        if iri not in best or rank < best[iri][0]:
            best[iri] = (rank, literal.value)
    return Labels({iri: text for iri, (_, text) in best.items()})


def terms_of(rows: Iterable[dict]) -> list:
    return [term for row in rows for term in row.values() if term is not None]
