"""The SPARQL endpoints compared: `kg serve`, `oxigraph serve` (on disk, in memory), rdflib-endpoint."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import machine

READY_TIMEOUT = 600  # seconds; rdflib-endpoint parses a large file before it listens
JSON_RESULTS = "application/sparql-results+json"
# Longest GET request target sent (oxigraph serve answers 400 to request headers over 8 KB).
GET_LIMIT = 6000


@dataclass(frozen=True)
class Endpoint:
    """A running endpoint: where it listens and the path of its SPARQL query service."""

    name: str
    base_url: str
    query_path: str
    pid: int

    def query_request(self, sparql: str) -> str:
        """A wrk request line (bench/load.py) that asks `sparql`: by GET, or by POST (a form
        body) when the URL would pass GET_LIMIT (oxigraph refuses headers over 8 KB)."""
        encoded = urllib.parse.urlencode({"query": sparql})
        if len(encoded) + len(self.query_path) > GET_LIMIT:
            return f"POST {self.query_path} {encoded}"
        return f"GET {self.query_path}?{encoded}"

    def fetch(self, request_line: str, headers: dict[str, str] | None = None,
              timeout: float = 120) -> tuple[int, dict, bytes]:
        """The answer to a request line ("GET <path>" or "POST <path> <form body>")."""
        method, target = request_line.split(" ", 1)
        path, _, body = target.partition(" ")
        request = urllib.request.Request(self.base_url + path, method=method,
                                         data=body.encode() if method == "POST" else None,
                                         headers={"Accept": JSON_RESULTS, **(headers or {}),
                                                  **({"Content-Type": "application/x-www-form-urlencoded"}
                                                     if method == "POST" else {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def rows(self, sparql: str, timeout: float = 120) -> int:
        """Rows of a SELECT answer; raises if the endpoint does not answer 200."""
        status, _, body = self.fetch(self.query_request(sparql), timeout=timeout)
        if status != 200:
            raise RuntimeError(f"{self.name}: HTTP {status}: {body[:300]!r}")
        return len(json.loads(body)["results"]["bindings"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _process(name: str, command: list[str], port: int, query_path: str, log: Path,
             env: dict | None = None):
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    endpoint = Endpoint(name, f"http://127.0.0.1:{port}", query_path, process.pid)
    try:
        _wait_ready(endpoint, process, log)
        yield endpoint
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(endpoint: Endpoint, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{endpoint.name} exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            status, _, _ = endpoint.fetch(endpoint.query_request("ASK {}"), timeout=5)
            if status == 200:
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{endpoint.name} did not answer within {READY_TIMEOUT} s")


def oxigraph_on_disk(dataset: Path, work: Path, union: bool = False):
    """`oxigraph serve --location`, the store loaded beforehand with `oxigraph load`."""
    location = work / "oxigraph-store"
    shutil.rmtree(location, ignore_errors=True)
    oxigraph = str(machine.VENV_BIN / "oxigraph")
    subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(dataset)],
                   check=True, capture_output=True)
    port = free_port()
    return _process("oxigraph serve (on disk)",
                    [oxigraph, "serve", "--location", str(location), "--bind",
                     f"127.0.0.1:{port}", *_union_flag(union)],
                    port, "/query", work / "oxigraph-disk.log")


@contextmanager
def oxigraph_in_memory(dataset: Path, work: Path, union: bool = False):
    """`oxigraph serve` without a location, the dataset POSTed to its store service."""
    port = free_port()
    oxigraph = str(machine.VENV_BIN / "oxigraph")
    with _process("oxigraph serve (in memory)",
                  [oxigraph, "serve", "--bind", f"127.0.0.1:{port}", *_union_flag(union)],
                  port, "/query", work / "oxigraph-memory.log") as endpoint:
        request = urllib.request.Request(f"{endpoint.base_url}/store", data=dataset.read_bytes(),
                                         method="POST",
                                         headers={"Content-Type": "application/n-quads"})
        with urllib.request.urlopen(request, timeout=600) as response:
            if response.status not in (200, 201, 204):
                raise RuntimeError(f"loading oxigraph in memory: HTTP {response.status}")
        yield endpoint


def _union_flag(union: bool) -> list[str]:
    # A Parley build's dump carries the union of its named graphs as the default graph (a
    # set); oxigraph's --union-default-graph would add a bag union on top. Older dumps
    # without a default graph need the flag to see the data.
    return ["--union-default-graph"] if union else []


def rdflib_endpoint(dataset: Path, work: Path):
    """rdflib-endpoint (FastAPI on uvicorn) over an rdflib Dataset with a union default graph."""
    executable = machine.PEERS_VENV / "bin" / "rdflib-endpoint"
    if not executable.is_file():
        raise RuntimeError(f"rdflib-endpoint is not installed in {machine.PEERS_VENV} "
                           f"(python3 -m venv {machine.PEERS_VENV} && "
                           f"{machine.PEERS_VENV}/bin/pip install rdflib-endpoint uvicorn)")
    port = free_port()
    return _process("rdflib-endpoint", [str(executable), "serve", "--host", "127.0.0.1",
                                        "--port", str(port), str(dataset)],
                    port, "/", work / "rdflib-endpoint.log")


@contextmanager
def kg_serve(store: Path, work: Path, extra: list[str] | None = None, executors: int = 4,
             log_name: str = "kg-serve.log"):
    """Parley's endpoint, run as its users run it: `kg serve --store DIR`.

    Its executors answer from disk at once and from memory once their copy is made (their
    log says when); measuring starts when all `executors` have settled either way.
    """
    port = free_port()
    log = work / log_name  # one per server: several may run side by side
    with _process("kg serve", [str(machine.VENV_BIN / "kg"), "serve", "--store", str(store),
                               "--host", "127.0.0.1", "--port", str(port), *(extra or [])],
                  port, "/sparql", log) as endpoint:
        _wait_settled(log, executors, copies="--on-disk" not in (extra or []))
        yield endpoint


def _wait_settled(log: Path, executors: int, copies: bool) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        settled = text.count("held in memory") + text.count("above the in-memory limit")
        if text.count("opened on disk") >= executors and (not copies or settled >= executors):
            return
        time.sleep(0.5)
    raise RuntimeError(f"kg serve's executors did not settle within {READY_TIMEOUT} s")
