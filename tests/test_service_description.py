"""The W3C SPARQL 1.1 Service Description tests and the VoID description, against a real `kg serve`."""
from __future__ import annotations

import pytest
import rdflib
import requests
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD

from parley.kg.catalog import load_catalog
from serving import GRAPH, KASEI, make_store, running_server

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = rdflib.Namespace("https://schema.org/")
CATALOG = load_catalog()
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
RDF_MEDIA = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld",
             "application/n-triples": "nt"}
NAMED_GRAPHS = {GRAPH + "ontology", GRAPH + "source/example", KASEI + "data1.rdf", KASEI + "data2.rdf",
                KASEI + "data3.rdf"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("description")
    with running_server(make_store(tmp / "store"), tmp) as running:
        yield running


def _description(server, accept="text/turtle") -> rdflib.Graph:
    response = requests.get(server.url, headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200
    media = response.headers["Content-Type"].split(";")[0]
    return rdflib.Graph().parse(data=response.content, format=RDF_MEDIA[media])


# manifest#returns-rdf: GET on the endpoint returns RDF, in every RDF format offered.
@pytest.mark.parametrize("accept", sorted(RDF_MEDIA))
def test_returns_rdf(server, accept):
    graph = _description(server, accept)
    assert (None, RDF.type, SD.Service) in graph


# A GET without Accept, or accepting anything, still gets RDF (Turtle).
@pytest.mark.parametrize("accept", [None, "*/*"])
def test_returns_rdf_without_a_preference(server, accept):
    response = requests.get(server.url, headers={"Accept": accept}, timeout=10)  # None: no Accept header
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "text/turtle"
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    assert (None, RDF.type, SD.Service) in graph


def test_limits_are_described(server):
    graph = _description(server)
    (service,) = graph.subjects(RDF.type, SD.Service)
    (comment,) = graph.objects(service, RDFS.comment)
    assert "at most 10000 solutions or triples" in comment and "X-Parley-Truncated" in comment
    assert "may run 30 s" in comment and "https://query.wikidata.org/sparql" in comment


# manifest#has-endpoint-triple: the description names the URL it was fetched from.
def test_has_endpoint_triple(server):
    graph = _description(server)
    assert list(graph.subjects(SD.endpoint, rdflib.URIRef(server.url))), graph.serialize(format="turtle")


# manifest#conforms-to-schema: the terms are used with the domains and ranges of the SD vocabulary.
def test_conforms_to_schema(server):
    graph = _description(server)
    services = list(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    service = services[0]
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert set(graph.objects(service, SD.feature)) == {SD.UnionDefaultGraph, SD.BasicFederatedQuery}
    formats = set(graph.objects(service, SD.resultFormat))
    assert {FORMATS.SPARQL_Results_JSON, FORMATS.SPARQL_Results_XML, FORMATS.SPARQL_Results_CSV,
            FORMATS.SPARQL_Results_TSV, FORMATS.Turtle, FORMATS["N-Triples"], FORMATS.RDF_XML,
            FORMATS["JSON-LD"], FORMATS.TriG, FORMATS["N-Quads"]} == formats
    (dataset,) = graph.objects(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in graph
    (default,) = graph.objects(dataset, SD.defaultGraph)
    assert (default, RDF.type, SD.Graph) in graph
    names = set()
    for named in graph.objects(dataset, SD.namedGraph):
        assert (named, RDF.type, SD.NamedGraph) in graph
        (name,) = graph.objects(named, SD.name)
        assert isinstance(name, rdflib.URIRef)
        (described,) = graph.objects(named, SD.graph)
        assert (described, RDF.type, SD.Graph) in graph
        names.add(str(name))
    assert names == NAMED_GRAPHS
    # Every sd:NamedGraph anywhere in the description has exactly one IRI as its name.
    for named in graph.subjects(RDF.type, SD.NamedGraph):
        (name,) = graph.objects(named, SD.name)
        assert isinstance(name, rdflib.URIRef)


def test_void_statistics_per_graph(server):
    graph = _description(server)
    (dataset,) = graph.objects(None, SD.defaultDataset)
    (default,) = graph.objects(dataset, SD.defaultGraph)
    assert graph.value(default, VOID.triples) == rdflib.Literal(45, datatype=XSD.integer)
    numbers = {}
    for named in graph.objects(dataset, SD.namedGraph):
        described = graph.value(named, SD.graph)
        numbers[str(graph.value(named, SD.name))] = (graph.value(described, VOID.triples).toPython(),
                                                      graph.value(described, VOID.distinctSubjects).toPython(),
                                                      graph.value(described, VOID.classes).toPython())
    assert numbers[GRAPH + "source/example"] == (40, 20, 1)
    assert numbers[GRAPH + "ontology"] == (2, 1, 1)
    assert numbers[KASEI + "data1.rdf"] == (1, 1, 1)


def test_well_known_void(server):
    response = requests.get(server.root + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    dataset = rdflib.URIRef(server.root + "/.well-known/void#dataset")
    assert (dataset, RDF.type, VOID.Dataset) in graph
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(server.url)) in graph
    assert graph.value(dataset, VOID.triples).toPython() == 45
    subsets = {str(s) for s in graph.objects(dataset, VOID.subset)}
    assert subsets == NAMED_GRAPHS
    assert graph.value(rdflib.URIRef(GRAPH + "source/example"), VOID.distinctSubjects).toPython() == 20


def test_saved_queries_are_examples_of_the_service(server):
    graph = _description(server)
    (service,) = graph.subjects(RDF.type, SD.Service)
    (endpoint,) = graph.objects(service, SD.endpoint)
    examples = set(graph.subjects(SCHEMA.target, endpoint))
    assert len(CATALOG.ids) > 0
    assert examples == {rdflib.URIRef(f"{server.root}/api/queries/{query_id}") for query_id in CATALOG.ids}
    for query in CATALOG:
        node = rdflib.URIRef(f"{server.root}/api/queries/{query.id}")
        assert {SH.SPARQLExecutable, SH.SPARQLSelectExecutable} == set(graph.objects(node, RDF.type))
        assert graph.value(node, SH.select) == rdflib.Literal(query.text)
        assert graph.value(node, RDFS.label) == rdflib.Literal(query.title, lang="en")
        assert graph.value(node, RDFS.comment) == rdflib.Literal(query.question or query.title, lang="en")
        assert graph.value(node, DCTERMS.description) == rdflib.Literal(query.description, lang="en")
        assert graph.value(node, DCTERMS.identifier) == rdflib.Literal(query.id)
        assert {str(k) for k in graph.objects(node, SCHEMA.keywords)} == set(query.tags)


def test_examples_are_found_the_way_query_editors_look_for_them(server):
    # The query the SIB SPARQL editor runs to list an endpoint's examples.
    graph = _description(server, "application/ld+json")
    rows = graph.query("""
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT DISTINCT ?sq ?comment ?query WHERE {
          ?sq a sh:SPARQLExecutable ; rdfs:comment ?comment ; sh:select|sh:ask|sh:construct ?query .
        } ORDER BY ?sq""")
    found = {str(row.sq): str(row.query) for row in rows}
    assert found == {f"{server.root}/api/queries/{q.id}": q.text for q in CATALOG}
    # Each example's IRI runs it.
    sticking = requests.get(f"{server.root}/api/queries/sticking-points", timeout=10)
    assert sticking.status_code == 200 and "results" in sticking.json()


def test_description_without_federation(tmp_path):
    with running_server(make_store(tmp_path / "store"), tmp_path, "--no-federation") as server:
        graph = _description(server)
        assert set(graph.objects(None, SD.feature)) == {SD.UnionDefaultGraph}
        refused = requests.get(server.url, params={
            "query": "ASK { SERVICE <https://query.wikidata.org/sparql> {} }"}, timeout=10)
        assert refused.status_code == 400
        assert "only federates with no endpoint" in refused.text


def test_description_without_statistics_when_counting_fails(tmp_path):
    # A timeout no evaluation meets: the VoID counts fail as they would on a store too big
    # to count in time; the description must still be served, without the numbers.
    from parley.server.app import create_app
    from parley.server.settings import ServerSettings

    app = create_app(ServerSettings(store=make_store(tmp_path / "store"), executors=1,
                                    timeout=1e-9, cache_bytes=0))
    try:
        client = app.test_client()
        for _ in range(2):  # the second within the retry pause: no executor killed for it
            response = client.get("/sparql", headers={"Accept": "text/turtle"})
            assert response.status_code == 200
            graph = rdflib.Graph().parse(data=response.data, format="turtle")
            assert set(graph.objects(None, SD.endpoint))
            assert not set(graph.objects(None, VOID.triples))
    finally:
        app.extensions["parley.service"].close()
