"""SHACL validation of each source graph (with the ontology, under RDFS), reported at file:line:col."""
from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from pyoxigraph import BlankNode as OxBlankNode
from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode, RdfFormat, Store
from pyshacl import validate
from rdflib.namespace import SH

from . import constraints
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


def check_shapes(store: Store, corpus: Corpus, maps: SourceMaps,
                 compiled: bool = True) -> ShapeReport:
    """Validate every source graph (with the ontology, under RDFS) against the shapes.

    `compiled` runs the shapes as SPARQL over the store (kg/constraints.py), which scales
    with the store; otherwise pySHACL validates source by source, the reference.
    """
    if compiled:
        violations = constraints.validate(store)
    else:
        violations = _pyshacl_violations(store, corpus)
    return report_violations(violations, maps, [s.graph for s in corpus.sources])


def report_violations(violations: list[constraints.Violation], maps: SourceMaps,
                      graphs: list[NamedNode]) -> ShapeReport:
    """Violations as errors and warnings at `file:line:col`, once per text per graph."""
    report = ShapeReport()
    by_graph: dict[NamedNode, list[constraints.Violation]] = {}
    for violation in violations:
        by_graph.setdefault(violation.graph, []).append(violation)
    order = [ONTOLOGY_GRAPH] + [g for g in graphs if g != ONTOLOGY_GRAPH]
    for graph in order:
        found = by_graph.get(graph)
        if not found:
            continue
        prefixes = {**_prefixes(maps, SHAPES_GRAPH), **_last_prefixes(maps, graph)}
        seen = set()
        for violation in sorted(found, key=_sort_key):
            problem = _describe(violation, prefixes)
            if problem in seen:
                continue
            seen.add(problem)
            path, line, col = _locate(maps, violation.focus, graph)
            if violation.severity == constraints.VIOLATION:
                report.errors.append(DataError(problem, path, line, col))
            else:
                where = f"{path}:{line}:{col}: " if line else ""
                report.warnings.append(f"{where}{problem} ({shorten(violation.severity)})")
    return report


def _pyshacl_violations(store: Store, corpus: Corpus) -> list[constraints.Violation]:
    """pySHACL's top-level results, source by source (nested sh:detail results repeat them)."""
    ontology = graph_from_store(store, ONTOLOGY_GRAPH)
    shapes = graph_from_store(store, SHAPES_GRAPH)
    found = []
    for source in corpus.sources:
        data = graph_from_store(store, source.graph)
        _, results, _ = validate(data, shacl_graph=shapes, ont_graph=ontology,
                                 inference="rdfs", abort_on_first=False,
                                 allow_warnings=True, advanced=True)
        for result in set(results.objects(None, SH.result)):
            shape = results.value(result, SH.sourceShape)
            # A property shape is usually a blank node: name the node shape that holds it.
            owner = shapes.value(predicate=SH.property, object=shape)
            if not isinstance(shape, rdflib.URIRef) and owner is not None:
                shape = owner
            severity = results.value(result, SH.resultSeverity)
            found.append(constraints.Violation(
                graph=source.graph, focus=_term(results.value(result, SH.focusNode)),
                shape=_term(shape), path=_term(results.value(result, SH.resultPath)),
                component=str(results.value(result, SH.sourceConstraintComponent)),
                messages=tuple(sorted(str(m) for m in results.objects(result, SH.resultMessage))),
                value=_term(results.value(result, SH.value)), severity=str(severity)))
    return found


def _term(node):
    """An rdflib term as the pyoxigraph term the compiled validator reports."""
    if node is None:
        return None
    if isinstance(node, rdflib.URIRef):
        return NamedNode(str(node))
    if isinstance(node, rdflib.Literal):
        if node.language:
            return OxLiteral(str(node), language=node.language)
        return OxLiteral(str(node), datatype=NamedNode(str(node.datatype))
                         if node.datatype else None)
    return OxBlankNode(str(node))


def _last_prefixes(maps: SourceMaps, graph: NamedNode) -> dict[str, str]:
    found = maps.by_graph.get(graph)
    return found[-1].prefixes if found else {}


def _prefixes(maps: SourceMaps, graph: NamedNode) -> dict[str, str]:
    found: dict[str, str] = {}
    for source_map in maps.by_graph.get(graph, []):
        found.update(source_map.prefixes)
    return found


def _describe(violation: constraints.Violation, prefixes: dict[str, str]) -> str:
    text = f"{_name(violation.focus, prefixes)} violates {_name(violation.shape, prefixes)}"
    if violation.path is not None:
        text += f" on {_name(violation.path, prefixes)}"
    text += f" [{shorten(violation.component, prefixes)}]"
    if violation.messages:
        text += ": " + "; ".join(violation.messages)
    if violation.value is not None and violation.value != violation.focus:
        text += f" (value: {_name(violation.value, prefixes)})"
    return text


def _name(node, prefixes: dict[str, str]) -> str:
    if isinstance(node, NamedNode):
        return shorten(node.value, prefixes)
    if isinstance(node, OxLiteral):
        return repr(node.value)
    return "a blank node" if node is not None else "?"


def _locate(maps: SourceMaps, focus, graph: NamedNode):
    if isinstance(focus, NamedNode):
        path, line, col = maps.locate(focus.value, graph)
        if line is None:
            ontology_place = maps.locate(focus.value, ONTOLOGY_GRAPH)
            if ontology_place[1] is not None:
                return ontology_place
        return path, line, col
    return maps.locate("", graph)[0], None, None


def _sort_key(violation: constraints.Violation) -> tuple[str, str, str]:
    return tuple(_text(t) for t in (violation.focus, violation.path, violation.component))


def _text(term) -> str:
    """A term as rdflib's str() gives it, the order pySHACL's results were reported in."""
    if term is None:
        return ""
    return term if isinstance(term, str) else getattr(term, "value", str(term))
