"""Helpers for tests that run a real `kg serve` on 127.0.0.1 against a store they build."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from pyoxigraph import Literal, NamedNode, Quad, Store

EX = "http://example.org/"
GRAPH = "https://w3id.org/parley/graph/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
# The three named graphs of the W3C protocol tests (their data files are not published
# with the manifest; each graph says of its own IRI that it is a foaf:Document).
KASEI = "http://kasei.us/2009/09/sparql/data/"
FOAF_DOCUMENT = NamedNode("http://xmlns.com/foaf/0.1/Document")


def make_store(path: Path, actors: int = 20) -> Path:
    """A small store with a few named graphs: actors with labels, the W3C protocol graphs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(str(path))
    source = NamedNode(GRAPH + "source/example")
    ontology = NamedNode(GRAPH + "ontology")
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    person = NamedNode("https://w3id.org/parley/ontology#Person")
    quads = [Quad(person, RDF_TYPE, NamedNode("http://www.w3.org/2002/07/owl#Class"), ontology),
             Quad(person, label, Literal("person", language="en"), ontology)]
    for number in range(actors):
        actor = NamedNode(f"https://w3id.org/parley/id/actor-{number:03d}")
        quads += [Quad(actor, RDF_TYPE, person, source),
                  Quad(actor, label, Literal(f"Actor {number:03d}"), source)]
    for name in ("data1.rdf", "data2.rdf", "data3.rdf"):
        quads.append(Quad(NamedNode(KASEI + name), RDF_TYPE, FOAF_DOCUMENT, NamedNode(KASEI + name)))
    store.extend(quads)
    store.flush()
    del store
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningServer:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}/sparql"
        self.root = f"http://127.0.0.1:{port}"

    def ask(self, query: str = "ASK { ?s ?p ?o }") -> bool:
        response = requests.get(self.url, params={"query": query},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        response.raise_for_status()
        return response.json()["boolean"]

    def alive(self) -> bool:
        return self.process.poll() is None


# What a server answers once it is ready: over the store, a query; the saved-query catalog
# answers without any backend, so a server over a dead backend counts as ready too.
READY_QUERY = "/sparql?query=ASK%20%7B%7D"
READY_CATALOG = "/api/queries"


@contextmanager
def running_server(store: Path | None, tmp: Path, *options: str, env: dict[str, str] | None = None,
                   ready: str = READY_QUERY):
    """`kg serve` on a free port; yields once `ready` (a path) answers 200, stops it afterwards.

    With a `store` it serves that store (two executors); without, `options` say what to
    serve (`--backend URL`).
    """
    port = free_port()
    log = tmp / f"serve-{port}.log"
    source = ["--store", str(store), "--executors", "2"] if store is not None else []
    command = [sys.executable, "-m", "parley.server.cli", "serve", *source,
               "--port", str(port), "--workers", "1", *options]
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    server = RunningServer(process, port, log)
    try:
        _wait_until_ready(server, ready)
        yield server
    finally:
        # gunicorn's master stops its workers, which stop their executors.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_ready(server: RunningServer, ready: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"kg serve exited:\n{server.log.read_text()}")
        try:
            if requests.get(server.root + ready, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker is still booting
            pass
        time.sleep(0.1)
    raise RuntimeError(f"kg serve did not answer within {seconds} s:\n{server.log.read_text()}")
