"""The source view: a source text with every evidence span highlighted and linked."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app
from pyoxigraph import NamedNode

from .addressing import evidence_anchor
from .labels import terms_of
from .reading import graph, render_page

_DOCUMENT = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?resource ?p ?o WHERE {
  ?resource ?p ?o .
  FILTER(?p IN (dcterms:title, dcterms:date, dcterms:identifier, dcterms:language,
                parley:dateApproximate, parley:dateDerivation, parley:textFile,
                parley:characters))
} ORDER BY ?p ?o
"""

# Every span of the source with the statements it is evidence for.
_SPANS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?resource ?evidence ?start ?end ?quote ?statement WHERE {
  ?evidence prov:wasQuotedFrom ?resource ; oa:start ?start ; oa:end ?end ; oa:exact ?quote .
  OPTIONAL { ?statement parley:evidence ?evidence }
} ORDER BY ?start ?end ?evidence ?statement
"""


@dataclass
class Span:
    """One evidence span: where it is, what it quotes and what it supports."""

    evidence: NamedNode
    start: int
    end: int
    quote: str
    statements: list
    anchor: str
    matches: bool = True      # the quote equals the text at its offsets


@dataclass(frozen=True)
class Segment:
    """A run of text covered by the same spans; `spans` innermost (shortest) first."""

    text: str
    start: int
    spans: tuple


def source_page(node: NamedNode) -> Response:
    store = graph()
    metadata = store.select(_DOCUMENT, resource=node)
    rows = store.select(_SPANS, resource=node)
    spans: dict[str, Span] = {}
    for row in rows:
        key = row["evidence"].value
        if key not in spans:
            spans[key] = Span(row["evidence"], int(row["start"].value), int(row["end"].value),
                              row["quote"].value, [], evidence_anchor(key))
        if row["statement"] is not None and row["statement"] not in spans[key].statements:
            spans[key].statements.append(row["statement"])
    ordered = sorted(spans.values(), key=lambda s: (s.start, s.end, s.evidence.value))
    fields = {row["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]: row["o"] for row in metadata}
    text, problem = _read_text(fields.get("textFile"), fields.get("characters"))
    segments = []
    if text is not None:
        for span in ordered:
            span.matches = text[span.start:span.end] == span.quote
        segments = segment(text, [s for s in ordered if s.matches])
    terms = [node] + terms_of(metadata) + [t for s in ordered for t in (s.evidence, *s.statements)]
    return Response(render_page("ui/source.html", terms=terms, node=node, metadata=metadata,
                                spans=ordered, segments=segments, problem=problem))


def segment(text: str, spans: list[Span]) -> list[Segment]:
    """Cut `text` at every span boundary, so overlapping spans highlight correctly."""
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    segments = []
    for start, end in zip(cuts, cuts[1:]):
        covering = sorted((s for s in spans if s.start <= start and end <= s.end),
                          key=lambda s: (s.end - s.start, s.start))
        segments.append(Segment(text[start:end], start, tuple(covering)))
    return segments


def _read_text(name, characters) -> tuple[str | None, str | None]:
    """The source text from the corpus the server was given, checked against the graph."""
    if name is None:
        return None, "The graph names no text file for this source."
    path = current_app.extensions["parley.settings"].corpus / "sources" / Path(name.value).name
    if not path.is_file():
        # The server's filesystem layout is no business of its visitors.
        return None, f"The text file {path.name} is not in the corpus this server was given."
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    if characters is not None and int(characters.value) != len(text):
        return None, (f"The text file {path.name} has {len(text)} characters; the graph "
                      f"was built from one with {characters.value}.")
    return text, None
