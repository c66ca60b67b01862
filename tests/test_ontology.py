"""The ontology and its shapes: parsing, documentation, schemes, SHACL rules, HermiT and OWL 2 DL."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import owlready2
import pytest
import rdflib
from pyoxigraph import RdfFormat, Store
from pyshacl import validate
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Literal, Namespace, URIRef
from rdflib.namespace import SH

from parley.kg import corpus as corpus_module
from parley.kg.link_review import ACCEPTED, METHOD_CURATOR, REJECTED
from parley.kg.linking import LinkSettings, run_link
from parley.kg.namespaces import LINKS_GRAPH
from parley.kg.settings import packaged_corpus, packaged_ontology
from parley.kg.wikidata import METHOD_OFFLINE, METHOD_ONLINE

PARLEY = Namespace("https://w3id.org/parley/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("http://schema.org/")
# A plain namespace: rdflib's closed XSD warns on every unknown attribute pytest probes.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ONTOLOGY_IRI = URIRef("https://w3id.org/parley/ontology")
SHAPES_IRI = URIRef("https://w3id.org/parley/shapes")
VERSION = "0.2.0"

ONTOLOGY_DIR = packaged_ontology()
ONTOLOGY_FILE = ONTOLOGY_DIR / "parley.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
CORPUS = packaged_corpus()
DECISIONS_FILE = CORPUS / "links" / "decisions.ttl"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "ontology.md"

# What a term can be declared as: the kinds kg/vocabulary.py accepts, and schemes.
DECLARATION_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                     OWL.AnnotationProperty, RDF.Property, OWL.NamedIndividual,
                     SKOS.ConceptScheme, SKOS.Concept)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_FILE, format="turtle")


def declared_terms(ontology: rdflib.Graph) -> set[URIRef]:
    return {s for kind in DECLARATION_KINDS for s in ontology.subjects(RDF.type, kind)
            if isinstance(s, URIRef)}


def check_shapes(data: rdflib.Graph, ontology: rdflib.Graph, shapes: rdflib.Graph):
    """pySHACL exactly as the build calls it (kg/shapes.py)."""
    conforms, results, _ = validate(data, shacl_graph=shapes, ont_graph=ontology,
                                    inference="rdfs", abort_on_first=False,
                                    allow_warnings=True, advanced=True)
    return conforms, results


class Result(NamedTuple):
    focus: rdflib.term.Node
    path: rdflib.term.Node | None
    severity: URIRef
    message: str


def results_of(report: rdflib.Graph) -> list[Result]:
    return [Result(report.value(r, SH.focusNode), report.value(r, SH.resultPath),
                   report.value(r, SH.resultSeverity),
                   " ".join(str(m) for m in report.objects(r, SH.resultMessage)))
            for r in report.objects(None, SH.result)]


# ---- parsing and version -----------------------------------------------------------

@pytest.mark.parametrize("path", [ONTOLOGY_FILE, SHAPES_FILE], ids=lambda p: p.name)
def test_parses_alike_in_pyoxigraph_and_rdflib(path):
    store = Store()
    store.load(path=path, format=RdfFormat.TURTLE)
    graph = rdflib.Graph().parse(path, format="turtle")
    assert len(store) == len(graph) > 500


def test_version_iri_and_info_agree_across_ontology_shapes_and_docs(ontology, shapes):
    assert list(ontology.objects(ONTOLOGY_IRI, OWL.versionIRI)) == [
        URIRef(f"{ONTOLOGY_IRI}/{VERSION}")]
    assert list(ontology.objects(ONTOLOGY_IRI, OWL.versionInfo)) == [Literal(VERSION)]
    assert list(ontology.objects(ONTOLOGY_IRI, OWL.priorVersion)) == [
        URIRef(f"{ONTOLOGY_IRI}/0.1.0")]
    assert list(shapes.objects(SHAPES_IRI, OWL.versionInfo)) == [Literal(VERSION)]
    assert f"version {VERSION}" in DOCS.read_text(encoding="utf-8")


# ---- documentation of every term ----------------------------------------------------

def test_every_term_has_one_english_label_and_one_english_definition(ontology):
    terms = declared_terms(ontology)
    assert len(terms) > 200
    problems = []
    for term in sorted(terms):
        labels = list(ontology.objects(term, RDFS.label))
        definitions = [d for d in ontology.objects(term, SKOS.definition)
                       if isinstance(d, Literal) and d.language == "en"]
        if len(labels) != 1 or labels[0].language != "en":
            problems.append(f"{term}: rdfs:label {labels}")
        if len(definitions) != 1:
            problems.append(f"{term}: {len(definitions)} English skos:definition")
    assert problems == []


# The linker's vocabulary (kg/linking.py, kg/link_review.py, docs/linking.md) and what each
# term must be declared as. The rdf: reification properties are rdf:Property on purpose:
# declaring reserved vocabulary as OWL properties leaves OWL 2 DL (see the DL tests).
LINKING_TERMS = {
    PARLEY.Link: OWL.Class, PARLEY.LinkDecision: OWL.Class,
    PARLEY.LinkMethod: OWL.Class, PARLEY.Verdict: OWL.Class,
    PARLEY.linkMethod: OWL.ObjectProperty, PARLEY.decision: OWL.ObjectProperty,
    PARLEY.score: OWL.DatatypeProperty, PARLEY.matchedLabel: OWL.DatatypeProperty,
    RDF.subject: RDF.Property, RDF.predicate: RDF.Property, RDF.object: RDF.Property,
    PROV.generatedAtTime: OWL.DatatypeProperty, PROV.wasAttributedTo: OWL.ObjectProperty,
    PROV.Person: OWL.Class, PROV.Entity: OWL.Class,
    SKOS.exactMatch: OWL.ObjectProperty, SKOS.closeMatch: OWL.ObjectProperty,
    SKOS.altLabel: OWL.AnnotationProperty, SCHEMA.description: OWL.AnnotationProperty,
    RDFS.label: OWL.AnnotationProperty, RDFS.comment: OWL.AnnotationProperty,
}


@pytest.mark.parametrize("term,kind", sorted(LINKING_TERMS.items()),
                         ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_linking_term_is_declared(ontology, term, kind):
    kinds = set(ontology.objects(term, RDF.type))
    assert kinds & {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                    OWL.AnnotationProperty, RDF.Property} == {kind}


def test_link_and_decision_are_provenance_entities(ontology):
    for cls in (PARLEY.Link, PARLEY.LinkDecision):
        assert (cls, RDFS.subClassOf, PROV.Entity) in ontology
    assert (PROV.generatedAtTime, RDFS.range, XSD.dateTime) in ontology


@pytest.fixture(scope="module")
def linked() -> rdflib.Graph:
    """The links graph the real linker writes for the article, offline, with the corpus's
    decisions. No reasoning first: the curators assert every type the linker reads."""
    corpus = corpus_module.discover(CORPUS, ONTOLOGY_DIR)
    store = Store()
    for source in corpus.sources:
        for path in (source.metadata, source.curated):
            store.load(path=path, format=RdfFormat.TURTLE, to_graph=source.graph)
    report = run_link(store, LinkSettings(extract=CORPUS / "wikidata" / "wikidata-extract.ttl",
                                          decisions=DECISIONS_FILE),
                      when=datetime(2024, 1, 25, 12, tzinfo=timezone.utc))
    methods = {link.method for link in report.result.links}
    assert {METHOD_OFFLINE, METHOD_CURATOR} <= methods
    return rdflib.Graph().parse(
        data=store.dump(format=RdfFormat.N_TRIPLES, from_graph=LINKS_GRAPH), format="nt")


@pytest.fixture(scope="module")
def decisions() -> rdflib.Graph:
    return rdflib.Graph().parse(DECISIONS_FILE, format="turtle")


@pytest.mark.parametrize("which", ["linked", "decisions"])
def test_links_and_decisions_use_only_declared_terms(request, ontology, which):
    graph = request.getfixturevalue(which)
    declared = declared_terms(ontology)
    used = {p for p in graph.predicates() if p != RDF.type}
    used |= set(graph.objects(None, RDF.type))
    used |= {o for o in graph.objects() if isinstance(o, URIRef) and o in PARLEY}
    assert len(graph) > 0 and PARLEY.score in used
    assert sorted(used - declared) == []


# ---- controlled values ------------------------------------------------------------------

# docs/design.md (and docs/linking.md for the last two): each scheme, its value class and
# its values.
SCHEMES = {
    PARLEY.StanceScheme: (PARLEY.Stance, {"Supports", "Opposes", "Rejects", "RulesOut",
                                          "WouldConsider", "Demands", "HopesFor", "Fears"}),
    PARLEY.TermTypeScheme: (PARLEY.TermType, {
        "HostageRelease", "PrisonerRelease", "Ceasefire", "LeadersExile", "GazaGovernance",
        "Statehood", "CessationOfHostilities"}),
    PARLEY.CeasefireKindScheme: (PARLEY.CeasefireKind, {
        "TemporaryCeasefire", "PermanentCeasefire", "ComprehensiveCeasefire",
        "ExtendedCeasefire", "LastingCeasefire"}),
    PARLEY.ChannelScheme: (PARLEY.Channel, {"TextMessage", "Briefing", "PublicStatement",
                                            "PollResult", "PressLeak", "Interview"}),
    PARLEY.QualifierScheme: (PARLEY.Qualifier, {"Exactly", "MoreThan", "About"}),
    PARLEY.ProgressScheme: (PARLEY.Progress, {"Stalled", "Intermittent", "NewOpening",
                                              "LittleProgress", "Obstacle"}),
    PARLEY.LinkMethodScheme: (PARLEY.LinkMethod, {"OfflineExtract", "OnlineQuery",
                                                  "CuratorDecision"}),
    PARLEY.VerdictScheme: (PARLEY.Verdict, {"Accepted", "Rejected"}),
}


@pytest.mark.parametrize("scheme", sorted(SCHEMES), ids=lambda s: s.fragment)
def test_scheme_holds_exactly_its_values(ontology, scheme):
    value_class, names = SCHEMES[scheme]
    assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology
    assert (value_class, RDFS.subClassOf, SKOS.Concept) in ontology
    members = set(ontology.subjects(SKOS.inScheme, scheme))
    assert members == {PARLEY[name] for name in names}
    assert set(ontology.subjects(RDF.type, value_class)) == members
    for value in members:
        assert (value, RDF.type, SKOS.Concept) in ontology
        assert (value, SKOS.topConceptOf, scheme) in ontology


def test_every_controlled_value_is_in_exactly_one_scheme(ontology):
    concepts = set(ontology.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) == sum(len(names) for _, names in SCHEMES.values())
    for concept in concepts:
        schemes = set(ontology.objects(concept, SKOS.inScheme))
        assert len(schemes) == 1, concept
        assert set(ontology.objects(concept, SKOS.topConceptOf)) == schemes, concept


def test_the_linkers_method_and_verdict_iris_are_the_ontologys(ontology):
    for iri, scheme in ((METHOD_OFFLINE, PARLEY.LinkMethodScheme),
                        (METHOD_ONLINE, PARLEY.LinkMethodScheme),
                        (METHOD_CURATOR, PARLEY.LinkMethodScheme),
                        (ACCEPTED, PARLEY.VerdictScheme), (REJECTED, PARLEY.VerdictScheme)):
        assert (URIRef(iri), SKOS.inScheme, scheme) in ontology


def test_every_stance_has_polarity_plus_or_minus_one(ontology):
    stances = set(ontology.subjects(RDF.type, PARLEY.Stance))
    assert len(stances) == 8
    polarities = {}
    for stance in stances:
        values = list(ontology.objects(stance, PARLEY.polarity))
        assert len(values) == 1 and values[0].datatype == XSD.integer, stance
        polarities[stance] = values[0].toPython()
    assert set(polarities.values()) == {1, -1}
    assert polarities[PARLEY.Supports] == 1 and polarities[PARLEY.RulesOut] == -1


# ---- the shapes refer to the ontology ---------------------------------------------------

def test_shapes_name_only_declared_terms(ontology, shapes):
    named = set()
    for predicate in (SH.path, SH.targetClass, SH.targetSubjectsOf, SH["class"], SH.hasValue):
        named |= {o for o in shapes.objects(None, predicate) if isinstance(o, URIRef)}
    for listed in shapes.objects(None, SH["in"]):
        named |= {o for o in rdflib.collection.Collection(shapes, listed)
                  if isinstance(o, URIRef)}
    assert PARLEY.linkMethod in named and RDF.predicate in named
    assert sorted(named - declared_terms(ontology)) == []


# ---- SHACL: valid data, and each broken variant failing with its curator message ----------

# A minimal curated file. The prefixes are filled per copy (see `shacl_batch`), so that one
# pySHACL run can check every broken variant side by side without the copies touching.
CURATED = """
src:hostage-talks-2024-01 a parley:SourceDocument ;
    dcterms:identifier "hostage-talks-2024-01" ; dcterms:language "en" ;
    dcterms:date "2024-01-21"^^xsd:date ; parley:dateApproximate true ;
    parley:textFile "hostage-talks-2024-01.txt" ; parley:characters 5034 .
cur:hostage-talks-2024-01 a parley:Curation .
ev:netanyahu-sunday a parley:Evidence ;
    prov:wasQuotedFrom src:hostage-talks-2024-01 ;
    oa:exact "Benjamin Netanyahu" ; oa:start 2588 ; oa:end 2606 ;
    prov:wasGeneratedBy cur:hostage-talks-2024-01 .
pid:benjamin-netanyahu a parley:Person ; rdfs:label "Benjamin Netanyahu"@en ;
    parley:evidence ev:netanyahu-sunday .
pid:issues a skos:ConceptScheme .
pid:issue-ceasefire-permanence a parley:Issue ; skos:inScheme pid:issues ;
    parley:prominence 1 ; rdfs:label "cease-fire permanence"@en ;
    parley:evidence ev:netanyahu-sunday .
pid:netanyahu-rules-out a parley:Position ; parley:holder pid:benjamin-netanyahu ;
    parley:stance parley:RulesOut ; parley:onIssue pid:issue-ceasefire-permanence ;
    parley:statedOn "2024-01-21"^^xsd:date ; parley:dateApproximate true ;
    parley:evidence ev:netanyahu-sunday .
pid:truce a parley:Truce ; rdfs:label "November 2023 truce"@en ;
    parley:date "2023-11"^^xsd:gYearMonth ; parley:duration "P7D"^^xsd:duration ;
    parley:hostagesReleased [ a parley:Quantity ; parley:value 100 ;
                              parley:qualifier parley:MoreThan ;
                              parley:evidence ev:netanyahu-sunday ] ;
    parley:evidence ev:netanyahu-sunday .
pid:framework a parley:Proposal ; rdfs:label "phased framework"@en ;
    parley:proposedBy pid:benjamin-netanyahu ; parley:hasTerm pid:term ;
    parley:evidence ev:netanyahu-sunday .
pid:term a parley:Term ; parley:termType parley:Ceasefire ;
    parley:ceasefireKind parley:LastingCeasefire ; parley:durationFrom time:unitWeek ;
    parley:durationTo time:unitMonth ; parley:phased true ;
    parley:evidence ev:netanyahu-sunday .
"""

# Two links as the linker writes them (docs/linking.md) and one curator decision as
# `kg link --accept` writes it.
LINKS = """
pid:hamas skos:exactMatch wd:Q38799 .
link:hamas a parley:Link ;
    rdf:subject pid:hamas ; rdf:predicate skos:exactMatch ; rdf:object wd:Q38799 ;
    parley:linkMethod parley:OfflineExtract ; parley:score 1.000 ;
    parley:matchedLabel "Hamas"@en ;
    prov:generatedAtTime "2024-01-25T12:00:00Z"^^xsd:dateTime .
pid:biden-administration skos:closeMatch wd:Q35525 .
link:biden-administration a parley:Link ;
    rdf:subject pid:biden-administration ; rdf:predicate skos:closeMatch ;
    rdf:object wd:Q35525 ; parley:linkMethod parley:OnlineQuery ; parley:score 0.925 ;
    parley:matchedLabel "White House"@en ;
    prov:generatedAtTime "2024-01-25T12:00:00Z"^^xsd:dateTime .
decision:november-truce a parley:LinkDecision ;
    rdf:subject pid:november-truce ; rdf:predicate skos:exactMatch ;
    rdf:object wd:Q123509933 ; parley:decision parley:Accepted ; parley:score 0.577 ;
    parley:matchedLabel "2023 Gaza war ceasefire"@en ;
    prov:wasAttributedTo [ a prov:Person ; rdfs:label "Jane Doe"@en ] ;
    rdfs:comment "data/wikidata/EVIDENCE.md row 25 confirms Q123509933."@en ;
    prov:generatedAtTime "2026-11-26T14:32:07+00:00"^^xsd:dateTime .
"""

FIXED_PREFIXES = {
    "parley": str(PARLEY), "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD),
    "skos": str(SKOS), "prov": str(PROV), "owl": str(OWL),
    "org": "http://www.w3.org/ns/org#", "oa": "http://www.w3.org/ns/oa#",
    "time": "http://www.w3.org/2006/time#", "dcterms": "http://purl.org/dc/terms/",
    "wd": "http://www.wikidata.org/entity/",
}


def copy_prefixes(copy: str) -> dict[str, str]:
    """The instance namespaces of one copy of a base file, inside Parley's real ones."""
    return {**FIXED_PREFIXES,
            "pid": f"https://w3id.org/parley/id/{copy}/",
            "src": f"https://w3id.org/parley/source/{copy}/",
            "ev": f"https://w3id.org/parley/evidence/{copy}/",
            "cur": f"https://w3id.org/parley/curation/{copy}/",
            "link": f"https://w3id.org/parley/link/{copy}/",
            "decision": f"https://w3id.org/parley/link-decision/{copy}/"}


def make_copy(base: str, copy: str, update: str = "") -> rdflib.Graph:
    prefixes = copy_prefixes(copy)
    graph = rdflib.Graph()
    graph.parse(data="".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes.items()) + base,
                format="turtle")
    if update:
        graph.update("".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + update)
    return graph


class Case(NamedTuple):
    name: str
    base: str
    update: str
    message: str
    severity: URIRef = SH.Violation


def curated(name, update, message):
    return Case(name, CURATED, update, message)


def links(name, update, message, severity=SH.Violation):
    return Case(name, LINKS, update, message, severity)


_SCORE = "DELETE WHERE { link:hamas parley:score ?x } ; "
_DECISION_SCORE = "DELETE WHERE { decision:november-truce parley:score ?x } ; "

CASES = [
    curated("position without holder",
            "DELETE WHERE { pid:netanyahu-rules-out parley:holder ?x }", "who takes this stance?"),
    curated("position with two holders",
            "INSERT DATA { pid:netanyahu-rules-out parley:holder pid:truce-maker . "
            "pid:truce-maker a parley:Person ; rdfs:label 'X'@en ; "
            "parley:evidence ev:netanyahu-sunday }", "who takes this stance?"),
    curated("position without stance",
            "DELETE WHERE { pid:netanyahu-rules-out parley:stance ?x }",
            "how does the holder stand?"),
    curated("stance not a controlled value",
            "DELETE WHERE { pid:netanyahu-rules-out parley:stance ?x } ; "
            "INSERT DATA { pid:netanyahu-rules-out parley:stance pid:opposes }",
            "how does the holder stand?"),
    curated("position about nothing",
            "DELETE WHERE { pid:netanyahu-rules-out parley:onIssue ?x }",
            "what is the stance about?"),
    curated("actor without evidence",
            "DELETE WHERE { pid:benjamin-netanyahu parley:evidence ?x }",
            "which words of the source say this?"),
    curated("evidence value not evidence-like",
            "INSERT DATA { pid:benjamin-netanyahu parley:evidence pid:truce }",
            "exactly one oa:exact"),
    curated("evidence empty exact",
            "DELETE WHERE { ev:netanyahu-sunday oa:exact ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday oa:exact '' }", "exactly one oa:exact"),
    curated("evidence lang-tagged exact",
            "DELETE WHERE { ev:netanyahu-sunday oa:exact ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday oa:exact 'Benjamin Netanyahu'@en }",
            "exactly one oa:exact"),
    curated("evidence negative start",
            "DELETE WHERE { ev:netanyahu-sunday oa:start ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday oa:start -1 }", "oa:start"),
    curated("evidence start after end",
            "DELETE WHERE { ev:netanyahu-sunday oa:start ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday oa:start 3000 }", "smaller than its oa:end"),
    curated("evidence string end",
            "DELETE WHERE { ev:netanyahu-sunday oa:end ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday oa:end '2606' }", "oa:end"),
    curated("evidence without source",
            "DELETE WHERE { ev:netanyahu-sunday prov:wasQuotedFrom ?x }", "prov:wasQuotedFrom"),
    curated("evidence quoted from a non-source",
            "DELETE WHERE { ev:netanyahu-sunday prov:wasQuotedFrom ?x } ; "
            "INSERT DATA { ev:netanyahu-sunday prov:wasQuotedFrom pid:somewhere }",
            "prov:wasQuotedFrom"),
    curated("evidence without curation",
            "DELETE WHERE { ev:netanyahu-sunday prov:wasGeneratedBy ?x }",
            "prov:wasGeneratedBy"),
    curated("label without language",
            "DELETE WHERE { pid:benjamin-netanyahu rdfs:label ?x } ; "
            "INSERT DATA { pid:benjamin-netanyahu rdfs:label 'Benjamin Netanyahu' }",
            "English name tagged @en"),
    curated("label in Hebrew",
            "INSERT DATA { pid:benjamin-netanyahu rdfs:label 'בנימין נתניהו'@he }",
            "English name tagged @en"),
    curated("two English labels",
            "INSERT DATA { pid:benjamin-netanyahu rdfs:label 'Bibi'@en }",
            "English name tagged @en"),
    curated("actor without label",
            "DELETE WHERE { pid:benjamin-netanyahu rdfs:label ?x }", "what is this called"),
    curated("date as plain string",
            "DELETE WHERE { pid:truce parley:date ?x } ; "
            "INSERT DATA { pid:truce parley:date '2023-11' }", "parley:date takes one date"),
    curated("date as dateTime",
            "DELETE WHERE { pid:truce parley:date ?x } ; "
            "INSERT DATA { pid:truce parley:date '2023-11-24T07:00:00'^^xsd:dateTime }",
            "parley:date takes one date"),
    curated("ill-formed gYearMonth",
            "DELETE WHERE { pid:truce parley:date ?x } ; "
            "INSERT DATA { pid:truce parley:date '2023-13'^^xsd:gYearMonth }",
            "parley:date takes one date"),
    curated("ill-formed gYear",
            "DELETE WHERE { pid:truce parley:date ?x } ; "
            "INSERT DATA { pid:truce parley:date '07'^^xsd:gYear }",
            "parley:date takes one date"),
    curated("impossible xsd:date",
            "DELETE WHERE { pid:truce parley:date ?x } ; "
            "INSERT DATA { pid:truce parley:date '2024-02-30'^^xsd:date }",
            "parley:date takes one date"),
    curated("two statedOn dates",
            "INSERT DATA { pid:netanyahu-rules-out parley:statedOn '2024'^^xsd:gYear }",
            "when was the position stated?"),
    curated("duration as string",
            "DELETE WHERE { pid:truce parley:duration ?x } ; "
            "INSERT DATA { pid:truce parley:duration 'a week' }", "parley:duration"),
    curated("quantity without evidence",
            "DELETE { ?q parley:evidence ?e } WHERE { ?q a parley:Quantity ; parley:evidence ?e }",
            "which words of the source say this?"),
    curated("quantity without qualifier",
            "DELETE WHERE { ?q parley:qualifier ?x }", "parley:qualifier"),
    curated("quantity decimal value",
            "DELETE WHERE { ?q parley:value ?x } ; "
            "INSERT { ?q parley:value 100.5 } WHERE { ?q a parley:Quantity }", "parley:value"),
    curated("proposal without term",
            "DELETE WHERE { pid:framework parley:hasTerm ?x }", "what does it provide for?"),
    curated("proposal without proposer",
            "DELETE WHERE { pid:framework parley:proposedBy ?x }", "who put it forward?"),
    curated("term without type",
            "DELETE WHERE { pid:term parley:termType ?x }", "what kind of provision is it?"),
    curated("term with two types",
            "INSERT DATA { pid:term parley:termType parley:HostageRelease }",
            "what kind of provision is it?"),
    curated("term with a stance as cease-fire kind",
            "DELETE WHERE { pid:term parley:ceasefireKind ?x } ; "
            "INSERT DATA { pid:term parley:ceasefireKind parley:Opposes }", "cease-fire kinds"),
    curated("term duration in days",
            "DELETE WHERE { pid:term parley:durationFrom ?x } ; "
            "INSERT DATA { pid:term parley:durationFrom time:unitDay }", "parley:durationFrom"),
    curated("role assignment without office",
            "INSERT DATA { pid:ra a parley:RoleAssignment ; org:member pid:benjamin-netanyahu ; "
            "parley:evidence ev:netanyahu-sunday }", "which office is held?"),
    curated("role assignment without organization",
            "INSERT DATA { pid:ra a parley:RoleAssignment ; org:member pid:benjamin-netanyahu ; "
            "org:role pid:pm ; parley:evidence ev:netanyahu-sunday . pid:pm a parley:Office ; "
            "rdfs:label 'Prime Minister of Israel'@en ; parley:evidence ev:netanyahu-sunday }",
            "in which organization"),
    curated("role assignment member is not an actor",
            "INSERT DATA { pid:ra a parley:RoleAssignment ; org:member pid:framework ; "
            "org:role pid:pm ; org:organization pid:israel ; "
            "parley:evidence ev:netanyahu-sunday . pid:pm a parley:Office ; "
            "rdfs:label 'PM'@en ; parley:evidence ev:netanyahu-sunday . "
            "pid:israel a parley:State ; rdfs:label 'Israel'@en ; "
            "parley:evidence ev:netanyahu-sunday }", "who holds the office?"),
    curated("claim without claimant",
            "INSERT DATA { pid:c a parley:Claim ; parley:asserts pid:netanyahu-rules-out ; "
            "parley:evidence ev:netanyahu-sunday }", "who does the source say said this?"),
    curated("claim asserting nothing",
            "INSERT DATA { pid:c a parley:Claim ; parley:claimant pid:benjamin-netanyahu ; "
            "parley:evidence ev:netanyahu-sunday }", "what was said?"),
    curated("claim quote without language",
            "INSERT DATA { pid:c a parley:Claim ; parley:claimant pid:benjamin-netanyahu ; "
            "parley:asserts pid:truce ; parley:directQuote 'We will not leave.' ; "
            "parley:evidence ev:netanyahu-sunday }", "parley:directQuote"),
    curated("issue outside any scheme",
            "DELETE WHERE { pid:issue-ceasefire-permanence skos:inScheme ?x }", "skos:inScheme"),
    curated("issue prominence 0",
            "DELETE WHERE { pid:issue-ceasefire-permanence parley:prominence ?x } ; "
            "INSERT DATA { pid:issue-ceasefire-permanence parley:prominence 0 }",
            "parley:prominence"),
    curated("assessment without progress",
            "INSERT DATA { pid:a a parley:Assessment ; parley:assessmentOf pid:talks ; "
            "parley:evidence ev:netanyahu-sunday . pid:talks a parley:Negotiation ; "
            "rdfs:label 'talks'@en ; parley:evidence ev:netanyahu-sunday }", "parley:progress"),
    curated("source without text file",
            "DELETE WHERE { src:hostage-talks-2024-01 parley:textFile ?x }", "parley:textFile"),
    curated("source with bad slug",
            "DELETE WHERE { src:hostage-talks-2024-01 dcterms:identifier ?x } ; "
            "INSERT DATA { src:hostage-talks-2024-01 dcterms:identifier 'Hostage Talks' }",
            "dcterms:identifier"),
    curated("headcount zero",
            "INSERT DATA { pid:two a parley:AnonymousSource ; "
            "rdfs:label 'two American officials'@en ; parley:headcount 0 ; "
            "parley:evidence ev:netanyahu-sunday }", "parley:headcount"),
    curated("flag as string",
            "DELETE WHERE { pid:netanyahu-rules-out parley:dateApproximate ?x } ; "
            "INSERT DATA { pid:netanyahu-rules-out parley:dateApproximate 'yes' }",
            "parley:dateApproximate"),
    links("link score above 1", _SCORE + "INSERT DATA { link:hamas parley:score 1.2 }",
          "how sure was the linker?"),
    links("link score as a string", _SCORE + "INSERT DATA { link:hamas parley:score '0.9' }",
          "how sure was the linker?"),
    links("link score as a double", _SCORE + "INSERT DATA { link:hamas parley:score 9.0e-1 }",
          "how sure was the linker?"),
    links("link without method", "DELETE WHERE { link:hamas parley:linkMethod ?x }",
          "how was the link found?"),
    links("link method that is a verdict",
          "DELETE WHERE { link:hamas parley:linkMethod ?x } ; "
          "INSERT DATA { link:hamas parley:linkMethod parley:Accepted }",
          "how was the link found?"),
    links("link by owl:sameAs",
          "DELETE WHERE { link:hamas rdf:predicate ?p . pid:hamas skos:exactMatch ?o } ; "
          "INSERT DATA { link:hamas rdf:predicate owl:sameAs . "
          "pid:hamas owl:sameAs wd:Q38799 }", "never owl:sameAs"),
    links("link to a Wikidata page, not an item",
          "DELETE WHERE { link:hamas rdf:object ?o . pid:hamas skos:exactMatch ?x } ; "
          "INSERT DATA { link:hamas rdf:object <https://www.wikidata.org/wiki/Q38799> . "
          "pid:hamas skos:exactMatch <https://www.wikidata.org/wiki/Q38799> }",
          "the Wikidata item it links to"),
    links("link with two items",
          "INSERT DATA { link:hamas rdf:object wd:Q2 . pid:hamas skos:exactMatch wd:Q2 }",
          "the Wikidata item it links to"),
    links("link of something outside the graph",
          "DELETE WHERE { link:hamas rdf:subject ?s . ?s skos:exactMatch ?o } ; "
          "INSERT DATA { link:hamas rdf:subject <http://example.org/hamas> . "
          "<http://example.org/hamas> skos:exactMatch wd:Q38799 }",
          "the entity of the graph (a pid: IRI) that is linked"),
    links("link without time", "DELETE WHERE { link:hamas prov:generatedAtTime ?x }",
          "when was the link made?"),
    links("link time as a date",
          "DELETE WHERE { link:hamas prov:generatedAtTime ?x } ; "
          "INSERT DATA { link:hamas prov:generatedAtTime '2024-01-25'^^xsd:date }",
          "when was the link made?"),
    links("link with untagged matched label",
          "DELETE WHERE { link:hamas parley:matchedLabel ?x } ; "
          "INSERT DATA { link:hamas parley:matchedLabel 'Hamas' }",
          "which Wikidata name of the item matched"),
    links("link whose triple is missing", "DELETE DATA { pid:hamas skos:exactMatch wd:Q38799 }",
          "the links graph must also assert"),
    links("decision without verdict",
          "DELETE WHERE { decision:november-truce parley:decision ?x }",
          "what did the curator decide?"),
    links("decision with a link method as verdict",
          "DELETE WHERE { decision:november-truce parley:decision ?x } ; "
          "INSERT DATA { decision:november-truce parley:decision parley:OfflineExtract }",
          "what did the curator decide?"),
    links("decision on owl:sameAs",
          "DELETE WHERE { decision:november-truce rdf:predicate ?x } ; "
          "INSERT DATA { decision:november-truce rdf:predicate owl:sameAs }",
          "which link was accepted or rejected?"),
    links("decision without curator",
          "DELETE WHERE { decision:november-truce prov:wasAttributedTo ?c . ?c ?p ?o }",
          "who decided?"),
    links("decision by a nameless curator",
          "DELETE WHERE { decision:november-truce prov:wasAttributedTo ?c . ?c rdfs:label ?l }",
          "who decided?"),
    links("decision without time",
          "DELETE WHERE { decision:november-truce prov:generatedAtTime ?x }",
          "when was it decided?"),
    links("decision score below 0",
          _DECISION_SCORE + "INSERT DATA { decision:november-truce parley:score '-0.1'^^xsd:decimal }",
          "the candidate's score when the curator decided"),
    links("decision without note", "DELETE WHERE { decision:november-truce rdfs:comment ?x }",
          "should say why", SH.Warning),
]
CONTROLS = {"valid curated file": CURATED, "valid links and decision": LINKS}


def test_case_list_is_complete():
    assert len(CASES) == 69
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.base for case in CASES} == set(CONTROLS.values())


def _nodes(graph: rdflib.Graph, copy: str) -> set:
    """The nodes that belong to one copy: its blank nodes and its own IRIs."""
    namespaces = tuple(ns for p, ns in copy_prefixes(copy).items() if p not in FIXED_PREFIXES)
    nodes = set(graph.subjects()) | set(graph.objects())
    return {n for n in nodes if isinstance(n, BNode)
            or (isinstance(n, URIRef) and str(n).startswith(namespaces))}


@pytest.fixture(scope="module")
def shacl_batch(ontology, shapes) -> dict[str, list[Result]]:
    """Every case and control, each a copy in its own namespaces, validated in ONE pySHACL
    run (about 2 s each alone); the results are sorted back to their copies by focus node."""
    copies = [(f"case-{i}", case.base, case.update) for i, case in enumerate(CASES)]
    copies += [(f"control-{i}", base, "") for i, base in enumerate(CONTROLS.values())]
    data = rdflib.Graph()
    owner = {}
    for copy, base, update in copies:
        graph = make_copy(base, copy, update)
        owner.update(dict.fromkeys(_nodes(graph, copy), copy))
        data += graph
    _, report = check_shapes(data, ontology, shapes)
    by_copy: dict[str, list[Result]] = {copy: [] for copy, _, _ in copies}
    for result in results_of(report):
        by_copy.setdefault(owner.get(result.focus, "no copy"), []).append(result)
    return by_copy


def test_batch_reports_nothing_outside_the_copies(shacl_batch):
    # The ontology's own controlled values are validated with the data too (stances).
    assert shacl_batch.get("no copy", []) == []


@pytest.mark.parametrize("index", range(len(CONTROLS)), ids=list(CONTROLS))
def test_valid_control_copy_has_no_result(shacl_batch, index):
    assert shacl_batch[f"control-{index}"] == []


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case.name for case in CASES])
def test_broken_variant_fails_with_its_curator_message(shacl_batch, index):
    case = CASES[index]
    results = shacl_batch[f"case-{index}"]
    assert any(case.message in r.message and r.severity == case.severity for r in results), \
        results
    if case.severity != SH.Violation:
        assert all(r.severity != SH.Violation for r in results), results


def test_minimal_curated_file_conforms_alone(ontology, shapes):
    conforms, report = check_shapes(make_copy(CURATED, "alone"), ontology, shapes)
    assert conforms and results_of(report) == []


def test_position_without_holder_fails_with_its_curator_message(ontology, shapes):
    data = make_copy(CURATED, "alone",
                     "DELETE WHERE { pid:netanyahu-rules-out parley:holder ?x }")
    conforms, report = check_shapes(data, ontology, shapes)
    assert not conforms
    position = URIRef(copy_prefixes("alone")["pid"] + "netanyahu-rules-out")
    assert [(r.focus, r.path, r.severity) for r in results_of(report)] == [
        (position, PARLEY.holder, SH.Violation)]
    assert results_of(report)[0].message == (
        "A Position needs exactly one parley:holder: who takes this stance?")


def test_links_the_linker_writes_conform(ontology, shapes, linked):
    assert len(set(linked.subjects(RDF.type, PARLEY.Link))) >= 20
    conforms, report = check_shapes(linked, ontology, shapes)
    assert conforms and results_of(report) == []


def test_corpus_decisions_satisfy_the_decision_shapes(ontology, shapes, decisions):
    assert len(set(decisions.subjects(RDF.type, PARLEY.LinkDecision))) >= 2
    conforms, report = check_shapes(decisions, ontology, shapes)
    assert conforms and results_of(report) == []


# ---- HermiT ------------------------------------------------------------------------------

ID = "https://w3id.org/parley/id/"
ABOX = f"""
@prefix parley: <{PARLEY}> . @prefix pid: <{ID}> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <{SKOS}> . @prefix wd: <http://www.wikidata.org/entity/> .
@prefix prov: <{PROV}> . @prefix xsd: <{XSD}> . @prefix rdf: <{RDF}> .
pid:egypt a parley:State ; parley:mediates pid:hostage-talks ; parley:borders pid:gaza-strip .
pid:gaza-strip a parley:Territory .
pid:israel a parley:State ; parley:partyTo pid:hostage-talks .
pid:hostage-talks a parley:Negotiation .
pid:william-j-burns a parley:Person .
pid:cia a parley:IntelligenceAgency .
pid:director-of-the-cia a parley:Office .
pid:burns-cia a parley:RoleAssignment ; org:member pid:william-j-burns ;
    org:role pid:director-of-the-cia ; org:organization pid:cia .
pid:egypt skos:exactMatch wd:Q79 .
<https://w3id.org/parley/link/egypt/Q79> a parley:Link ;
    rdf:subject pid:egypt ; rdf:predicate skos:exactMatch ; rdf:object wd:Q79 ;
    parley:linkMethod parley:OfflineExtract ; parley:score 1.0 ;
    parley:matchedLabel "Egypt"@en ;
    prov:generatedAtTime "2024-01-25T12:00:00Z"^^xsd:dateTime .
"""
HAS_JAVA = shutil.which("java") is not None


@pytest.fixture(scope="module")
def axioms(ontology) -> rdflib.Graph:
    """The ontology without annotations, as the build hands it to HermiT (kg/reasoning.py):
    labels and definitions cannot change an entailment, only slow the reasoner down."""
    annotations = set(ontology.subjects(RDF.type, OWL.AnnotationProperty))
    annotations |= {OWL.versionInfo, OWL.priorVersion}
    lean = rdflib.Graph()
    for triple in ontology:
        if triple[1] not in annotations:
            lean.add(triple)
    return lean


def hermit(tmp_path: Path, axioms: rdflib.Graph, extra: str = "") -> owlready2.World:
    """Ontology axioms + ABOX (+ extra) classified by HermiT; raises if inconsistent."""
    graph = rdflib.Graph() + axioms
    graph.parse(data=ABOX + extra, format="turtle")
    path = tmp_path / "input.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    with open(path, "rb") as handle:
        world.get_ontology("https://w3id.org/parley/test-input").load(fileobj=handle,
                                                                     format="ntriples")
    owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0)
    return world


@pytest.mark.skipif(not HAS_JAVA, reason="HermiT needs a Java runtime on PATH")
def test_hermit_classifies_mediators_parties_and_memberships(tmp_path, axioms):
    world = hermit(tmp_path, axioms)
    mediators = {i.iri for i in world[str(PARLEY.Mediator)].instances()}
    parties = {i.iri for i in world[str(PARLEY.NegotiatingParty)].instances()}
    assert mediators == {ID + "egypt"}
    assert parties == {ID + "israel"}
    member_of = world["http://www.w3.org/ns/org#memberOf"]
    assert [(a.iri, b.iri) for a, b in member_of.get_relations()] == [
        (ID + "william-j-burns", ID + "cia")]


@pytest.mark.skipif(not HAS_JAVA, reason="HermiT needs a Java runtime on PATH")
@pytest.mark.parametrize("extra", [
    f"<{ID}x> a <{PARLEY.Person}>, <{PARLEY.State}> .",
    f"<https://w3id.org/parley/link/egypt/Q79> <{PARLEY.score}> 1.5 .",
], ids=["person and state", "link score above 1"])
def test_hermit_finds_the_inconsistency(tmp_path, axioms, extra):
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        hermit(tmp_path, axioms, extra)


# ---- OWL 2 DL profile (OWLAPI, shipped inside owlready2's HermiT.jar, through JPype) -----

# Runs in a child Python so that the JVM JPype starts (it cannot be stopped and restarted
# in one process) never lives inside the test process; needs no Java compiler.
_DL_CHECK = """
import json, sys
import jpype
jpype.startJVM(classpath=[sys.argv[1]])
manager_class = jpype.JClass("org.semanticweb.owlapi.apibinding.OWLManager")
profile = jpype.JClass("org.semanticweb.owlapi.profiles.OWL2DLProfile")()
java_file = jpype.JClass("java.io.File")
found = {}
for path in sys.argv[2:]:
    loaded = manager_class.createOWLOntologyManager().loadOntologyFromOntologyDocument(
        java_file(path))
    found[path] = {"logical axioms": int(loaded.getLogicalAxiomCount()),
                   "violations": [str(v) for v in profile.checkOntology(loaded).getViolations()]}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def owl2_dl(tmp_path_factory, ontology, linked, decisions) -> dict[str, dict]:
    """OWLAPI's OWL 2 DL profile report on the ontology, on the ontology with the links
    graph and decisions file, and on an ontology that declares rdf:subject an object
    property (which must not be DL)."""
    import jpype  # noqa: F401  (JPype1 is a test dependency: fail loudly when it is missing)

    if not HAS_JAVA and not os.environ.get("JAVA_HOME"):
        pytest.skip("the OWL 2 DL check needs a Java runtime")
    folder = tmp_path_factory.mktemp("owl2-dl")
    inputs = {"ontology": ONTOLOGY_FILE,
              "with links and decisions": folder / "with-links-and-decisions.ttl",
              "reserved vocabulary": folder / "reserved-vocabulary.ttl"}
    (ontology + linked + decisions).serialize(inputs["with links and decisions"],
                                              format="turtle")
    reserved = rdflib.Graph()
    reserved.add((ONTOLOGY_IRI, RDF.type, OWL.Ontology))
    reserved.add((RDF.subject, RDF.type, OWL.ObjectProperty))
    reserved.serialize(inputs["reserved vocabulary"], format="turtle")
    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    child = subprocess.run([sys.executable, "-c", _DL_CHECK, str(jar),
                            *(str(p) for p in inputs.values())],
                           capture_output=True, text=True, check=False)
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    return {name: report[str(path)] for name, path in inputs.items()}


@pytest.mark.parametrize("name", ["ontology", "with links and decisions"])
def test_is_in_owl2_dl(owl2_dl, name):
    assert owl2_dl[name]["logical axioms"] > 400
    assert owl2_dl[name]["violations"] == []


def test_dl_checker_rejects_reserved_vocabulary_declared_as_owl_property(owl2_dl):
    # Why rdf:subject, rdf:predicate and rdf:object are only rdf:Property in the ontology.
    violations = owl2_dl["reserved vocabulary"]["violations"]
    assert violations and all("reserved vocabulary" in v for v in violations)
    assert any("rdf:subject" in v for v in violations)
