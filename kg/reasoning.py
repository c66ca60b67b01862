"""OWL 2 reasoning with HermiT (through owlready2): consistency and materialised entailments."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import owlready2
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, Variable, serialize

from .consistency import explain_inconsistency, value_clashes
from .corpus import Corpus
from .errors import ValidationError
from .namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, OWL, RDF, RDFS, SKOS, SOURCE_GRAPH_BASE
from .parsing import SourceMaps
from .rules import materialise

RDF_TYPE = NamedNode(RDF + "type")
_TRIVIAL_TYPES = {OWL + "Thing", OWL + "NamedIndividual"}

# The OWL 2 datatype map (OWL 2 Structural Specification, section 4): HermiT rejects
# literals of any other datatype (xsd:date, xsd:gYear, xsd:duration, ...).
_XSD = "http://www.w3.org/2001/XMLSchema#"
OWL2_DATATYPES = frozenset(
    [OWL + "real", OWL + "rational", RDF + "PlainLiteral", RDF + "XMLLiteral", RDF + "langString",
     RDFS + "Literal"]
    + [_XSD + name for name in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger "
        "long int short byte unsignedLong unsignedInt unsignedShort unsignedByte double float "
        "string normalizedString token language Name NCName NMTOKEN boolean hexBinary "
        "base64Binary anyURI dateTime dateTimeStamp").split()])

# Labels and documentation cannot change an entailment; leaving them out keeps HermiT's
# input proportional to what it must see.
_NOISE = frozenset([RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy",
                    OWL + "versionInfo", OWL + "imports", SKOS + "prefLabel", SKOS + "altLabel",
                    SKOS + "definition", SKOS + "scopeNote", SKOS + "example",
                    SKOS + "editorialNote", SKOS + "note"])

_ANNOTATION_PROPERTIES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?property ?ontology WHERE { GRAPH ?ontology { ?property a owl:AnnotationProperty } }
ORDER BY ?property
"""

_INSTANCE_SUBJECTS = """
SELECT DISTINCT ?subject ?sourceGraphs WHERE {
  GRAPH ?graph { ?subject ?p ?o }
  FILTER (isIRI(?subject) && STRSTARTS(STR(?graph), ?sourceGraphs))
} ORDER BY ?subject
"""


@dataclass
class ReasoningReport:
    reasoner: str
    inferred: int = 0
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)


def reason(store: Store, corpus: Corpus, maps: SourceMaps, java: str | None,
           rules: bool = False) -> ReasoningReport:
    """Check consistency and write the entailments no source asserts into graph/inferred.

    HermiT over the whole ABox is the reference; `rules` materialises the same entailments
    with SPARQL rules compiled from the ontology (kg/rules.py), for data too large for a
    tableau reasoner. The rule path needs no Java.
    """
    if rules:
        return _reason_with_rules(store, corpus, maps)
    report = ReasoningReport(reasoner=f"HermiT (owlready2 {owlready2.VERSION})")
    if not java or not os.path.isfile(java) or not os.access(java, os.X_OK):
        where = f"at {java}" if java else "on PATH (set PARLEY_JAVA)"
        return _skip(report, f"no Java runtime {where}")
    graphs = [ONTOLOGY_GRAPH] + [source.graph for source in corpus.sources]
    with tempfile.TemporaryDirectory(prefix="parley-reasoning-") as tmp:
        path = os.path.join(tmp, "input.nt")
        serialize(_reasoner_input(store, graphs), output=path, format=RdfFormat.N_TRIPLES)
        world = owlready2.World()
        try:
            with open(path, "rb") as handle:
                world.get_ontology("https://w3id.org/parley/reasoning-input").load(
                    fileobj=handle, format="ntriples")
            # owlready2 reads the Java executable from this module global at call time.
            owlready2.JAVA_EXE = java
            owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0,
                                           ignore_unsupported_datatypes=True)
        except owlready2.OwlReadyInconsistentOntologyError:
            raise ValidationError("reasoning", explain_inconsistency(store, corpus, maps)) from None
        except owlready2.OwlReadyJavaError as error:
            first = next((line for line in str(error).splitlines()[1:] if line.strip()), "")
            return _skip(report, f"HermiT could not run: {first.strip()}")
        except OSError as error:
            return _skip(report, f"Java could not be started: {error}")
        report.inferred = _materialise(store, world)
        world.close()
    return report


def _reason_with_rules(store: Store, corpus: Corpus, maps: SourceMaps) -> ReasoningReport:
    report = ReasoningReport(reasoner="OWL rules over the store (kg/rules.py)")
    inferred, clashes = materialise(store, OWL2_DATATYPES)
    problems = []
    if clashes:
        # The explainer names the statements behind each clash; it only runs on failure.
        problems = explain_inconsistency(store, corpus, maps)
    reported = {p.format() for p in problems}
    problems += [p for p in value_clashes(store, maps) if p.format() not in reported]
    if problems:
        raise ValidationError("reasoning", problems)
    report.inferred = inferred
    return report


def _skip(report: ReasoningReport, why: str) -> ReasoningReport:
    report.skipped = why
    report.warnings.append(f"reasoning skipped: {why}; consistency was not checked and "
                           f"the inferred graph is empty")
    return report


def _reasoner_input(store: Store, graphs: list[NamedNode]) -> Iterator:
    noise = set(_NOISE)
    noise.update(row["property"].value for row in store.query(
        _ANNOTATION_PROPERTIES, substitutions={Variable("ontology"): ONTOLOGY_GRAPH}))
    for graph in graphs:
        for quad in store.quads_for_pattern(None, None, None, graph):
            if quad.predicate.value in noise:
                continue
            if isinstance(quad.object, Literal) and quad.object.datatype.value not in OWL2_DATATYPES:
                continue
            yield quad.triple


def _materialise(store: Store, world: owlready2.World) -> int:
    """Entailed types and object-property values of the instance data, minus the asserted."""
    subjects = {row["subject"].value for row in store.query(
        _INSTANCE_SUBJECTS, substitutions={Variable("sourceGraphs"): Literal(SOURCE_GRAPH_BASE)})}
    found: set[tuple[str, str, str]] = set()
    for iri in subjects:
        individual = world[iri]
        if not isinstance(individual, owlready2.Thing):
            continue
        for cls in individual.INDIRECT_is_a:
            if isinstance(cls, owlready2.ThingClass) and cls.iri not in _TRIVIAL_TYPES:
                found.add((iri, RDF_TYPE.value, cls.iri))
    # get_relations() yields asserted and inferred pairs, inverse and symmetric ones
    # included (owlready2 drops a HermiT value whose inverse is asserted; this restores it).
    for prop in world.object_properties():
        for subject, value in prop.get_relations():
            subject_iri, value_iri = getattr(subject, "iri", None), getattr(value, "iri", None)
            if subject_iri in subjects and value_iri:
                found.add((subject_iri, prop.iri, value_iri))
    quads = []
    for s, p, o in sorted(found):
        triple = (NamedNode(s), NamedNode(p), NamedNode(o))
        if next(iter(store.quads_for_pattern(*triple, None)), None) is None:
            quads.append(Quad(*triple, INFERRED_GRAPH))
    store.bulk_extend(quads)
    return len(quads)
