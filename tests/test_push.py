"""`kg push` against a real `oxigraph serve` on 127.0.0.1, and through small misbehaving proxies."""
from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from pyoxigraph import (BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store)
from rdflib import Graph
from rdflib.compare import isomorphic

from parley.kg.errors import UsageError
from parley.kg.push import PushSettings, TerminalProgress, batches, push
from parley.kg.remote import (RemoteSession, RemoteSettings, RemoteStoreError, parse_header,
                              remote_settings)
from serving import free_port

EX = "http://example.org/"
PEOPLE = NamedNode(EX + "graph/people")
SHAPES = NamedNode(EX + "graph/shapes")
EMPTY = NamedNode(EX + "graph/empty")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
NOTE = NamedNode(EX + "note")
# Literals whose serialisation must survive N-Triples and SPARQL escaping alike.
TRICKY = ['a "quote" and a back\\slash', "a line\nbreak, a\rreturn and a\ttab",
          "a control \x01 character", "ünïcödé ✓ 😀", ""]
PEOPLE_TRIPLES = 10 * 3 + len(TRICKY) + 1
LIST_LENGTH = 6
RESTRICTIONS = 5
SHAPES_TRIPLES = 1 + 2 * LIST_LENGTH + 3 * RESTRICTIONS
BATCH = 4


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    """One real `oxigraph serve` for the module; its root URL (`/store`, `/query`, `/update`)."""
    executable = Path(sys.executable).with_name("oxigraph")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    log = open(location.with_suffix(".log"), "wb")
    process = subprocess.Popen([str(executable), "serve", "--location", str(location / "db"),
                                "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{root}/query", params={"query": "ASK {}"}, timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(location.with_suffix(".log").read_text()) from None
                time.sleep(0.05)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def remote(oxigraph) -> str:
    """The module's Oxigraph, emptied for this test."""
    requests.post(f"{oxigraph}/update", data={"update": "DROP SILENT ALL"},
                  timeout=10).raise_for_status()
    return oxigraph


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Path:
    """A store with a plain graph, a graph of blank-node structures, an empty graph and a
    stray default-graph triple; only ever read."""
    path = tmp_path_factory.mktemp("local") / "store"
    store = Store(str(path))
    quads = []
    for number in range(10):
        person = NamedNode(f"{EX}person/{number}")
        quads += [
            Quad(person, NamedNode(RDF + "type"), NamedNode(EX + "Person"), PEOPLE),
            Quad(person, NamedNode(EX + "name"), Literal(f"Person {number}", language="en"),
                 PEOPLE),
            Quad(person, NamedNode(EX + "age"),
                 Literal(str(20 + number), datatype=NamedNode(XSD + "integer")), PEOPLE)]
    quads += [Quad(NamedNode(f"{EX}text/{n}"), NOTE, Literal(text), PEOPLE)
              for n, text in enumerate(TRICKY)]
    quads.append(Quad(NamedNode(EX + "talks"), NamedNode(EX + "date"),
                      Literal("2024-01-21", datatype=NamedNode(XSD + "date")), PEOPLE))
    # An RDF list is one blank-node component larger than a batch.
    cells = [BlankNode() for _ in range(LIST_LENGTH)]
    quads.append(Quad(NamedNode(EX + "shape"), NamedNode(EX + "in"), cells[0], SHAPES))
    for number, cell in enumerate(cells):
        rest = cells[number + 1] if number + 1 < len(cells) else NamedNode(RDF + "nil")
        quads += [Quad(cell, NamedNode(RDF + "first"), Literal(str(number)), SHAPES),
                  Quad(cell, NamedNode(RDF + "rest"), rest, SHAPES)]
    for number in range(RESTRICTIONS):
        restriction = BlankNode()
        quads += [Quad(NamedNode(f"{EX}Class{number}"), NamedNode(EX + "subClassOf"),
                       restriction, SHAPES),
                  Quad(restriction, NamedNode(RDF + "type"), NamedNode(OWL + "Restriction"),
                       SHAPES),
                  Quad(restriction, NamedNode(OWL + "onProperty"), NamedNode(f"{EX}p{number}"),
                       SHAPES)]
    quads.append(Quad(NamedNode(EX + "stray"), NOTE, Literal("default graph"), DefaultGraph()))
    store.extend(quads)
    store.add_graph(EMPTY)
    store.flush()
    del store
    return path


# -- helpers ----------------------------------------------------------------------------


def remote_graph(root: str, graph: NamedNode) -> Graph:
    response = requests.get(f"{root}/store", params={"graph": graph.value},
                            headers={"Accept": "application/n-triples"}, timeout=10)
    parsed = Graph()
    if response.status_code != 404:
        response.raise_for_status()
        parsed.parse(data=response.text, format="nt")
    return parsed


def local_graph(path: Path, graph: NamedNode) -> Graph:
    data = Store.read_only(str(path)).dump(format=RdfFormat.N_TRIPLES, from_graph=graph)
    return Graph().parse(data=data.decode("utf-8"), format="nt")


def settings(local: Path, target: str, **options) -> PushSettings:
    options.setdefault("batch_triples", BATCH)
    options.setdefault("remote", RemoteSettings(retries=0, timeout=10))
    return PushSettings(store=local, target=target, **options)


def add_remote(root: str, graph: NamedNode, ntriples: str) -> None:
    requests.post(f"{root}/store", params={"graph": graph.value}, data=ntriples.encode(),
                  headers={"Content-Type": "application/n-triples"}, timeout=10).raise_for_status()


class Proxy:
    """A loopback HTTP server that relays to `upstream` unless `intercept` answers itself.

    `intercept(method, path, body)` returns None to relay, or (status, headers, body).
    Every request is recorded as (method, path, headers).
    """

    def __init__(self, upstream: str, intercept: Callable | None = None):
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        upstream_session = requests.Session()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real stores do

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.command, self.path, dict(self.headers)))
                answer = intercept(self.command, self.path, body) if intercept else None
                if answer is None:
                    relayed = upstream_session.request(
                        self.command, upstream + self.path, data=body, allow_redirects=False,
                        headers={k: v for k, v in self.headers.items()
                                 if k.lower() not in ("host", "content-length", "connection")},
                        timeout=10)
                    answer = (relayed.status_code,
                              {k: v for k, v in relayed.headers.items()
                               if k.lower() in ("content-type", "location", "retry-after")},
                              relayed.content)
                status, headers, content = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def writes(self) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.seen if r[0] in ("PUT", "POST") and "/query" not in r[1]]


# -- pushing to a real Oxigraph -----------------------------------------------------------


@pytest.mark.parametrize("path, protocol", [("/store", "gsp"), ("/update", "update")])
def test_push_copies_every_named_graph_isomorphically(local, remote, path, protocol):
    report = push(settings(local, remote + path))

    assert report.endpoints.protocol == protocol  # detected by probing
    assert report.endpoints.query == remote + "/query"  # found as a sibling
    assert [(r.graph, r.local, r.after) for r in report.graphs] == [
        (EMPTY.value, 0, 0), (PEOPLE.value, PEOPLE_TRIPLES, PEOPLE_TRIPLES),
        (SHAPES.value, SHAPES_TRIPLES, SHAPES_TRIPLES)]
    assert report.graphs[1].batches == -(-PEOPLE_TRIPLES // BATCH)
    for graph in (PEOPLE, SHAPES, EMPTY):
        # Isomorphism fails if a blank node was split over two requests (it becomes two).
        assert isomorphic(remote_graph(remote, graph), local_graph(local, graph)), graph
    assert any("default graph is not pushed" in w for w in report.warnings)
    assert report.summary().startswith(f"pushed 3 graphs, {PEOPLE_TRIPLES + SHAPES_TRIPLES} "
                                       f"triples to {remote + path} by {protocol} (")


@pytest.mark.parametrize("path, protocol", [("/store", "gsp"), ("/update", "update")])
def test_replace_drops_stale_triples_and_append_keeps_them(local, remote, path, protocol):
    stale = f"<{EX}stale> <{EX}note> \"left from an older push\" .\n"
    add_remote(remote, PEOPLE, stale)
    push(settings(local, remote + path, protocol=protocol))
    assert len(remote_graph(remote, PEOPLE)) == PEOPLE_TRIPLES
    # Pushing again replaces again: blank-node triples are not duplicated.
    push(settings(local, remote + path, protocol=protocol))
    assert len(remote_graph(remote, SHAPES)) == SHAPES_TRIPLES

    add_remote(remote, PEOPLE, stale)
    report = push(settings(local, remote + path, protocol=protocol, replace=False,
                           graphs=(PEOPLE.value,)))
    assert [(r.before, r.after) for r in report.graphs] == [(PEOPLE_TRIPLES + 1,
                                                             PEOPLE_TRIPLES + 1)]
    assert len(remote_graph(remote, PEOPLE)) == PEOPLE_TRIPLES + 1


def test_dry_run_reads_but_writes_nothing(local, remote):
    add_remote(remote, PEOPLE, f"<{EX}a> <{EX}b> <{EX}c> .\n")
    with Proxy(remote) as proxy:
        report = push(settings(local, proxy.root + "/store", dry_run=True))
    assert proxy.writes() == []
    assert {m for m, _, _ in proxy.seen} == {"GET", "HEAD", "POST"}  # POST: count queries
    assert len(remote_graph(remote, PEOPLE)) == 1
    assert report.details().splitlines() == [
        f"<{EMPTY.value}>: 0 triples in 0 batches, remote holds 0",
        f"<{PEOPLE.value}>: {PEOPLE_TRIPLES} triples in 9 batches, remote holds 1",
        f"<{SHAPES.value}>: {SHAPES_TRIPLES} triples in {RESTRICTIONS + 1} batches, "
        f"remote holds 0"]
    assert report.summary().startswith("dry run: would push 3 graphs")


def test_graph_selection_and_an_unknown_graph(local, remote):
    report = push(settings(local, remote + "/store", graphs=(SHAPES.value,)))
    assert [r.graph for r in report.graphs] == [SHAPES.value]
    assert len(remote_graph(remote, PEOPLE)) == 0
    with pytest.raises(UsageError, match=r"no graph <http://example.org/graph/nope>; its "
                                         r"graphs: .*graph/people"):
        push(settings(local, remote + "/store", graphs=(EX + "graph/nope",)))


def test_explicit_endpoints_skip_the_probes(local, remote):
    with Proxy(remote) as proxy:
        push(settings(local, proxy.root + "/store", protocol="gsp",
                      query_endpoint=proxy.root + "/query"))
    assert [p for m, p, _ in proxy.seen if m == "GET"] == []


# -- the count check --------------------------------------------------------------------


def test_a_lost_batch_fails_the_count_check(local, remote):
    posts = []

    def swallow_second_post(method, path, body):
        if method == "POST" and path.startswith("/store") and "people" in path:
            posts.append(body)
            if len(posts) == 2:
                return 204, {}, b""  # acknowledged, never stored
        return None

    with Proxy(remote, swallow_second_post) as proxy:
        with pytest.raises(RemoteStoreError) as caught:
            push(settings(local, proxy.root + "/store"))
    message = str(caught.value)
    assert f"<{PEOPLE.value}>: {PEOPLE_TRIPLES} triples pushed, {PEOPLE_TRIPLES - BATCH} in " \
           f"the remote graph" in message
    assert "1 of 3 graphs" in message


# -- retries, errors and authentication -----------------------------------------------------


def test_429_is_retried_after_the_servers_delay_and_503_with_backoff(local, remote):
    answers = [(429, {"Retry-After": "7"}, b"slow down"), (503, {}, b"busy")]

    def refuse_first_writes(method, path, body):
        if method in ("PUT", "POST") and path.startswith("/store") and answers:
            return answers.pop(0)
        return None

    waits = []
    with Proxy(remote, refuse_first_writes) as proxy:
        session = RemoteSession(RemoteSettings(retries=3, backoff=0.5), sleep=waits.append)
        report = push(settings(local, proxy.root + "/store"), session=session)
    assert waits == [7.0, 1.0]  # Retry-After honoured; then 0.5 doubled on the second retry
    assert report.graphs[1].after == PEOPLE_TRIPLES


def test_a_client_error_is_not_retried(local, remote):
    def reject(method, path, body):
        if method == "PUT":
            return 400, {"Content-Type": "text/plain"}, b"Parse error at line 1"
        return None

    waits = []
    with Proxy(remote, reject) as proxy:
        session = RemoteSession(RemoteSettings(retries=3), sleep=waits.append)
        with pytest.raises(RemoteStoreError, match=r"the graph store answered 400 Bad Request "
                                                   r"to PUT .*: Parse error at line 1"):
            push(settings(local, proxy.root + "/store"), session=session)
    assert waits == []
    assert len([m for m, _, _ in proxy.seen if m == "PUT"]) == 1


def test_a_redirect_is_reported_not_followed(local, remote):
    def moved(method, path, body):
        if method == "PUT":
            return 307, {"Location": "http://127.0.0.1:1/elsewhere"}, b""
        return None

    with Proxy(remote, moved) as proxy:
        with pytest.raises(RemoteStoreError, match=r"307 .* redirecting to http://127.0.0.1:1"
                                                   r"/elsewhere \(use that URL\)"):
            push(settings(local, proxy.root + "/store"))


def test_credentials_and_headers_go_with_every_request(local, remote):
    credentials = remote_settings(user="curator", password_env="PUSH_SECRET",
                                  headers=["X-Api-Key: k-123"], retries=0,
                                  environ={"PUSH_SECRET": "s3cret"})
    with Proxy(remote) as proxy:
        push(settings(local, proxy.root + "/store", remote=credentials))
    expected = "Basic " + base64.b64encode(b"curator:s3cret").decode()
    assert len(proxy.seen) > 5
    assert {(h.get("Authorization"), h.get("X-Api-Key")) for _, _, h in proxy.seen} == {
        (expected, "k-123")}

    token = remote_settings(bearer_token_env="PUSH_TOKEN", environ={"PUSH_TOKEN": "t-456"})
    with Proxy(remote) as proxy:
        push(settings(local, proxy.root + "/store", remote=token, graphs=(EMPTY.value,)))
    assert {h.get("Authorization") for _, _, h in proxy.seen} == {"Bearer t-456"}


def test_an_unreachable_store_is_a_clear_error(local):
    target = f"http://127.0.0.1:{free_port()}/store"
    waits = []
    session = RemoteSession(RemoteSettings(retries=2, backoff=0.25), sleep=waits.append)
    with pytest.raises(RemoteStoreError, match=rf"cannot reach the store at {target}: .*"
                                               rf"\(gave up after 3 attempts"):
        push(settings(local, target), session=session)
    assert waits == [0.25, 0.5]


def test_a_password_in_the_url_never_appears_in_messages(local):
    target = f"http://user:hunter2@127.0.0.1:{free_port()}/store"
    with pytest.raises(RemoteStoreError) as caught:
        push(settings(local, target))
    assert "hunter2" not in str(caught.value) and "user:***@" in str(caught.value)


# -- pieces -------------------------------------------------------------------------------


def test_batches_keep_each_blank_node_in_one_batch(local):
    store = Store.read_only(str(local))
    sent = list(batches(store, SHAPES, BATCH))
    assert sum(len(b) for b in sent) == SHAPES_TRIPLES
    owner = {}
    for number, batch in enumerate(sent):
        for line in batch:
            for token in line.split():
                if token.startswith("_:"):
                    assert owner.setdefault(token, number) == number, token
    assert len(owner) == LIST_LENGTH + RESTRICTIONS
    # Two restrictions (3 + 3) would pass the size, so each goes alone; the list is one
    # oversized batch.
    assert sorted(len(b) for b in sent) == [3] * RESTRICTIONS + [1 + 2 * LIST_LENGTH]


def test_remote_settings_reject_inconsistent_options():
    with pytest.raises(UsageError, match="needs --user"):
        remote_settings(password="x")
    with pytest.raises(UsageError, match="PUSH_NOPE: the environment variable is not set"):
        remote_settings(user="u", password_env="PUSH_NOPE", environ={})
    with pytest.raises(UsageError, match="choose one"):
        remote_settings(user="u", password="p", bearer_token_env="T", environ={"T": "t"})
    with pytest.raises(UsageError, match="not 'Name: value'"):
        parse_header("no colon here")
    # A line break would smuggle in a second header; requests refused it only when sending.
    for smuggling in ("X-Key: a\r\nX-Other: b", "X-Key: a\nb", "X-Key: a\0", "X Key: a"):
        with pytest.raises(UsageError, match="not 'Name: value'"):
            remote_settings(headers=[smuggling])
    assert parse_header("Accept-Language:  en ") == ("Accept-Language", "en")
    digest = remote_settings(user="dba", password="dba", auth_scheme="digest")
    assert type(digest.credentials.auth()).__name__ == "HTTPDigestAuth"


def test_terminal_progress_writes_only_to_a_terminal(local, remote):
    class Terminal:
        def __init__(self, tty):
            self.text, self.tty = "", tty

        def isatty(self):
            return self.tty

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    shown, hidden = Terminal(True), Terminal(False)
    push(settings(local, remote + "/store"), progress=TerminalProgress(shown))
    push(settings(local, remote + "/store"), progress=TerminalProgress(hidden))
    assert hidden.text == ""
    final = [line.rsplit("\r\x1b[K", 1)[-1] for line in shown.text.split("\n")[:-1]]
    assert [line.rsplit(",", 1)[0] for line in final] == [
        f"[1/3] <{EMPTY.value}> 0 triples, 0 batches",
        f"[2/3] <{PEOPLE.value}> {PEOPLE_TRIPLES} triples, 9 batches",
        f"[3/3] <{SHAPES.value}> {SHAPES_TRIPLES} triples, {RESTRICTIONS + 1} batches"]


def test_the_default_graph_a_build_derives_needs_no_warning(tmp_path):
    from parley.kg.push import select_graphs

    store = Store()
    store.add(Quad(NamedNode(EX + "a"), NOTE, Literal("stated"), PEOPLE))
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")  # what a build writes
    graphs, warnings = select_graphs(store, [])
    assert (graphs, warnings) == ([PEOPLE], [])
    store.add(Quad(NamedNode(EX + "b"), NOTE, Literal("only here"), DefaultGraph()))
    assert any("default graph is not pushed" in w for w in select_graphs(store, [])[1])
