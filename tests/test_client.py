"""The notebook client against a real SPARQL endpoint (`oxigraph serve` on loopback)."""
from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from parley.kg.client import (DEFAULT_ENDPOINT, Endpoint, EndpointError, bind,
                              endpoint_url, results_frame, to_timestamps)
from parley.kg.errors import KGError, ParameterError, QueryError

PID = "https://w3id.org/parley/id/"
PARLEY = "https://w3id.org/parley/ontology#"

# A few facts in the project's modelling, spread over two named graphs like a real store.
DATASET = """
@prefix parley: <https://w3id.org/parley/ontology#> .
@prefix pid: <https://w3id.org/parley/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/parley/graph/source/test> {
  pid:hamas a parley:PoliticalMovement ; rdfs:label "Hamas"@en .
  pid:israel a parley:State ; rdfs:label "Israël"@fr, "Israel"@en .
  pid:issue-ceasefire a parley:Issue ; skos:prefLabel "Cease-fire permanence" ;
      rdfs:label "ceasefire" ; parley:prominence 1 .
  pid:position-1 a parley:Position ; parley:holder pid:hamas ; parley:stance parley:Demands ;
      parley:onIssue pid:issue-ceasefire ; parley:statedOn "2024-01-21"^^xsd:date ;
      parley:confidence "0.75"^^xsd:decimal ; parley:public true .
  pid:position-2 a parley:Position ; parley:holder pid:israel ; parley:stance parley:RulesOut ;
      parley:onIssue pid:issue-ceasefire ; parley:statedOn "2023-11"^^xsd:gYearMonth ;
      parley:public false .
  pid:position-3 a parley:Position ; parley:holder pid:israel ; parley:stance parley:WouldConsider ;
      parley:onIssue pid:issue-ceasefire ; parley:statedOn "2007"^^xsd:gYear .
  pid:truce a parley:Truce ; parley:startDate "2023-11-24"^^xsd:date .
  pid:takeover a parley:Takeover ; parley:startDate "2007-06-14"^^xsd:date .
}
<https://w3id.org/parley/graph/ontology> {
  parley:Demands skos:prefLabel "demands"@en .
  parley:RulesOut skos:prefLabel "rules out"@en .
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _oxigraph() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(found).exists():
        pytest.fail("`oxigraph` (the `oxigraph` package of the test extra) is not installed")
    return found


@pytest.fixture(scope="module")
def server():
    """`oxigraph serve` in memory with DATASET loaded; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [_oxigraph(), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"oxigraph serve did not start: {process.stderr.read()!r}")
                time.sleep(0.05)
        loaded = requests.post(f"{base}/store", data=DATASET.encode(),
                               headers={"Content-Type": "application/trig"}, timeout=10)
        loaded.raise_for_status()
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def endpoint(server):
    return Endpoint(f"{server}/query")


POSITIONS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?position ?holder ?stance ?prominence ?when ?confidence ?public WHERE {
  ?position parley:holder ?holder ; parley:stance ?stance ; parley:onIssue ?issue ;
            parley:statedOn ?when .
  ?issue parley:prominence ?prominence .
  OPTIONAL { ?position parley:confidence ?confidence }
  OPTIONAL { ?position parley:public ?public }
} ORDER BY ?position
"""


def test_select_gives_one_typed_column_per_variable(endpoint):
    frame = endpoint.select(POSITIONS)

    assert list(frame.columns) == ["position", "holder", "stance", "prominence", "when",
                                   "confidence", "public"]
    assert list(frame["holder"]) == [PID + "hamas", PID + "israel", PID + "israel"]
    assert str(frame["prominence"].dtype) == "Int64"
    assert list(frame["prominence"]) == [1, 1, 1]
    assert frame["confidence"].dtype == "float64"
    assert frame["confidence"][0] == 0.75 and pd.isna(frame["confidence"][1])
    assert str(frame["public"].dtype) == "boolean"
    assert frame["public"][0] is True or frame["public"][0] == True  # noqa: E712
    assert frame["public"][1] == False  # noqa: E712
    assert pd.isna(frame["public"][2])
    # A day, a month and a year in one column: each keeps its precision.
    assert list(frame["when"]) == [pd.Period("2024-01-21", "D"), pd.Period("2023-11", "M"),
                                   pd.Period("2007", "Y")]
    assert list(to_timestamps(frame["when"])) == [pd.Timestamp("2024-01-21"),
                                                  pd.Timestamp("2023-11-01"),
                                                  pd.Timestamp("2007-01-01")]


def test_dates_of_one_precision_make_a_datetime_column(endpoint):
    frame = endpoint.select("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        SELECT ?event ?start WHERE { ?event parley:startDate ?start } ORDER BY ?start""")

    assert frame["start"].dtype.kind == "M"
    assert list(frame["start"]) == [pd.Timestamp("2007-06-14"), pd.Timestamp("2023-11-24")]
    assert frame["start"][0].date() == dt.date(2007, 6, 14)


def test_years_alone_make_a_period_column(endpoint):
    frame = endpoint.select("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        SELECT ?when WHERE { ?p parley:statedOn ?when FILTER(DATATYPE(?when) = xsd:gYear) }""")

    assert str(frame["when"].dtype).startswith("period[Y")
    assert frame["when"][0].year == 2007


def test_labels_adds_a_label_column_beside_each_iri_column(endpoint):
    frame = endpoint.select("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        SELECT ?holder ?stance ?issue WHERE {
          ?p parley:holder ?holder ; parley:stance ?stance ; parley:onIssue ?issue
        } ORDER BY ?holder ?stance""", labels=True)

    assert list(frame.columns) == ["holder", "holderLabel", "stance", "stanceLabel",
                                   "issue", "issueLabel"]
    # English before French; skos:prefLabel before rdfs:label; no label: the IRI itself.
    assert list(frame["holderLabel"]) == ["Hamas", "Israel", "Israel"]
    assert list(frame["stanceLabel"]) == ["demands", "rules out", PARLEY + "WouldConsider"]
    assert set(frame["issueLabel"]) == {"Cease-fire permanence"}
    assert list(frame["holder"]) == [PID + "hamas", PID + "israel", PID + "israel"]


def test_labels_of_a_result_without_iris_add_nothing(endpoint):
    frame = endpoint.select("SELECT ?n WHERE { VALUES ?n { 1 2 } } ORDER BY ?n", labels=True)

    assert list(frame.columns) == ["n"]


def test_bindings_are_bound_as_terms(endpoint):
    frame = endpoint.select("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        SELECT ?holder ?stance WHERE { ?p parley:holder ?holder ; parley:stance ?stance }
        ORDER BY ?stance""", bindings={"holder": URIRef(PID + "israel")})

    assert list(frame["stance"]) == [PARLEY + "RulesOut", PARLEY + "WouldConsider"]


@pytest.mark.parametrize("value", ['a "quoted" } ; DROP ALL ; #', "two\nlines", "Israël"])
def test_a_bound_string_comes_back_unchanged(endpoint, value):
    frame = endpoint.select("SELECT ?text WHERE {}", bindings={"text": value})

    assert list(frame["text"]) == [value]


def test_bound_python_values_keep_their_datatypes(endpoint):
    frame = endpoint.select(
        "SELECT ?n ?day ?yes WHERE {}",
        bindings={"n": 3, "day": dt.date(2024, 1, 21), "yes": True})

    assert (frame["n"][0], frame["day"][0], frame["yes"][0]) == (
        3, pd.Timestamp("2024-01-21"), True)


@pytest.mark.parametrize("name, value", [
    ("holder", URIRef("http://x> } ; DROP ALL ; #")),
    ("holder", URIRef("no-scheme")),
    ("holder } ; DROP ALL ; #", URIRef(PID + "hamas")),
    ("holder", object()),
])
def test_bindings_that_are_not_terms_are_refused(endpoint, name, value):
    with pytest.raises(ParameterError):
        endpoint.select("SELECT ?holder WHERE {}", bindings={name: value})


def test_bind_appends_one_values_row():
    assert bind("SELECT ?a ?b WHERE {}\n", {"a": URIRef(PID + "hamas"), "b": 2}) == (
        "SELECT ?a ?b WHERE {}\nVALUES (?a ?b) { (<https://w3id.org/parley/id/hamas> "
        '"2"^^<http://www.w3.org/2001/XMLSchema#integer>) }\n')


def test_ask_gives_a_bool(endpoint):
    assert endpoint.ask("ASK { ?s a <https://w3id.org/parley/ontology#Truce> }") is True
    assert endpoint.ask("ASK { ?s a <https://w3id.org/parley/ontology#War> }") is False


def test_construct_gives_an_rdflib_graph(endpoint):
    graph = endpoint.construct("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        CONSTRUCT { ?holder parley:holds ?p } WHERE { ?p parley:holder ?holder }""")

    expected = Graph()
    for holder, position in [("hamas", 1), ("israel", 2), ("israel", 3)]:
        expected.add((URIRef(PID + holder), URIRef(PARLEY + "holds"),
                      URIRef(f"{PID}position-{position}")))
    assert isomorphic(graph, expected)
    assert dict(graph.namespaces())["pid"] == URIRef(PID)


def test_a_method_for_another_query_form_says_which_to_use(endpoint):
    with pytest.raises(QueryError, match=r"select\(\) runs SELECT .* CONSTRUCT"):
        endpoint.select("CONSTRUCT WHERE { ?s ?p ?o }")
    with pytest.raises(QueryError, match=r"construct\(\) .* SELECT"):
        endpoint.construct("SELECT * WHERE { ?s ?p ?o }")


def test_a_wrong_query_gives_the_servers_message(endpoint):
    with pytest.raises(QueryError) as raised:
        endpoint.select("SELECT * WHERE { ?s ?p }")

    assert "HTTP 400" in str(raised.value)
    assert "error at 1:" in str(raised.value)  # oxigraph's own words, with the position


def test_a_down_endpoint_says_what_to_do():
    url = f"http://127.0.0.1:{_free_port()}/sparql"

    with pytest.raises(EndpointError) as raised:
        Endpoint(url).select("SELECT * WHERE { ?s ?p ?o }")

    assert isinstance(raised.value, KGError)
    message = str(raised.value)
    assert url in message and "connection refused" in message
    assert "kg serve" in message and "PARLEY_ENDPOINT" in message


def test_a_url_that_is_no_endpoint_says_so(server):
    with pytest.raises(EndpointError, match="HTTP 404.*PARLEY_ENDPOINT"):
        Endpoint(f"{server}/not-sparql").select("SELECT * WHERE { ?s ?p ?o }")


def test_the_endpoint_comes_from_the_environment():
    assert endpoint_url({}) == DEFAULT_ENDPOINT == "http://127.0.0.1:5000/sparql"
    assert endpoint_url({"PARLEY_ENDPOINT": "http://127.0.0.1:9/sparql"}) == (
        "http://127.0.0.1:9/sparql")
    endpoint = Endpoint.from_environment({"PARLEY_ENDPOINT": "http://h:1/kg/sparql"})
    assert (endpoint.url, endpoint.api) == ("http://h:1/kg/sparql", "http://h:1/kg/api/queries")


def test_results_frame_keeps_what_it_cannot_type_as_text():
    xsd = "http://www.w3.org/2001/XMLSchema#"
    frame = results_frame({"head": {"vars": ["v", "empty"]}, "results": {"bindings": [
        {"v": {"type": "literal", "value": "many", "datatype": xsd + "integer"}},
        {"v": {"type": "literal", "value": "7", "datatype": xsd + "integer"}},
        {"v": {"type": "literal", "value": "שלום", "xml:lang": "he"}},
        {"v": {"type": "bnode", "value": "b0"}},
        {"v": {"type": "triple", "value": {
            "subject": {"type": "uri", "value": PID + "hamas"},
            "predicate": {"type": "uri", "value": PARLEY + "basedIn"},
            "object": {"type": "literal", "value": "Qatar"}}}},
    ]}})

    assert list(frame["v"]) == ["many", 7, "שלום", "_:b0",
                                f'<< <{PID}hamas> <{PARLEY}basedIn> "Qatar" >>']
    assert frame["empty"].isna().all() and len(frame) == 5


def test_an_empty_result_keeps_its_columns(endpoint):
    frame = endpoint.select("SELECT ?a ?b WHERE { ?a <urn:nothing> ?b }")

    assert list(frame.columns) == ["a", "b"] and frame.empty


def test_the_cell_magic_runs_a_query_and_binds_notebook_variables(endpoint):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "parley.kg.magic")
    shell.user_ns["who"] = URIRef(PID + "israel")
    answer = shell.run_cell_magic(
        "sparql", f"--endpoint {endpoint.url} --labels --bind holder=who --output seen", """
        PREFIX parley: <https://w3id.org/parley/ontology#>
        SELECT ?holder ?stance WHERE { ?p parley:holder ?holder ; parley:stance ?stance }
        ORDER BY ?stance""")

    assert list(answer["stanceLabel"]) == ["rules out", PARLEY + "WouldConsider"]
    assert shell.user_ns["seen"] is answer
    with pytest.raises(QueryError, match="error at"):
        shell.run_cell_magic("sparql", f"-e {endpoint.url}", "SELECT * WHERE { ?s ?p }")
