"""Real SPARQL clients against a real `kg serve` on 127.0.0.1: SPARQLWrapper, rdflib, requests, pandas."""
from __future__ import annotations

import io
import threading
import time

import pandas
import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, POST, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from serving import make_store, running_server

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
QUERY = f"SELECT ?actor ?label {{ ?actor <{LABEL}> ?label FILTER(STRSTARTS(?label, 'Actor')) }} ORDER BY ?label LIMIT 3"
EXPECTED = [("https://w3id.org/parley/id/actor-000", "Actor 000"),
            ("https://w3id.org/parley/id/actor-001", "Actor 001"),
            ("https://w3id.org/parley/id/actor-002", "Actor 002")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clients")
    with running_server(make_store(tmp / "store"), tmp) as running:
        yield running


def _wrapper(server, fmt, method=None) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url, returnFormat=fmt)
    client.setQuery(QUERY)
    if method:
        client.setMethod(method)
    return client


@pytest.mark.parametrize("method", [None, POST])
def test_sparqlwrapper_json(server, method):
    result = _wrapper(server, JSON, method).queryAndConvert()
    assert [(row["actor"]["value"], row["label"]["value"]) for row in result["results"]["bindings"]] == EXPECTED


def test_sparqlwrapper_xml(server):
    document = _wrapper(server, XML).queryAndConvert()
    results = document.getElementsByTagName("result")
    assert len(results) == 3
    assert results[0].getElementsByTagName("uri")[0].firstChild.data == EXPECTED[0][0]


def test_sparqlwrapper_csv(server):
    text = _wrapper(server, CSV).queryAndConvert().decode()
    assert text.splitlines() == ["actor,label", *(f"{a},{l}" for a, l in EXPECTED)]


def test_sparqlwrapper_ask_and_construct(server):
    client = SPARQLWrapper(server.url, returnFormat=JSON)
    client.setQuery("ASK { ?s a <https://w3id.org/parley/ontology#Person> }")
    assert client.queryAndConvert()["boolean"] is True
    client = SPARQLWrapper(server.url)
    client.setQuery(f"CONSTRUCT {{ ?s <{LABEL}> ?l }} WHERE {{ ?s <{LABEL}> ?l }}")
    graph = client.queryAndConvert()
    assert isinstance(graph, rdflib.Graph) and len(graph) == 21


def test_sparqlwrapper_bad_query_message(server):
    client = SPARQLWrapper(server.url, returnFormat=JSON)
    client.setQuery("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed, match="error at 1:"):
        client.queryAndConvert()


def test_rdflib_sparqlstore(server):
    graph = rdflib.Graph(store=SPARQLStore(server.url))
    rows = [(str(row.actor), str(row.label)) for row in graph.query(QUERY)]
    assert rows == EXPECTED
    assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
    labels = list(graph.triples((rdflib.URIRef(EXPECTED[0][0]), rdflib.URIRef(LABEL), None)))
    assert [str(o) for _, _, o in labels] == ["Actor 000"]


def test_requests_and_pandas_csv(server):
    response = requests.get(server.url, params={"query": QUERY}, headers={"Accept": "text/csv"}, timeout=10)
    frame = pandas.read_csv(io.StringIO(response.text))
    assert list(frame.columns) == ["actor", "label"]
    assert list(frame.itertuples(index=False, name=None)) == EXPECTED
    frame = pandas.read_csv(f"{server.url}?query={requests.utils.quote(QUERY)}&format=csv")
    assert frame.shape == (3, 2)


def test_fifty_concurrent_clients(server):
    """50 clients for 3 s, each with its own connection: every answer is right (bench/soak.py runs 20 s)."""
    errors: list[str] = []
    counts = [0] * 50
    deadline: list[float] = []
    # The 3 s start when all 50 clients are running: starting 50 threads on a busy 2-core
    # machine can take long enough that the last ones would begin after a fixed deadline.
    ready = threading.Barrier(50, action=lambda: deadline.append(time.monotonic() + 3.0))

    def client(number):
        session = requests.Session()
        query = (f"SELECT ?label {{ <https://w3id.org/parley/id/actor-{number % 20:03d}> <{LABEL}> ?label }}")
        ready.wait()
        while time.monotonic() < deadline[0]:
            try:
                response = session.get(server.url, params={"query": query}, timeout=30)
                if response.status_code != 200 or \
                        response.json()["results"]["bindings"][0]["label"]["value"] != f"Actor {number % 20:03d}":
                    errors.append(f"{response.status_code} {response.text[:100]}")
            except requests.RequestException as error:
                errors.append(repr(error))
            counts[number] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(count > 0 for count in counts)
