"""The warm cache: a new build's saved-query answers computed before anyone asks, and
identical requests that miss together sharing one evaluation."""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyoxigraph import QueryResultsFormat

from parley.kg.catalog import load_catalog
from parley.kg.querying import run_saved_query
from parley.kg.store import open_read_only
from parley.server.app import create_app
from parley.server.service import QueryRequest, QueryService
from parley.server.settings import ServerSettings
from serving import make_store

CATALOG = load_catalog()
WARM_UP_SECONDS = 120


@pytest.fixture(scope="module")
def app(article_store):
    app = create_app(ServerSettings(store=article_store, executors=1))
    yield app
    app.extensions["parley.service"].close()


def test_every_default_answer_is_cached_before_the_first_request(app, article_store):
    warmer = app.extensions["parley.service"].warmer
    assert warmer.warmed.wait(WARM_UP_SECONDS), "the warm-up did not finish"
    client = app.test_client()
    store = open_read_only(article_store)
    for query in CATALOG:
        # Any name the client reaches the server by: the queries have no relative IRIs.
        response = client.get(f"/api/queries/{query.id}", base_url="http://parley.example:8080",
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.data
        assert response.headers["X-Parley-Cache"] == "hit", query.id
        expected = json.loads(run_saved_query(store, query).serialize(format=QueryResultsFormat.JSON))
        assert json.loads(response.data) == expected


def test_other_values_are_evaluated_then_cached(app):
    warmer = app.extensions["parley.service"].warmer
    assert warmer.warmed.wait(WARM_UP_SECONDS)
    client = app.test_client()
    path = "/api/queries/positions?actor=pid:benjamin-netanyahu"
    assert client.get(path).headers["X-Parley-Cache"] == "miss"
    assert client.get(path).headers["X-Parley-Cache"] == "hit"


def test_nothing_is_warmed_without_a_cache_or_when_switched_off(article_store):
    for settings in (ServerSettings(store=article_store, executors=1, cache_bytes=0),
                     ServerSettings(store=article_store, executors=1, warm_cache=False)):
        app = create_app(settings)
        try:
            assert app.extensions["parley.service"].warmer is None
        finally:
            app.extensions["parley.service"].close()


def test_a_new_build_is_warmed_when_it_is_swapped_in(tmp_path):
    builds = tmp_path / "store.builds"
    link = tmp_path / "store"
    link.symlink_to(make_store(builds / "1", actors=3))
    app = create_app(ServerSettings(store=link, executors=1, reload_interval=0.2))
    service = app.extensions["parley.service"]
    try:
        assert service.warmer.warmed.wait(WARM_UP_SECONDS)
        first_build = service.warmer.warmed_build
        client = app.test_client()
        before = client.get("/api/queries/actors")
        assert before.headers["X-Parley-Cache"] == "hit"
        service.warmer.warmed.clear()
        staging = link.with_name("store.new")  # as `kg build` swaps it: atomically
        staging.symlink_to(make_store(builds / "2", actors=5))
        os.replace(staging, link)
        deadline = time.monotonic() + WARM_UP_SECONDS
        while service.warmer.warmed_build == first_build and time.monotonic() < deadline:
            service.warmer.warmed.wait(0.5)
        assert service.warmer.warmed_build != first_build
        after = client.get("/api/queries/actors")
        assert after.headers["X-Parley-Cache"] == "hit"
        assert after.headers["ETag"] != before.headers["ETag"]
    finally:
        service.close()


class _CountingBackend:
    """The real embedded backend, counting the evaluations that reach it."""

    def __init__(self, backend):
        self.backend = backend
        self.evaluations = 0
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def evaluate(self, job, timeout):
        with self.lock:
            self.evaluations += 1
        time.sleep(0.5)  # hold the evaluation open while the other requests arrive
        return self.backend.evaluate(job, timeout)


def test_identical_misses_share_one_evaluation(article_store):
    settings = ServerSettings(store=article_store, executors=2, warm_cache=False)
    service = QueryService(settings)
    service.backend = counting = _CountingBackend(service.backend)
    try:
        request = QueryRequest(query="SELECT ?s WHERE { ?s a ?c } ORDER BY ?s LIMIT 5",
                               base=settings.endpoint_url, default_graphs=None, named_graphs=None,
                               accept="application/sparql-results+json", format=None)
        barrier = threading.Barrier(8)

        def ask():
            barrier.wait()
            return service.answer(request)

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda _: ask(), range(8)))
        assert counting.evaluations == 1
        assert len({outcome.answer.body for outcome in outcomes}) == 1
        assert sum(not outcome.cached for outcome in outcomes) == 1
    finally:
        service.close()
