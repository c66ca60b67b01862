"""Content negotiation: Accept with q-values (and a `format` shortcut) to a serialization."""
from __future__ import annotations

from dataclasses import dataclass

from parley.server.errors import NotAcceptable


@dataclass(frozen=True)
class Format:
    media_type: str  # what the response's Content-Type says
    name: str  # pyoxigraph's QueryResultsFormat / RdfFormat member
    shorts: tuple[str, ...]  # values of the `format=` parameter that select it

    @property
    def content_type(self) -> str:
        # text/* defaults to US-ASCII without a charset; the other types are UTF-8 by definition.
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type


# The first entry of each list is the default when the client accepts anything.
RESULTS = (
    Format("application/sparql-results+json", "JSON", ("json", "srj")),
    Format("application/sparql-results+xml", "XML", ("xml", "srx")),
    Format("text/csv", "CSV", ("csv",)),
    Format("text/tab-separated-values", "TSV", ("tsv",)),
    Format("application/json", "JSON", ()),
    Format("application/xml", "XML", ()),
    Format("text/xml", "XML", ()),
)
GRAPHS = (
    Format("text/turtle", "TURTLE", ("turtle", "ttl")),
    Format("application/n-triples", "N_TRIPLES", ("ntriples", "nt", "n-triples")),
    Format("application/rdf+xml", "RDF_XML", ("rdfxml", "xml", "rdf", "rdf+xml")),
    Format("application/ld+json", "JSON_LD", ("jsonld", "json-ld", "json")),
    Format("application/trig", "TRIG", ("trig",)),
    Format("application/n-quads", "N_QUADS", ("nquads", "nq", "n-quads")),
    Format("application/x-turtle", "TURTLE", ()),
    Format("text/plain", "N_TRIPLES", ()),
    Format("application/xml", "RDF_XML", ()),
    Format("application/json", "JSON_LD", ()),
)


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """(media range, q, position) for each range of an Accept header; malformed ranges are skipped."""
    if not header:
        return [("*/*", 1.0, 0)]
    ranges = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            continue
        q = 1.0
        for parameter in pieces[1:]:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    return ranges


def _quality(media_type: str, ranges) -> tuple[float, int, int]:
    """q for `media_type` from the most specific matching range (RFC 9110 §12.5.1)."""
    best = None
    kind = media_type.split("/")[0]
    for media, q, position in ranges:
        specificity = 3 if media == media_type else 2 if media == f"{kind}/*" else 1 if media == "*/*" else 0
        if specificity and (best is None or specificity > best[1]):
            best = (q, specificity, position)
    if best is None:
        return (0.0, 0, 0)
    return best


def choose(candidates: tuple[Format, ...], accept: str | None, short: str | None = None) -> Format:
    """The candidate the client prefers: highest q, then the more specific range, then our order."""
    if short:
        # A short name (`csv`) or, as some clients send, a media type (`text/csv`).
        # An unencoded `+` (application/sparql-results+json typed in a URL) arrives as a space.
        wanted = short.split(";")[0].strip().lower().replace(" ", "+")
        for candidate in candidates:
            if wanted in candidate.shorts or wanted == candidate.media_type:
                return candidate
        names = ", ".join(c.shorts[0] for c in candidates if c.shorts)
        raise NotAcceptable(f"format={short} is not available here; choose one of: {names} "
                            "(or one of their media types)")
    ranges = parse_accept(accept)
    scored = []
    for order, candidate in enumerate(candidates):
        q, specificity, position = _quality(candidate.media_type, ranges)
        if q > 0:
            scored.append((-q, -specificity, position if specificity == 3 else order, order, candidate))
    if not scored:
        offered = ", ".join(c.media_type for c in candidates)
        raise NotAcceptable(f"none of the accepted media types ({accept}) is available here; "
                            f"the answer can be sent as: {offered}")
    return min(scored, key=lambda s: s[:4])[-1]
