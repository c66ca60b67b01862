"""Export the store: every named graph (TriG, N-Quads, JSON-LD) or one graph / the union (Turtle)."""
from __future__ import annotations

from typing import BinaryIO

from pyoxigraph import NamedNode, RdfFormat, Store, serialize

from .errors import UsageError
from .namespaces import PREFIXES

FORMATS = {"trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS,
           "turtle": RdfFormat.TURTLE, "jsonld": RdfFormat.JSON_LD}

# Turtle has no named graphs: without --graph it is the union of all graphs, each triple
# once (a CONSTRUCT result is a set); the graph a triple came from is lost.
_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def export(store: Store, output: BinaryIO, format: str, graph: str | None = None) -> None:
    """Write the whole dataset (or one named graph) to `output` in `format`."""
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    rdf_format = FORMATS[format]
    prefixes = PREFIXES if rdf_format in (RdfFormat.TRIG, RdfFormat.TURTLE) else None
    if graph is not None:
        try:
            node = NamedNode(graph)
        except ValueError:
            raise UsageError(f"--graph {graph!r} is not an IRI") from None
        if not store.contains_named_graph(node):
            known = ", ".join(g.value for g in sorted(store.named_graphs(), key=str))
            raise UsageError(f"the store has no graph <{graph}>; it has: {known}")
        if rdf_format.supports_datasets:
            serialize(store.quads_for_pattern(None, None, None, node), output,
                      format=rdf_format, prefixes=prefixes)
        else:
            store.dump(output, format=rdf_format, from_graph=node, prefixes=prefixes)
    elif rdf_format.supports_datasets:
        store.dump(output, format=rdf_format, prefixes=prefixes)
    else:
        serialize(store.query(_UNION), output, format=rdf_format, prefixes=prefixes)
