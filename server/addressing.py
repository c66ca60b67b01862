"""Where each IRI of the graph lives on this server, and which IRI a local path names."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import abort, url_for
from pyoxigraph import NamedNode

from parley.kg.namespaces import PARLEY

BASE = "https://w3id.org/parley/"
ONTOLOGY = BASE + "ontology"
# The IRI spaces of docs/design.md that dereference on this server by their path.
LOCAL_SPACES = ("id", "source", "evidence")
# Only these schemes become links; anything else (javascript:, data:, file:) shows as text.
LINKABLE_SCHEMES = ("http", "https")


def iri_for_path(space: str, rest: str) -> str:
    """`/id/hamas` → `https://w3id.org/parley/id/hamas` (the path is already URL-decoded)."""
    return f"{BASE}{space}/{rest}"


def node_for_path(space: str, rest: str) -> NamedNode:
    """The IRI a local path names, or 404: a decoded path may hold what no IRI may (`/id/a%20b`)."""
    iri = iri_for_path(space, rest)
    try:
        return NamedNode(iri)
    except ValueError:
        # No IRI of the graph can be spelt so, hence "not found" rather than a bad request.
        abort(404, f"/{space}/{rest} names no resource: {iri!r} is not a valid IRI")


def local_href(iri: str) -> str | None:
    """The URL of the page of `iri` on this server, or None for an IRI that is not a web IRI."""
    if iri.startswith(PARLEY):
        return url_for("ui.ontology.page") + "#" + quote(iri[len(PARLEY):], safe="")
    if iri == ONTOLOGY:
        return url_for("ui.ontology.page")
    for space in LOCAL_SPACES:
        prefix = f"{BASE}{space}/"
        if iri.startswith(prefix) and len(iri) > len(prefix):
            # url_for percent-encodes and the router decodes, so any slug round-trips.
            return url_for(f"ui.entities.{space}", rest=iri[len(prefix):])
    if is_linkable(iri):
        return url_for("ui.entities.resource", iri=iri)
    return None


def external_href(iri: str) -> str | None:
    """`iri` itself when it is safe as a link target off this site."""
    return iri if is_linkable(iri) else None


def is_linkable(iri: str) -> bool:
    try:
        parts = urlsplit(iri)
    except ValueError:
        return False
    return parts.scheme.lower() in LINKABLE_SCHEMES and bool(parts.netloc)



def evidence_in_source(term) -> str | None:
    """For an evidence span `.../evidence/<source>/<slug>`: its place in the source view."""
    iri = getattr(term, "value", None)
    prefix = f"{BASE}evidence/"
    if not isinstance(iri, str) or not iri.startswith(prefix):
        return None
    source, _, slug = iri[len(prefix):].partition("/")
    if not source or not slug:
        return None
    return url_for("ui.entities.source", rest=source) + "#" + evidence_anchor(iri)


def evidence_anchor(iri: str) -> str:
    """The element id of an evidence span in the source view (ids may not hold `/`)."""
    return "ev-" + quote(iri.rsplit("/", 1)[-1], safe="")
