"""`kg serve --backend URL`: the server over a real `oxigraph serve`, compared with the embedded store."""
from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import rdflib
import requests
from click.testing import CliRunner
from pyoxigraph import DefaultGraph, NamedNode, QueryResultsFormat, RdfFormat, parse, serialize

from parley.kg.catalog import load_catalog
from parley.kg.errors import UsageError
from parley.kg.querying import needs_union_view, run_query, run_saved_query
from parley.kg.store import open_read_only
from parley.server.app import create_app
from parley.server.cli import cli
from parley.server.evaluation import statistics
from parley.server.settings import ServerSettings, load_settings
from regen_golden import golden_cases
from serving import READY_CATALOG, free_port, running_server

CATALOG = load_catalog()
CASES = golden_cases(CATALOG)
JSON_RESULTS = "application/sparql-results+json"
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = rdflib.Namespace("https://schema.org/")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
ONTOLOGY_GRAPH = "https://w3id.org/parley/graph/ontology"


class Relay:
    """A TCP relay in front of the backend that keeps every byte Parley sends through it."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def upstream_bytes(self) -> bytes:
        with self.lock:
            return bytes(self.sent)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if record:
                    with self.lock:
                        self.sent += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def store(article_store):
    return open_read_only(article_store)


@pytest.fixture(scope="module")
def backend(article_store, tmp_path_factory):
    """`oxigraph serve --union-default-graph` on 127.0.0.1 holding the article's named graphs.

    As `kg push` leaves it: the named graphs only, the remote serving their union (the
    build's own default graph, that union as a set, stays local; on the article no triple
    is in two graphs, so oxigraph's bag union answers the same).
    """
    tmp = tmp_path_factory.mktemp("backend")
    dump = tmp / "article.nq"
    serialize((quad for quad in open_read_only(article_store) if quad.graph_name != DefaultGraph()),
              dump, format=RdfFormat.N_QUADS)
    subprocess.run([str(OXIGRAPH), "load", "--location", str(tmp / "oxigraph"), "--file", str(dump)],
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(tmp / "oxigraph"),
                                "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait_for(lambda: requests.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200,
                  process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def relay(backend):
    relay = Relay(backend)
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def server(relay, tmp_path_factory):
    with backed_server(f"http://127.0.0.1:{relay.port}/query", tmp_path_factory.mktemp("serve")) as running:
        yield running


@contextmanager
def backed_server(backend_url: str, tmp: Path, *options: str):
    """`kg serve --backend URL` on a free port; yields its root URL once its API answers."""
    with running_server(None, tmp, "--backend", backend_url, *options, ready=READY_CATALOG) as running:
        yield running.root


def _wait_for(ready, process: subprocess.Popen, log: Path | None = None, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited:\n{log.read_text() if log else ''}")
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready within {seconds} s:\n{log.read_text() if log else ''}")


def case_id(case) -> str:
    query, name, _ = case
    return query.id if name == "default" else f"{query.id}.{name}"


def test_every_saved_query_has_a_case():
    assert len(CASES) >= len(CATALOG.ids) > 0


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_saved_query_answers_as_on_the_embedded_store(server, store, case):
    query, _, params = case
    response = requests.get(f"{server}/api/queries/{query.id}", params=params,
                            headers={"Accept": JSON_RESULTS}, timeout=30)
    assert response.status_code == 200, response.text
    embedded = run_saved_query(store, query, params).serialize(format=QueryResultsFormat.JSON)
    assert response.json() == json.loads(embedded)
    assert response.json()["results"]["bindings"] or query.parameters, "a saved query found nothing"


@pytest.mark.parametrize("accept, fmt", [
    ("text/csv", QueryResultsFormat.CSV),
    ("text/tab-separated-values", QueryResultsFormat.TSV),
    ("application/sparql-results+xml", QueryResultsFormat.XML),
])
def test_sparql_proxies_select_byte_for_byte(server, store, accept, fmt):
    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
             "SELECT ?s ?label { ?s a <https://w3id.org/parley/ontology#Person> ; rdfs:label ?label } "
             "ORDER BY ?s ?label")
    response = requests.get(f"{server}/sparql", params={"query": query}, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == run_query(store, query).serialize(format=fmt)


def test_sparql_proxies_the_protocol_dataset_and_ask(server, store):
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    response = requests.get(f"{server}/sparql", params={"query": count, "default-graph-uri": ONTOLOGY_GRAPH},
                            headers={"Accept": JSON_RESULTS}, timeout=30)
    assert response.status_code == 200, response.text
    expected = len(list(store.quads_for_pattern(None, None, None, NamedNode(ONTOLOGY_GRAPH))))
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == expected > 0
    ask = requests.post(f"{server}/sparql", data="ASK { ?s a <https://w3id.org/parley/ontology#Person> }",
                        headers={"Content-Type": "application/sparql-query", "Accept": JSON_RESULTS}, timeout=30)
    assert ask.status_code == 200 and ask.json()["boolean"] is True


def test_sparql_proxies_describe_as_the_negotiated_rdf(server, store):
    query = "DESCRIBE <https://w3id.org/parley/id/benjamin-netanyahu>"
    response = requests.get(f"{server}/sparql", params={"query": query},
                            headers={"Accept": "application/n-triples"}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/n-triples"
    remote = {quad.triple for quad in parse(response.content, format=RdfFormat.N_TRIPLES)}
    assert remote == set(run_query(store, query)) != set()


def test_relative_iris_resolve_against_parley_not_the_backend(server):
    response = requests.get(f"{server}/sparql", params={"query": "SELECT (<x> AS ?iri) {}"},
                            headers={"Accept": JSON_RESULTS}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["iri"]["value"] == f"{server}/x"


def test_backend_syntax_errors_are_400_with_its_message(server):
    response = requests.get(f"{server}/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"},
                            headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("the SPARQL backend refused the query:") and "error at 1:" in message


def test_saved_query_revalidates_with_304(server):
    url = f"{server}/api/queries/positions"
    first = requests.get(url, params={"actor": "pid:israel"}, headers={"Accept": JSON_RESULTS}, timeout=30)
    assert first.status_code == 200 and first.headers["ETag"]
    again = requests.get(url, params={"actor": "pid:israel"},
                         headers={"Accept": JSON_RESULTS, "If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = requests.get(url, params={"actor": "pid:hamas"},
                         headers={"Accept": JSON_RESULTS, "If-None-Match": first.headers["ETag"]}, timeout=30)
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]


HOSTILE = [
    ("GET", {"query": "SELECT * " + "{" * 300 + "}" * 300}, "nests deeper than 256"),
    ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}, "is not allowed"),
    ("GET", {"query": "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"}, "read-only"),
    ("POST", {"update": "DROP ALL"}, "read-only"),
    ("GET", {"query": "SELECT * { ?s ?p '" + "x" * 1_100_000 + "' }"}, "the limit is"),
]


@pytest.mark.parametrize("method, params, message", HOSTILE, ids=["nesting", "service", "insert", "update",
                                                                  "size"])
def test_hostile_input_is_refused_before_the_backend(server, relay, backend, method, params, message):
    before = relay.upstream_bytes()
    if method == "GET":
        response = requests.get(f"{server}/sparql", params=params, timeout=30)
    else:
        response = requests.post(f"{server}/sparql", data=params, timeout=30)
    assert response.status_code in (400, 413) and message in response.text, response.text
    assert relay.upstream_bytes() == before, "the refused request reached the backend"
    # The data behind the backend is unchanged: nothing was written through Parley.
    untouched = requests.get(f"http://127.0.0.1:{backend}/query", params={"query": "ASK { <urn:x:a> ?p ?o }"},
                             headers={"Accept": JSON_RESULTS}, timeout=30)
    assert untouched.json()["boolean"] is False


def test_service_description_over_the_backend(server, store):
    response = requests.get(f"{server}/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    (service,) = graph.subjects(rdflib.RDF.type, SD.Service)
    # oxigraph serve --union-default-graph says so in its own description.
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    (dataset,) = graph.objects(service, SD.defaultDataset)
    default = graph.value(dataset, SD.defaultGraph)
    embedded = statistics(store, needs_union_view(store))
    assert graph.value(default, VOID.triples).toPython() == embedded["default"]["triples"]
    names = {str(graph.value(named, SD.name)) for named in graph.objects(dataset, SD.namedGraph)}
    assert names == {g["name"] for g in embedded["graphs"]}
    examples = set(graph.subjects(rdflib.RDF.type, SH.SPARQLExecutable))
    assert examples == {rdflib.URIRef(f"{server}/api/queries/{id}") for id in CATALOG.ids}


def test_row_cap_cuts_remote_answers(relay):
    app = create_app(ServerSettings(backend=f"http://127.0.0.1:{relay.port}/query", row_cap=3))
    try:
        client = app.test_client()
        select = client.get("/sparql", query_string={"query": "SELECT ?s { ?s ?p ?o } ORDER BY ?s",
                                                      "format": "tsv"})
        assert select.status_code == 200 and select.headers["X-Parley-Truncated"] == "3"
        assert len(select.data.decode().splitlines()) == 1 + 3
        construct = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }",
                                                         "format": "ntriples"})
        assert construct.headers["X-Parley-Truncated"] == "3"
        assert len(list(parse(construct.data, format=RdfFormat.N_TRIPLES))) == 3
        small = client.get("/sparql", query_string={"query": "SELECT ?s { VALUES ?s { 1 2 } }"})
        assert small.status_code == 200 and "X-Parley-Truncated" not in small.headers
    finally:
        app.extensions["parley.service"].close()


def test_credentials_and_headers_reach_the_backend(relay):
    settings = load_settings(environ={"BACKEND_SECRET": "s3cret"}, backend=f"http://127.0.0.1:{relay.port}/query",
                             backend_user="parley", backend_password_env="BACKEND_SECRET",
                             backend_headers=["X-Api-Key: k-123"])
    assert "s3cret" not in repr(settings) and "k-123" not in repr(settings)
    app = create_app(settings)
    try:
        before = len(relay.upstream_bytes())
        assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
        sent = relay.upstream_bytes()[before:].decode("latin-1").lower()
        assert "authorization: basic " + base64.b64encode(b"parley:s3cret").decode().lower() in sent
        assert "x-api-key: k-123" in sent
    finally:
        app.extensions["parley.service"].close()


def test_backend_down_is_502_with_a_message(tmp_path):
    # A bound socket that does not listen refuses connections and keeps its port from the server.
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        with backed_server(f"http://127.0.0.1:{dead.getsockname()[1]}/query", tmp_path) as root:
            _check_down(root)


def _check_down(root: str) -> None:
    response = requests.get(f"{root}/api/queries/actors", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 502
    assert response.json()["error"]["message"] == "the SPARQL backend cannot be reached; try again later"
    # The description degrades to what Parley knows without the backend.
    description = requests.get(f"{root}/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert description.status_code == 200
    graph = rdflib.Graph().parse(data=description.content, format="turtle")
    assert (None, SD.endpoint, rdflib.URIRef(f"{root}/sparql")) in graph
    assert not list(graph.objects(None, VOID.triples))
    assert len(set(graph.subjects(rdflib.RDF.type, SH.SPARQLExecutable))) == len(CATALOG.ids)


def test_stalled_backend_is_504(tmp_path):
    # A socket that listens but never answers: connecting succeeds, reading never does.
    with socket.create_server(("127.0.0.1", 0)) as stalled:
        app = create_app(ServerSettings(backend=f"http://127.0.0.1:{stalled.getsockname()[1]}/query",
                                        timeout=0.5))
        try:
            response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
            assert response.status_code == 504
            assert "did not answer within 0.5 s" in response.text
        finally:
            app.extensions["parley.service"].close()


@pytest.mark.parametrize("options, environ, message", [
    ({"backend": "ftp://example.org/sparql"}, {}, "http(s) URL"),
    ({"backend": "http://h/q", "backend_user": "u"}, {}, "--backend-password-env"),
    ({"backend": "http://h/q", "backend_user": "u", "backend_password_env": "NOPE"}, {}, "$NOPE is not set"),
    ({"backend": "http://h/q", "backend_headers": ["X-Bad\r\nInjected: 1"]}, {}, "'Name: value'"),
    ({"backend_user": "u", "backend_password_env": "P"}, {"P": "p"}, "need a backend URL"),
])
def test_backend_settings_are_checked(options, environ, message):
    with pytest.raises(UsageError, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=environ, **options)


def test_backend_and_store_exclude_each_other(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--backend", "http://127.0.0.1:1/query", "--store", str(tmp_path)])
    assert result.exit_code != 0
    assert "--store and --in-memory do not apply" in result.output
