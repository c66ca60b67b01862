"""SHACL validation of each source graph (with the ontology, under RDFS) by pySHACL."""
from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from pyoxigraph import NamedNode, RdfFormat, Store
from pyshacl import validate
from rdflib.namespace import SH

from .corpus import Corpus
from .errors import DataError
from .namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, shorten
from .parsing import SourceMaps


@dataclass
class ShapeReport:
    errors: list[DataError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def graph_from_store(store: Store, graph: NamedNode) -> rdflib.Graph:
    """One named graph of the store as an rdflib graph (N-Triples is the cheapest bridge)."""
    result = rdflib.Graph()
    result.parse(data=store.dump(format=RdfFormat.N_TRIPLES, from_graph=graph),
                 format="nt")
    return result


def check_shapes(store: Store, corpus: Corpus, maps: SourceMaps) -> ShapeReport:
    """Validate source by source, so pySHACL only sees one source graph and the ontology."""
    report = ShapeReport()
    ontology = graph_from_store(store, ONTOLOGY_GRAPH)
    shapes = graph_from_store(store, SHAPES_GRAPH)
    for source in corpus.sources:
        data = graph_from_store(store, source.graph)
        _, results, _ = validate(data, shacl_graph=shapes, ont_graph=ontology,
                                 inference="rdfs", abort_on_first=False,
                                 allow_warnings=True, advanced=True)
        prefixes = {**_prefixes(maps, SHAPES_GRAPH), **maps.by_graph[source.graph][-1].prefixes}
        seen = set()
        # Top-level results only: nested ones (sh:detail of sh:node) repeat the same failure.
        for result in sorted(set(results.objects(None, SH.result)),
                             key=lambda r: _sort_key(results, r)):
            problem = _describe(results, shapes, result, prefixes)
            if problem in seen:
                continue
            seen.add(problem)
            focus = results.value(result, SH.focusNode)
            severity = results.value(result, SH.resultSeverity)
            path, line, col = _locate(maps, focus, source.graph)
            if severity == SH.Violation:
                report.errors.append(DataError(problem, path, line, col))
            else:
                where = f"{path}:{line}:{col}: " if line else ""
                report.warnings.append(f"{where}{problem} ({shorten(str(severity))})")
    return report


def _prefixes(maps: SourceMaps, graph: NamedNode) -> dict[str, str]:
    found: dict[str, str] = {}
    for source_map in maps.by_graph.get(graph, []):
        found.update(source_map.prefixes)
    return found


def _describe(results: rdflib.Graph, shapes: rdflib.Graph, result,
              prefixes: dict[str, str]) -> str:
    focus = results.value(result, SH.focusNode)
    path = results.value(result, SH.resultPath)
    shape = results.value(result, SH.sourceShape)
    # A property shape is usually a blank node: name the node shape that holds it.
    owner = shapes.value(predicate=SH.property, object=shape)
    if not isinstance(shape, rdflib.URIRef) and owner is not None:
        shape = owner
    component = results.value(result, SH.sourceConstraintComponent)
    value = results.value(result, SH.value)
    messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
    text = f"{_name(focus, prefixes)} violates {_name(shape, prefixes)}"
    if path is not None:
        text += f" on {_name(path, prefixes)}"
    text += f" [{_name(component, prefixes)}]"
    if messages:
        text += ": " + "; ".join(messages)
    if value is not None and value != focus:
        text += f" (value: {_name(value, prefixes)})"
    return text


def _name(node, prefixes: dict[str, str]) -> str:
    if isinstance(node, rdflib.URIRef):
        return shorten(str(node), prefixes)
    if isinstance(node, rdflib.Literal):
        return repr(str(node))
    return "a blank node" if node is not None else "?"


def _locate(maps: SourceMaps, focus, graph: NamedNode):
    if isinstance(focus, rdflib.URIRef):
        path, line, col = maps.locate(str(focus), graph)
        if line is None:
            ontology_place = maps.locate(str(focus), ONTOLOGY_GRAPH)
            if ontology_place[1] is not None:
                return ontology_place
        return path, line, col
    return maps.locate("", graph)[0], None, None


def _sort_key(results: rdflib.Graph, result) -> tuple[str, str, str]:
    return tuple(str(results.value(result, p) or "")
                 for p in (SH.focusNode, SH.resultPath, SH.sourceConstraintComponent))
