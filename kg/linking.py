"""Linking: reconcile the graph's entities with Wikidata and record the links with provenance."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, Store

from .link_review import METHOD_CURATOR, apply_decisions, load_decisions, slug, write_review
from .namespaces import (INFERRED_GRAPH, LINKS_GRAPH, PARLEY, PROV, RDF, RDFS, SKOS,
                         SOURCE_GRAPH_BASE, WIKIDATA_GRAPH, XSD)
from .reconciliation import (DEFAULT_MARGIN, DEFAULT_THRESHOLD, LINKABLE_CLASSES, Entity,
                             LinkResult, reconcile)
from .wikidata import (DEFAULT_ENDPOINT, DEFAULT_USER_AGENT, SCHEMA, OfflineCandidates,
                       OnlineCandidates, WikidataUnavailable, extract_quads)

LINK_BASE = "https://w3id.org/parley/link/"


@dataclass(frozen=True)
class LinkSettings:
    """What one linking run reads and writes; assembled once by the CLI or the build."""

    extract: Path
    decisions: Path | None = None
    review: Path | None = None
    online: bool = False
    endpoint: str = DEFAULT_ENDPOINT
    cache_dir: Path = Path("var/wikidata-cache")
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 10.0
    retries: int = 3
    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN


@dataclass
class LinkReport:
    result: LinkResult
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        result = self.result
        return (f"{len(result.links)} linked, {len(result.review)} for review"
                + "".join(f"\nwarning: {w}" for w in self.warnings))


_PREFIXES = f"""PREFIX parley: <{PARLEY}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
"""
# Source graphs hold what the curators asserted, the inferred graph what the reasoner added
# (superclasses among them); nothing else (ontology, shapes, links) describes entities.
_ENTITY_GRAPHS = (f'FILTER(?g = <{INFERRED_GRAPH.value}> || '
                  f'STRSTARTS(STR(?g), "{SOURCE_GRAPH_BASE}"))')
TYPES_QUERY = _PREFIXES + f"""SELECT ?entity ?type WHERE {{
  VALUES ?type {{ {" ".join(f"<{c}>" for c in LINKABLE_CLASSES)} }}
  GRAPH ?g {{ ?entity a ?type }} {_ENTITY_GRAPHS}
  FILTER(ISIRI(?entity))
}} ORDER BY ?entity ?type"""
NAMES_QUERY = _PREFIXES + f"""SELECT ?entity ?rank ?name WHERE {{
  VALUES (?property ?rank) {{ (rdfs:label 0) (skos:prefLabel 1) (skos:altLabel 2) }}
  GRAPH ?g {{ ?entity ?property ?name }} {_ENTITY_GRAPHS}
  FILTER(LANG(?name) = "" || LANGMATCHES(LANG(?name), "en"))
}} ORDER BY ?entity ?rank ?name"""
YEARS_QUERY = _PREFIXES + f"""SELECT ?entity ?date WHERE {{
  VALUES ?property {{ parley:date parley:startDate parley:endDate }}
  GRAPH ?g {{ ?entity ?property ?date }} {_ENTITY_GRAPHS}
}} ORDER BY ?entity ?date"""


def entities_from_store(store: Store) -> list[Entity]:
    """Actors, places, offices and events of the source and inferred graphs, with names."""
    types: dict[str, set[str]] = {}
    for row in store.query(TYPES_QUERY):
        types.setdefault(row["entity"].value, set()).add(row["type"].value)
    names: dict[str, list[str]] = {}
    for row in store.query(NAMES_QUERY):
        listed = names.setdefault(row["entity"].value, [])
        if row["name"].value not in listed:
            listed.append(row["name"].value)
    years: dict[str, set[str]] = {}
    for row in store.query(YEARS_QUERY):
        if row["date"].value[:4].isdigit():
            years.setdefault(row["entity"].value, set()).add(row["date"].value[:4])
    return [Entity(iri, tuple(names.get(iri, ())), frozenset(classes),
                   frozenset(years.get(iri, ())))
            for iri, classes in sorted(types.items())]


def link_quads(result: LinkResult, when: datetime) -> list[Quad]:
    """Each link as a triple plus a parley:Link node saying how, when and how sure."""
    quads = []
    stamp = Literal(when.isoformat(), datatype=NamedNode(XSD + "dateTime"))
    for link in result.links:
        entity, item, prop = (NamedNode(link.entity.iri), NamedNode(link.candidate.iri),
                              NamedNode(link.property))
        node = NamedNode(f"{LINK_BASE}{slug(link.entity.iri)}/{link.candidate.qid}")
        quads.append(Quad(entity, prop, item, LINKS_GRAPH))
        for p, o in ((RDF + "type", NamedNode(PARLEY + "Link")), (RDF + "subject", entity),
                     (RDF + "predicate", prop), (RDF + "object", item),
                     (PARLEY + "linkMethod", NamedNode(link.method)),
                     (PARLEY + "score", Literal(f"{link.score:.3f}",
                                                datatype=NamedNode(XSD + "decimal"))),
                     (PARLEY + "matchedLabel", Literal(link.matched_label, language="en")),
                     (PROV + "generatedAtTime", stamp)):
            quads.append(Quad(node, NamedNode(p), o, LINKS_GRAPH))
    return quads


def candidate_quads(result: LinkResult) -> list[Quad]:
    """Labels and descriptions of linked items, for items found online beyond the extract."""
    quads = set()
    for link in result.links:
        item = NamedNode(link.candidate.iri)
        for p, text in ((RDFS + "label", link.candidate.label),
                        (SCHEMA + "description", link.candidate.description),
                        *((SKOS + "altLabel", a) for a in link.candidate.aliases)):
            if text:
                quads.add(Quad(item, NamedNode(p), Literal(text, language="en"), WIKIDATA_GRAPH))
    return sorted(quads, key=str)


def run_link(store: Store, settings: LinkSettings, when: datetime) -> LinkReport:
    """Relink the store: replace the wikidata and links graphs, write the review file."""
    entities = entities_from_store(store)
    offline = OfflineCandidates(settings.extract)
    warnings = []
    result = None
    if settings.online:
        online = OnlineCandidates(settings.endpoint, settings.cache_dir, settings.user_agent,
                                  settings.timeout, settings.retries)
        try:
            result = reconcile(entities, online, settings.threshold, settings.margin)
        except WikidataUnavailable as error:
            warnings.append(f"online linking failed, kept the offline links: {error}")
    if result is None:
        result = reconcile(entities, offline, settings.threshold, settings.margin)
    result = apply_decisions(result, entities, load_decisions(settings.decisions))
    for graph in (WIKIDATA_GRAPH, LINKS_GRAPH):
        if store.contains_named_graph(graph):
            store.remove_graph(graph)
    store.extend(extract_quads(settings.extract))
    store.extend(candidate_quads(replace(result, links=[
        l for l in result.links if l.method != METHOD_CURATOR])))
    store.extend(link_quads(result, when))
    if settings.review is not None:
        write_review(result, settings.review)
    return LinkReport(result, warnings + result.warnings)
