"""A build writes the named graphs of docs/design.md, with provenance and entailments."""
from __future__ import annotations

import dataclasses
import os

import pytest
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Store, Variable

from parley.kg.build import (SCALE_THRESHOLD_QUADS, SCALE_THRESHOLD_SOURCES, BuildContext, build,
                             default_phases)
from parley.kg.namespaces import (BUILD_GRAPH, INFERRED_GRAPH, LISTING_GRAPH, ONTOLOGY_GRAPH, PARLEY, PID,
                                  SHAPES_GRAPH, source_graph)
from parley.kg.corpus import Corpus, RdfFile, Source
from parley.kg.listing import (ACTOR_RANK, ASSESSMENT_RANK, CEASEFIRE_PROPOSAL_RANK, CONTACT_RANK,
                               ISSUE_RANK, MEDIATOR_RANK, PARTY_RANK, TIMELINE_RANK, TRUCE_RANK)
from parley.kg.parsing import FileStream
from parley.kg.store import StagingWrite, load_staged, open_read_only
from tiny_corpus import PREFIXES, evidence, metadata

TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _has(store, s, p, o, graph) -> bool:
    return next(iter(store.quads_for_pattern(s, p, o, graph)), None) is not None


def test_build_writes_every_graph_of_the_layout(tiny):
    report = build(tiny)
    store = open_read_only(tiny.store)
    graphs = {g.value for g in store.named_graphs()}
    assert graphs == {g.value for g in (ONTOLOGY_GRAPH, SHAPES_GRAPH, INFERRED_GRAPH, BUILD_GRAPH,
                                        LISTING_GRAPH, source_graph("tiny-talks"))}
    assert report.graphs[source_graph("tiny-talks").value] == 35
    assert [p.name for p in report.phases] == [p.name for p in default_phases()] + ["commit"]


def test_reasoner_materialises_defined_classes_and_inverses_apart(tiny):
    build(tiny)
    store = open_read_only(tiny.store)
    qatar, talks = NamedNode(PID + "qatar"), NamedNode(PID + "doha-talks")
    assert _has(store, qatar, TYPE, NamedNode(PARLEY + "Mediator"), INFERRED_GRAPH)
    assert _has(store, talks, NamedNode(PARLEY + "hasMediator"), qatar, INFERRED_GRAPH)
    assert _has(store, NamedNode(PID + "prime-minister"), NamedNode(PARLEY + "holds"),
                NamedNode(PID + "position-pm-deal"), INFERRED_GRAPH)
    assert not _has(store, qatar, TYPE, NamedNode(PARLEY + "Mediator"), source_graph("tiny-talks"))
    # Nothing asserted is repeated as inferred.
    overlap = store.query("""
        SELECT ?s ?p ?o ?inferred WHERE { GRAPH ?inferred { ?s ?p ?o }
          GRAPH ?g { ?s ?p ?o } FILTER (?g != ?inferred) } ORDER BY ?s ?p ?o""",
                          substitutions={Variable("inferred"): INFERRED_GRAPH})
    assert list(overlap) == []


def test_build_graph_describes_each_graph_with_prov(tiny):
    build(tiny)
    store = open_read_only(tiny.store)
    rows = list(store.query("""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?source ?curator ?generated ?triples ?graph ?build WHERE { GRAPH ?build {
          ?graph prov:wasDerivedFrom ?source ; prov:wasAttributedTo ?curator ;
                 prov:generatedAtTime ?generated ; void:triples ?triples } }
        ORDER BY ?source""", substitutions={Variable("graph"): source_graph("tiny-talks"),
                                             Variable("build"): BUILD_GRAPH}))
    assert [(r["source"].value, r["curator"].value, int(r["triples"].value)) for r in rows] == [
        ("https://w3id.org/parley/source/tiny-talks", PID + "curator-team", 35)]


def test_skipped_reasoning_is_recorded_in_the_build_graph(tiny):
    build(dataclasses.replace(tiny, java=None))
    store = open_read_only(tiny.store)
    notes = [r["note"].value for r in store.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?note ?build WHERE "
        "{ GRAPH ?build { ?a rdfs:comment ?note } } ORDER BY ?note",
        substitutions={Variable("build"): BUILD_GRAPH})]
    assert any(n.startswith("skipped: no Java runtime") for n in notes)
    assert not store.contains_named_graph(INFERRED_GRAPH) or not list(
        store.quads_for_pattern(None, None, None, INFERRED_GRAPH))


def test_a_second_source_is_just_more_files(tiny):
    text = "Egypt hosted a new round of talks in Cairo, a diplomat said.\n"
    (tiny.corpus / "sources" / "cairo-round.txt").write_text(text, encoding="utf-8")
    (tiny.corpus / "sources" / "cairo-round.ttl").write_text(
        metadata("cairo-round", "Cairo round", len(text)), encoding="utf-8")
    (tiny.corpus / "curated" / "cairo-round.ttl").write_text(
        PREFIXES + "@prefix ev: <https://w3id.org/parley/evidence/cairo-round/> .\n"
        "<https://w3id.org/parley/curation/cairo-round> a parley:Curation ;\n"
        "    prov:wasAssociatedWith pid:second-curator .\n"
        "pid:egypt a parley:State ; parley:mediates pid:cairo-talks ;\n"
        "    parley:evidence ev:egypt-hosted .\n"
        "pid:cairo-talks a parley:Negotiation ; parley:evidence ev:egypt-hosted .\n"
        + evidence("cairo-round", "egypt-hosted", "Egypt hosted a new round of talks in Cairo",
                   text), encoding="utf-8")
    report = build(tiny)
    store = open_read_only(tiny.store)
    cairo, tiny_graph = source_graph("cairo-round"), source_graph("tiny-talks")
    assert store.contains_named_graph(cairo) and store.contains_named_graph(tiny_graph)
    assert _has(store, NamedNode(PID + "egypt"), TYPE, NamedNode(PARLEY + "State"), cairo)
    assert not _has(store, NamedNode(PID + "egypt"), None, None, tiny_graph)
    assert _has(store, NamedNode(PID + "egypt"), TYPE, NamedNode(PARLEY + "Mediator"),
                INFERRED_GRAPH)
    assert report.graphs[cairo.value] > 0


# The article (the packaged corpus) -----------------------------------------------------

def test_article_store_has_the_article_graph(article_store):
    store = open_read_only(article_store)
    graphs = {g.value for g in store.named_graphs()}
    assert source_graph("hostage-talks-2024-01").value in graphs
    assert {ONTOLOGY_GRAPH.value, SHAPES_GRAPH.value, BUILD_GRAPH.value} <= graphs


def test_every_article_statement_has_a_verbatim_quote(article_store):
    from parley.kg.settings import packaged_corpus
    text = (packaged_corpus() / "sources" / "hostage-talks-2024-01.txt").read_text(
        encoding="utf-8")
    store = open_read_only(article_store)
    rows = list(store.query("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?subject ?exact ?start ?end ?graph WHERE { GRAPH ?graph {
          ?subject a ?class .
          FILTER (STRSTARTS(STR(?class), "https://w3id.org/parley/ontology#") &&
                  ?class NOT IN (parley:Evidence, parley:Curation, parley:SourceDocument))
          OPTIONAL { ?subject parley:evidence ?e . ?e oa:exact ?exact ; oa:start ?start ;
                                                      oa:end ?end } } }
        ORDER BY ?subject ?start""",
                            substitutions={Variable("graph"): source_graph("hostage-talks-2024-01")}))
    assert len(rows) > 50
    missing = sorted({r["subject"].value for r in rows if r["exact"] is None})
    assert missing == []
    wrong = [r["subject"].value for r in rows
             if text[int(r["start"].value):int(r["end"].value)] != r["exact"].value]
    assert wrong == []


def test_every_article_term_is_declared(article_store):
    store = open_read_only(article_store)
    undeclared = list(store.query("""
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT DISTINCT ?term ?graph ?ontology WHERE {
          { GRAPH ?graph { ?s ?term ?o } } UNION { GRAPH ?graph { ?s a ?term } }
          FILTER (!STRSTARTS(STR(?term), "http://www.w3.org/1999/02/22-rdf-syntax-ns#")
                  && !STRSTARTS(STR(?term), "http://www.w3.org/2000/01/rdf-schema#")
                  && !STRSTARTS(STR(?term), "http://www.w3.org/2002/07/owl#")
                  && !STRSTARTS(STR(?term), "http://www.w3.org/2001/XMLSchema#"))
          FILTER NOT EXISTS { GRAPH ?ontology { ?term a ?kind }
            VALUES ?kind { owl:Class rdfs:Class owl:ObjectProperty owl:DatatypeProperty
                           owl:AnnotationProperty rdf:Property owl:NamedIndividual skos:Concept } }
        } ORDER BY ?term""", substitutions={Variable("graph"): source_graph("hostage-talks-2024-01"),
                                              Variable("ontology"): ONTOLOGY_GRAPH}))
    assert [r["term"].value for r in undeclared] == []


def test_article_store_is_a_symlinked_build(article_store):
    assert os.path.islink(article_store)


# Working in memory or on disk --------------------------------------------------------

def _published(store) -> tuple[set[str], dict[str, int]]:
    """The quads without blank nodes (whose labels differ between builds) outside the build
    graph (whose times differ) and the default graph (checked to be the named graphs' union),
    and the size of every graph."""
    named = {q.triple for q in store if q.graph_name != DefaultGraph()}
    assert {q.triple for q in store.quads_for_pattern(None, None, None, DefaultGraph())} == named
    quads = {str(q) for q in store if q.graph_name not in (BUILD_GRAPH, DefaultGraph())
             and not any(isinstance(t, BlankNode) for t in (q.subject, q.object))}
    sizes = {row["g"].value: int(row["n"].value) for row in store.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    return quads, sizes


@pytest.mark.parametrize("in_memory_up_to", [0, 10])
def test_a_build_on_disk_publishes_what_a_build_in_memory_does(tiny, in_memory_up_to):
    in_memory = build(tiny)
    assert "quads in memory" in in_memory.phases[1].counts
    assert in_memory.phases[-1].counts["quads written"] > 0  # entailments, build graph
    expected = _published(open_read_only(tiny.store))
    on_disk = build(dataclasses.replace(tiny, in_memory_up_to=in_memory_up_to))
    assert "quads on disk" in on_disk.phases[1].counts
    assert _published(open_read_only(tiny.store)) == expected
    assert len(expected[0]) > 50 and INFERRED_GRAPH.value in expected[1]


@pytest.mark.parametrize("blank_graphs", [0, 1, 2])
def test_staged_parse_writes_the_working_store_exactly(tmp_path, blank_graphs):
    # Plain graphs go to disk as N-Quads text (the bulk loader relabels blank nodes);
    # graphs with blank nodes as terms, so that the labels on disk are those in memory.
    files = []
    for index in range(3):
        path = tmp_path / f"g{index}.ttl"
        blank = f'; ex:note [ ex:text "n{index}" ] ' if index < blank_graphs else ""
        path.write_text(f'@prefix ex: <http://example.org/> .\n'
                        f'ex:s{index} ex:p "a\\nb {index}"@en, ex:o {blank}.\n'
                        f'ex:o ex:q {index} .\n')
        files.append(RdfFile(path, NamedNode(f"http://example.org/graph/{index}")))
    stream = FileStream(files)
    staging = Store(str(tmp_path / "staging"))
    memory, writing = load_staged(stream, staging, in_memory_up_to=1000)
    if writing is not None:
        writing.result()
    assert memory is not staging and stream.check() and stream.count == 9 + 2 * blank_graphs
    assert set(staging) == set(memory)
    assert len({q.object for q in staging if isinstance(q.object, BlankNode)}) == blank_graphs


@pytest.mark.parametrize("rank, rows", [
    (ACTOR_RANK, "SELECT ?node WHERE { ?node a parley:Actor OPTIONAL { ?node rdfs:label ?key } } "
                 "ORDER BY ?key ?node"),
    (ISSUE_RANK, "SELECT ?node WHERE { ?node a parley:Issue OPTIONAL { ?node parley:prominence ?key } } "
                 "ORDER BY (!BOUND(?key)) ?key ?node"),
    (CEASEFIRE_PROPOSAL_RANK, "SELECT DISTINCT ?node WHERE { ?node a parley:Proposal ; parley:hasTerm ?t "
                              "{ ?t parley:ceasefireKind [] } UNION { ?t parley:termType ?type "
                              "FILTER (?type IN (parley:Ceasefire, parley:CessationOfHostilities)) } } "
                              "ORDER BY ?node"),
    (PARTY_RANK, "SELECT DISTINCT ?node WHERE { ?node parley:partyTo [] } ORDER BY ?node"),
    (MEDIATOR_RANK, "SELECT DISTINCT ?node WHERE { ?node parley:mediates [] } ORDER BY ?node"),
    (CONTACT_RANK, "SELECT DISTINCT ?node WHERE { ?node parley:forNegotiation [] } ORDER BY ?node"),
    (TRUCE_RANK, "SELECT DISTINCT ?node WHERE { ?node a parley:Truce } ORDER BY ?node"),
    (ASSESSMENT_RANK, "SELECT DISTINCT ?node WHERE { ?node parley:assessmentOf [] } ORDER BY ?node"),
])
def test_listing_ranks_each_node_by_its_first_row_in_the_listed_order(article_store, rank, rows):
    store = open_read_only(article_store)
    first: dict = {}
    prefixes = ("PREFIX parley: <https://w3id.org/parley/ontology#> "
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
    for position, row in enumerate(store.query(prefixes + rows)):
        first.setdefault(row["node"], position)
    ranks = {quad.subject: int(quad.object.value)
             for quad in store.quads_for_pattern(None, rank, None, LISTING_GRAPH)}
    assert ranks == first and len(ranks) >= 1


@pytest.mark.parametrize("dates", [1, 2, 5, 50])
def test_the_timeline_rank_pages_the_events_of_the_first_dates(article_store, dates):
    # What timeline.rq computed before the rank: the dates in the answer's order, then the
    # events of the first `dates` of them (the query took them with LIMIT).
    store = open_read_only(article_store)
    prefixes = """PREFIX parley: <https://w3id.org/parley/ontology#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    """
    dated = """?kind rdfs:subClassOf* parley:Event . ?event a ?kind .
      OPTIONAL { ?event parley:date ?onDate } OPTIONAL { ?event parley:startDate ?start }
      BIND (COALESCE(?onDate, ?start, parley:none) AS ?day)"""
    days = [row["day"] for row in store.query(
        f"{prefixes}SELECT ?day WHERE {{ {dated} }} GROUP BY ?day ORDER BY isIRI(?day) STR(?day)")]
    first = set(days[:dates])
    expected = {row["event"] for row in store.query(
        f"{prefixes}SELECT DISTINCT ?event ?day WHERE {{ {dated} }} ORDER BY ?event ?day")
        if row["day"] in first}
    ranked = {quad.subject for quad in store.quads_for_pattern(None, TIMELINE_RANK, None, LISTING_GRAPH)
              if int(quad.object.value) < dates}
    assert ranked == expected and expected


def test_a_failed_write_to_staging_raises_where_the_build_waits(tmp_path):
    write = StagingWrite(Store(str(tmp_path / "staging")), b"<not> n-quads\n")
    write.start()
    with pytest.raises(SyntaxError):
        write.result()
    assert write.failed() and not write.is_alive()


@pytest.mark.parametrize(("quads", "sources", "at_scale"), [
    (SCALE_THRESHOLD_QUADS, SCALE_THRESHOLD_SOURCES, False),
    (SCALE_THRESHOLD_QUADS + 1, 1, True),
    # Many small sources: pySHACL would validate them one by one, about a second each.
    (1_000, SCALE_THRESHOLD_SOURCES + 1, True),
])
def test_many_sources_or_many_quads_take_the_paths_built_for_scale(tmp_path, quads, sources, at_scale):
    corpus = Corpus(ontology=tmp_path / "o.ttl", shapes=tmp_path / "s.ttl", sources=tuple(
        Source(f"s{i}", tmp_path / f"s{i}.txt", tmp_path / f"s{i}.meta.ttl", tmp_path / f"s{i}.ttl")
        for i in range(sources)))
    context = BuildContext(settings=None, store=Store(), report=None, corpus=corpus, quads=quads)
    assert context.at_scale is at_scale
