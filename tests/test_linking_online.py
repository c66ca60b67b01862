"""Online linking against a real SPARQL endpoint on 127.0.0.1: `oxigraph serve` with the extract."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from parley.kg.linking import LinkSettings, entities_from_store, run_link
from parley.kg.reconciliation import reconcile
from parley.kg.wikidata import (DEFAULT_USER_AGENT, METHOD_OFFLINE, METHOD_ONLINE,
                                OfflineCandidates, OnlineCandidates, WikidataUnavailable)

from test_linking import EXPECTED_LINKS, EXTRACT, UNLINKED, article_store, links_of

WHEN = datetime(2024, 1, 25, 12, 0, tzinfo=timezone.utc)
OXIGRAPH = Path(sys.executable).parent / "oxigraph"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> str:
    """A real SPARQL endpoint serving the extract, as query.wikidata.org serves Wikidata."""
    location = tmp_path_factory.mktemp("oxigraph")
    subprocess.run([OXIGRAPH, "load", "--location", location, "--file", EXTRACT],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([OXIGRAPH, "serve", "--location", location,
                               "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/query"
    try:
        for _ in range(200):
            try:
                if requests.get(url, params={"query": "ASK {}"}, timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"oxigraph serve did not start: {server.stderr.read1().decode()}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


class Throttle(ThreadingHTTPServer):
    """Answers 429 with Retry-After to the first `refusals` requests, then proxies upstream."""

    def __init__(self, upstream: str, refusals: int):
        self.upstream, self.refusals = upstream, refusals
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ThrottleHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sparql"


class ThrottleHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        with self.server.lock:
            self.server.requests.append(dict(self.headers))
            refuse = self.server.refusals > 0
            self.server.refusals -= refuse
        if refuse:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        query = self.path.partition("?")[2]
        answer = requests.get(f"{self.server.upstream}?{query}",
                              headers={"Accept": self.headers["Accept"]}, timeout=10)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers["Content-Type"])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args):
        pass


@pytest.fixture
def throttle(endpoint):
    server = Throttle(endpoint, refusals=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_online_finds_the_same_links_as_offline(endpoint, tmp_path):
    entities = entities_from_store(article_store())
    online = reconcile(entities, OnlineCandidates(endpoint, tmp_path / "cache"))
    offline = reconcile(entities, OfflineCandidates(EXTRACT))
    assert links_of(online) == links_of(offline) == EXPECTED_LINKS
    assert {l.method for l in online.links} == {METHOD_ONLINE}
    assert {i.entity.iri.rsplit("/", 1)[-1] for i in online.review} == UNLINKED


def test_a_429_is_retried_after_the_time_it_asks_and_answers_are_cached(throttle, tmp_path):
    entities = entities_from_store(article_store())
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    first = reconcile(entities, OnlineCandidates(throttle.url, tmp_path / "cache", sleep=sleep))
    assert waits == [1.0]
    assert links_of(first) == EXPECTED_LINKS
    asked = len(throttle.requests)
    # One lookup per entity plus the refused one.
    assert asked == len(entities) + 1
    assert {h["User-Agent"] for h in throttle.requests} == {DEFAULT_USER_AGENT}
    # A rebuild asks nothing: every answer comes from the cache on disk.
    second = reconcile(entities, OnlineCandidates(throttle.url, tmp_path / "cache", sleep=sleep))
    assert len(throttle.requests) == asked
    assert links_of(second) == links_of(first)


def test_a_retry_after_beyond_the_longest_wait_gives_up_with_a_clear_message(throttle, tmp_path):
    online = OnlineCandidates(throttle.url, tmp_path / "cache", max_wait=0.5,
                              sleep=lambda s: pytest.fail("must not wait"))
    entity = entities_from_store(article_store())[0]
    with pytest.raises(WikidataUnavailable, match=r"HTTP 429 and asks to wait 1 s"):
        online.candidates_for(entity)
    assert not list((tmp_path / "cache").glob("*.json"))


def test_endpoint_down_warns_and_keeps_the_offline_links(tmp_path):
    down = f"http://127.0.0.1:{free_port()}/sparql"
    store = article_store()
    settings = LinkSettings(extract=EXTRACT, online=True, endpoint=down,
                            cache_dir=tmp_path / "cache", retries=0, timeout=2)
    report = run_link(store, settings, WHEN)
    assert len(report.warnings) == 1
    assert "online linking failed, kept the offline links" in report.warnings[0]
    assert f"cannot reach {down}" in report.warnings[0]
    assert links_of(report.result) == EXPECTED_LINKS
    assert {l.method for l in report.result.links} == {METHOD_OFFLINE}
    assert "warning: online linking failed" in report.summary()


def test_run_link_online_records_the_online_method(endpoint, tmp_path):
    store = article_store()
    settings = LinkSettings(extract=EXTRACT, online=True, endpoint=endpoint,
                            cache_dir=tmp_path / "cache")
    report = run_link(store, settings, WHEN)
    assert report.warnings == []
    methods = {r["m"].value for r in store.query(
        "SELECT DISTINCT ?m WHERE { GRAPH <https://w3id.org/parley/graph/links> "
        "{ ?l <https://w3id.org/parley/ontology#linkMethod> ?m } } ORDER BY ?m")}
    assert methods == {METHOD_ONLINE}
