"""The saved-query API over HTTP: a real `kg serve` on the article store, compared with Python."""
from __future__ import annotations

import json

import jsonschema
import pytest
import requests
from openapi_spec_validator import validate
from pyoxigraph import QueryResultsFormat

from parley.kg.catalog import load_catalog
from parley.kg.querying import run_saved_query
from parley.kg.store import open_read_only
from regen_golden import golden_cases
from serving import running_server

CATALOG = load_catalog()
CASES = golden_cases(CATALOG)
JSON_RESULTS = "application/sparql-results+json"


@pytest.fixture(scope="module")
def server(article_store, tmp_path_factory):
    with running_server(article_store, tmp_path_factory.mktemp("api")) as running:
        yield running


@pytest.fixture(scope="module")
def store(article_store):
    return open_read_only(article_store)


@pytest.fixture(scope="module")
def spec(server):
    response = requests.get(f"{server.root}/api/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()


def test_openapi_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_openapi_document_has_one_operation_per_saved_query(spec):
    operations = {path: item["get"] for path, item in spec["paths"].items()}
    assert set(operations) == {"/api/queries", *(f"/api/queries/{q.id}" for q in CATALOG)}
    positions = operations["/api/queries/positions"]
    actor = next(p for p in positions["parameters"] if p["name"] == "actor")
    assert actor == {**actor, "in": "query", "required": False, "example": "pid:benjamin-netanyahu"}
    assert actor["schema"]["default"] == "pid:hamas"
    assert positions["summary"] == CATALOG.get("positions").title
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids))


def test_catalog_lists_every_saved_query_as_the_document_says(server, spec):
    response = requests.get(f"{server.root}/api/queries", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    body = response.json()
    schema = {**spec["components"]["schemas"]["Catalog"], "components": spec["components"]}
    jsonschema.validate(body, schema)
    assert [q["id"] for q in body["queries"]] == list(CATALOG.ids)
    entry = next(q for q in body["queries"] if q["id"] == "sticking-points")
    assert entry["question"] == "What are the sticking points?"
    assert entry["url"] == f"{server.root}/api/queries/sticking-points"
    assert entry["sparql"] == CATALOG.get("sticking-points").text


def case_id(case) -> str:
    query, name, _ = case
    return query.id if name == "default" else f"{query.id}.{name}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_http_answers_like_python(server, store, case):
    query, _, params = case
    response = requests.get(f"{server.root}/api/queries/{query.id}", params=params,
                            headers={"Accept": JSON_RESULTS}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_RESULTS
    python = run_saved_query(store, query, params).serialize(format=QueryResultsFormat.JSON)
    assert response.json() == json.loads(python)


@pytest.mark.parametrize("accept, short, media, fmt", [
    ("text/csv", None, "text/csv; charset=utf-8", QueryResultsFormat.CSV),
    (None, "tsv", "text/tab-separated-values; charset=utf-8", QueryResultsFormat.TSV),
    ("application/sparql-results+xml", None, "application/sparql-results+xml", QueryResultsFormat.XML),
])
def test_results_are_negotiated_like_sparql(server, store, accept, short, media, fmt):
    params = {"actor": "pid:israel", **({"format": short} if short else {})}
    response = requests.get(f"{server.root}/api/queries/positions", params=params,
                            headers={"Accept": accept} if accept else {}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == media
    assert response.content == run_saved_query(store, "positions", {"actor": "pid:israel"}).serialize(format=fmt)


@pytest.mark.parametrize("params, message", [
    ({"actor": "hamas"}, "parameter 'actor'"),
    ({"actor": 'pid:hamas> } ; DROP ALL ; #'}, "parameter 'actor'"),
    ({"actor": "http://example.org/a b"}, "parameter 'actor'"),
    ({"who": "pid:hamas"}, "unknown parameter 'who'"),
    ({"actor": ["pid:hamas", "pid:israel"]}, "parameter 'actor' is given 2 times"),
])
def test_bad_parameters_are_400_naming_the_parameter(server, params, message):
    response = requests.get(f"{server.root}/api/queries/positions", params=params,
                            headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_saved_query_revalidates_with_304(server):
    url = f"{server.root}/api/queries/positions"
    first = requests.get(url, params={"actor": "pid:israel"}, headers={"Accept": JSON_RESULTS}, timeout=30)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Vary"] == "Accept" and first.headers["Cache-Control"] == "no-cache"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = requests.get(url, params={"actor": "pid:israel"},
                         headers={"Accept": JSON_RESULTS, "If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    # The tag is keyed by the parameters and the media type too.
    other_actor = requests.get(url, params={"actor": "pid:hamas"},
                               headers={"Accept": JSON_RESULTS, "If-None-Match": etag}, timeout=30)
    assert other_actor.status_code == 200 and other_actor.headers["ETag"] != etag
    as_csv = requests.get(url, params={"actor": "pid:israel"},
                          headers={"Accept": "text/csv", "If-None-Match": etag}, timeout=30)
    assert as_csv.status_code == 200 and as_csv.headers["ETag"] != etag


def test_row_cap_header_on_saved_queries(article_store, tmp_path):
    with running_server(article_store, tmp_path, "--row-cap", "2") as capped:
        response = requests.get(f"{capped.root}/api/queries/actors", headers={"Accept": JSON_RESULTS},
                                timeout=30)
        assert response.status_code == 200 and response.headers["X-Parley-Truncated"] == "2"
        assert len(response.json()["results"]["bindings"]) == 2


def test_unknown_query_is_404(server):
    response = requests.get(f"{server.root}/api/queries/no-such-query", timeout=30)
    assert response.status_code == 404
    assert "unknown saved query 'no-such-query'" in response.text


def test_unacceptable_media_type_is_406(server):
    response = requests.get(f"{server.root}/api/queries/actors", headers={"Accept": "image/png"},
                            timeout=30)
    assert response.status_code == 406
