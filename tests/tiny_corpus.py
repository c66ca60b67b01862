"""A small, complete corpus (ontology, shapes, one source) that tests write into tmp dirs."""
from __future__ import annotations

from pathlib import Path

PREFIXES = """\
@prefix parley: <https://w3id.org/parley/ontology#> .
@prefix pid: <https://w3id.org/parley/id/> .
@prefix src: <https://w3id.org/parley/source/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
"""

ONTOLOGY = PREFIXES + """
<https://w3id.org/parley/ontology> a owl:Ontology ; rdfs:label "tiny Parley ontology" .

prov:Agent a owl:Class .
prov:Entity a owl:Class .
prov:Activity a owl:Class .
parley:Actor a owl:Class ; rdfs:subClassOf prov:Agent .
parley:Person a owl:Class ; rdfs:subClassOf parley:Actor .
parley:Organization a owl:Class ; rdfs:subClassOf parley:Actor .
parley:State a owl:Class ; rdfs:subClassOf parley:Organization .
[] a owl:AllDisjointClasses ;
    owl:members ( parley:Person parley:Organization ) .
parley:Negotiation a owl:Class .
parley:Position a owl:Class .
parley:Mediator a owl:Class ;
    owl:equivalentClass [ a owl:Class ; owl:intersectionOf ( parley:Actor
        [ a owl:Restriction ; owl:onProperty parley:mediates ; owl:someValuesFrom parley:Negotiation ] ) ] .
parley:Evidence a owl:Class ; rdfs:subClassOf prov:Entity .
parley:SourceDocument a owl:Class ; rdfs:subClassOf prov:Entity .
parley:Curation a owl:Class ; rdfs:subClassOf prov:Activity .

parley:mediates a owl:ObjectProperty ; rdfs:domain parley:Actor ; rdfs:range parley:Negotiation ;
    owl:inverseOf parley:hasMediator .
parley:hasMediator a owl:ObjectProperty .
parley:holder a owl:ObjectProperty , owl:FunctionalProperty ;
    rdfs:domain parley:Position ; rdfs:range parley:Actor ; owl:inverseOf parley:holds .
parley:holds a owl:ObjectProperty .
parley:evidence a owl:ObjectProperty ; rdfs:range parley:Evidence .
parley:startDate a owl:DatatypeProperty .
parley:textFile a owl:DatatypeProperty .
prov:wasQuotedFrom a owl:ObjectProperty .
prov:wasGeneratedBy a owl:ObjectProperty .
prov:wasAssociatedWith a owl:ObjectProperty .
oa:exact a owl:DatatypeProperty .
oa:start a owl:DatatypeProperty .
oa:end a owl:DatatypeProperty .
dcterms:title a owl:AnnotationProperty .
dcterms:identifier a owl:DatatypeProperty .
"""

SHAPES = PREFIXES + """
parley:PositionShape a sh:NodeShape ;
    sh:targetClass parley:Position ;
    sh:property [
        sh:path parley:holder ; sh:minCount 1 ; sh:maxCount 1 ; sh:class parley:Actor ;
        sh:message "A Position has exactly one holder, an Actor." ] .

parley:EvidenceShape a sh:NodeShape ;
    sh:targetClass parley:Evidence ;
    sh:property [ sh:path oa:exact ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ] .
"""

TEXT = ("Talks resumed in Doha on Monday. Qatar is mediating the talks between the parties, "
        "officials said.\n\nThe prime minister said he opposed any deal, "
        "according to two officials.\n")


def evidence(source_id: str, name: str, quote: str, text: str) -> str:
    start = text.index(quote)
    return (f"ev:{name} a parley:Evidence ;\n"
            f"    prov:wasQuotedFrom src:{source_id} ;\n"
            f"    oa:exact {_turtle_string(quote)} ;\n"
            f"    oa:start {start} ; oa:end {start + len(quote)} ;\n"
            f"    prov:wasGeneratedBy <https://w3id.org/parley/curation/{source_id}> .\n")


def _turtle_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def metadata(source_id: str, title: str, characters: int) -> str:
    return PREFIXES + f"""
src:{source_id} a parley:SourceDocument ;
    dcterms:identifier "{source_id}" ;
    dcterms:title "{title}" ;
    parley:textFile "{source_id}.txt" .
"""


def curated(source_id: str = "tiny-talks", text: str = TEXT) -> str:
    return (PREFIXES + f"@prefix ev: <https://w3id.org/parley/evidence/{source_id}/> .\n\n"
            f"<https://w3id.org/parley/curation/{source_id}> a parley:Curation ;\n"
            f"    prov:wasAssociatedWith pid:curator-team .\n\n"
            "pid:qatar a parley:State ;\n"
            "    parley:mediates pid:doha-talks ;\n"
            "    parley:evidence ev:qatar-mediates .\n\n"
            "pid:doha-talks a parley:Negotiation ;\n"
            "    parley:startDate \"2024\"^^xsd:gYear ;\n"
            "    parley:evidence ev:talks-resumed .\n\n"
            "pid:prime-minister a parley:Person ;\n"
            "    parley:evidence ev:opposed-deal .\n\n"
            "pid:position-pm-deal a parley:Position ;\n"
            "    parley:holder pid:prime-minister ;\n"
            "    parley:evidence ev:opposed-deal .\n\n"
            + evidence(source_id, "qatar-mediates", "Qatar is mediating the talks", text) + "\n"
            + evidence(source_id, "talks-resumed", "Talks resumed in Doha on Monday.", text) + "\n"
            + evidence(source_id, "opposed-deal", "The prime minister said he opposed any deal",
                       text))


def write_tiny_corpus(root: Path, source_id: str = "tiny-talks") -> tuple[Path, Path]:
    """Write ontology/ and corpus/ under root; return (corpus_dir, ontology_dir)."""
    ontology_dir, corpus_dir = root / "ontology", root / "corpus"
    ontology_dir.mkdir(parents=True)
    (ontology_dir / "parley.ttl").write_text(ONTOLOGY, encoding="utf-8")
    (ontology_dir / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    for folder in ("sources", "curated"):
        (corpus_dir / folder).mkdir(parents=True)
    (corpus_dir / "sources" / f"{source_id}.txt").write_text(TEXT, encoding="utf-8", newline="")
    (corpus_dir / "sources" / f"{source_id}.ttl").write_text(
        metadata(source_id, "Tiny talks", len(TEXT)), encoding="utf-8")
    (corpus_dir / "curated" / f"{source_id}.ttl").write_text(curated(source_id), encoding="utf-8")
    return corpus_dir, ontology_dir
