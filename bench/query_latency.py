"""Saved-query latency on the article graph: through the library and through `kg serve`.

    .venv/bin/python -m bench.query_latency --runs 200
    .venv/bin/python -m bench.query_latency --store DIR --in-memory --runs 10   # a generated graph

Builds the packaged article corpus with `kg build` into a fresh store, then times every
saved query (parameters bound to the examples of its header): through the library
(`parley.kg.querying.run_saved_query` on the read-only on-disk store, answer serialised as
SPARQL JSON) and over HTTP on one keep-alive connection to `kg serve` (the saved-query API,
whose answers the server caches, and the SPARQL protocol with the values as a VALUES
block and a new comment per request, so that every request is evaluated). Sequential requests, so these
are latencies, not throughput (bench/endpoint_throughput.py does that).
Results go to bench/results/query_latency.json.

With `--store DIR` (a store built by `kg build --corpus` from bench/generate_corpus.py) it
times the library path on that store only, with each IRI parameter bound to the busiest
node of the graph (`bound_queries(use_examples=False)`), on disk (`--on-disk`, the
default) or in an in-memory copy (`--in-memory`); results go to
bench/results/query_latency-<store name>-<disk|memory>.json unless `--out` says otherwise.
There each query runs in a forked child process (sharing the in-memory copy, or opening
the store read-only itself) under a watchdog: a call that takes longer than `--timeout`
seconds (default 20) kills the child, the query is recorded as timed out
(`{"timed_out": true, ...}`) and the run goes on with the next query.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.parse
from pathlib import Path

from bench import endpoints, machine, stats
from bench.workload import bound_queries
from pyoxigraph import Store

from parley.kg.querying import run_saved_query, serialize_results
from parley.kg.store import open_read_only

RESULTS = machine.REPO / "bench" / "results"
TARGET_MS = 50
QUERY_TIMEOUT_S = 20


def build_article_store(work: Path) -> Path:
    store = work / "article-store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(Path(f"{store}.builds"), ignore_errors=True)
    subprocess.run([str(machine.VENV_BIN / "kg"), "build", "--store", str(store)], check=True,
                   capture_output=True)
    return store


def in_memory_copy(store: Store) -> Store:
    copy = Store()
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    return copy


def library_latencies(store_path: Path, runs: int, in_memory: bool = False,
                      use_examples: bool = True, timeout_s: float | None = None) -> dict:
    """Each saved query timed through the library; with `timeout_s`, each in a watched child."""
    store = open_read_only(store_path)
    if in_memory:
        store = in_memory_copy(store)
    results = {}
    for bound in bound_queries(store, use_examples=use_examples):
        if timeout_s is None:
            results[bound.id] = _measure(store, bound, runs)
        else:
            # On disk the child opens its own read-only handle: a RocksDB handle is not
            # shared across fork. In memory it reads the parent's copy (copy-on-write).
            opener = (lambda: store) if in_memory else (lambda: open_read_only(store_path))
            results[bound.id] = _watched(lambda bound=bound: _measure(opener(), bound, runs,
                                                                      _tick), timeout_s)
            print(f"{bound.id}: {_summary(results[bound.id])}", file=sys.stderr, flush=True)
    return results


def _measure(store: Store, bound, runs: int, tick=None) -> dict:
    def call():
        answer = serialize_results(run_saved_query(store, bound.query, bound.values), "json")
        if tick is not None:
            tick()
        return answer
    rows = len(json.loads(call())["results"]["bindings"])
    return {"rows": rows, "values": bound.values, **stats.time_calls(call, runs)}


# The write end of the pipe to the watchdog, in a watched child; each finished call writes
# a newline on it, which restarts the watchdog's clock.
_TICKS: int | None = None


def _tick() -> None:
    os.write(_TICKS, b"\n")


def _watched(measure, timeout_s: float) -> dict:
    """measure() in a forked child; killed, and recorded as timed out, when one call runs
    longer than `timeout_s` seconds. The child's result comes back as JSON on a pipe."""
    global _TICKS
    ticks_read, ticks_write = os.pipe()
    result_read, result_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, send the result, leave without running cleanups
        os.close(ticks_read)
        os.close(result_read)
        status = 0
        try:
            _TICKS = ticks_write
            try:
                payload = json.dumps(measure())
            except BaseException as error:  # noqa: BLE001 - reported to the parent
                payload = json.dumps({"error": f"{type(error).__name__}: {error}",
                                      "traceback": traceback.format_exc(limit=5)})
                status = 1
            os.close(ticks_write)  # the parent now reads the result to its end
            with os.fdopen(result_write, "w") as out:
                out.write(payload)
        finally:
            os._exit(status)
    os.close(ticks_write)
    os.close(result_write)
    calls = 0
    began = last = time.monotonic()
    timed_out = False
    try:
        while True:
            left = timeout_s - (time.monotonic() - last)
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([ticks_read], [], [], left)
            if not ready:
                continue
            data = os.read(ticks_read, 4096)
            if not data:  # the child closed its end: it has finished
                break
            calls += data.count(b"\n")
            last = time.monotonic()
        if timed_out:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"timed_out": True, "timeout_s": timeout_s, "completed_calls": calls,
                    "elapsed_s": round(time.monotonic() - began, 1)}
        with os.fdopen(result_read, "r") as answer:
            result_read = None
            text = answer.read()
        os.waitpid(pid, 0)
        return json.loads(text) if text else {"error": "the measuring process died"}
    finally:
        os.close(ticks_read)
        if result_read is not None:
            os.close(result_read)


def _summary(entry: dict) -> str:
    if "p50_ms" in entry:
        return f"{entry['rows']} rows, p50 {entry['p50_ms']:.1f} ms"
    return "timed out" if entry.get("timed_out") else entry.get("error", "?")


def http_latencies(endpoint: endpoints.Endpoint, runs: int, api_path) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", int(endpoint.base_url.rsplit(":", 1)[1]),
                                            timeout=120)
    headers = {"Accept": endpoints.JSON_RESULTS}

    def get(path: str) -> bytes:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
        return body

    results = {}
    counter = iter(range(10**9))
    for bound in bound_queries():
        sparql = f"{endpoint.query_path}?{urllib.parse.urlencode({'query': bound.sparql_with_values})}"
        surfaces = {
            # the saved-query API as clients call it: from the second call on, the answer
            # comes from the server's cache (same build, same query, same media type)
            "api": lambda path=api_path(bound): path,
            # the same query by the SPARQL protocol, a new comment each time: evaluated
            # every time, what a first request or a changed query costs
            "sparql_uncached": lambda: sparql + urllib.parse.quote(f"\n#{next(counter)}"),
        }
        entry = {}
        for surface, path in surfaces.items():
            rows = len(json.loads(get(path()))["results"]["bindings"])
            entry[surface] = {"rows": rows, **stats.time_calls(lambda p=path: get(p()), runs)}
        results[bound.id] = entry
    connection.close()
    return results


def saved_query_path(bound) -> str:
    """The saved-query API of `kg serve`: GET /api/queries/<id>?<parameter>=<value>."""
    query = urllib.parse.urlencode(bound.values)
    return f"/api/queries/{bound.id}" + (f"?{query}" if query else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--work", type=Path, default=machine.WORK)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--store", type=Path, default=None,
                        help="time this (generated) store instead of the article graph")
    placement = parser.add_mutually_exclusive_group()
    placement.add_argument("--in-memory", dest="in_memory", action="store_true")
    placement.add_argument("--on-disk", dest="in_memory", action="store_false")
    parser.add_argument("--timeout", type=float, default=QUERY_TIMEOUT_S,
                        help="with --store: seconds one call of a query may take before the "
                             "query is recorded as timed out (default %(default)s)")
    args = parser.parse_args(argv)
    if args.store is not None:
        return _measure_store(args)
    args.out = args.out or RESULTS / "query_latency.json"
    args.work.mkdir(parents=True, exist_ok=True)
    result = {"machine_before": machine.describe(), "runs": args.runs, "target_ms": TARGET_MS}
    store = build_article_store(args.work)
    result["library"] = library_latencies(store, args.runs)
    # For reference: the same through an in-memory copy (what `kg serve --in-memory` does).
    result["library_in_memory"] = library_latencies(store, args.runs, in_memory=True)
    if not args.skip_http:
        with endpoints.kg_serve(store, args.work) as endpoint:
            result["http"] = http_latencies(endpoint, args.runs, saved_query_path)
    result["machine_after"] = machine.describe()
    machine.save(args.out, result)
    return 0


def _measure_store(args) -> int:
    """The library path on one given store: the numbers for a generated graph."""
    store = Path(os.path.realpath(args.store))  # a build link: name the build measured
    where = "memory" if args.in_memory else "disk"
    out = args.out or RESULTS / f"query_latency-{args.store.name}-{where}.json"
    result = {"machine_before": machine.describe(), "runs": args.runs, "target_ms": TARGET_MS,
              "store": str(store), "placement": where, "timeout_s": args.timeout,
              "library": library_latencies(store, args.runs, in_memory=args.in_memory,
                                           use_examples=False, timeout_s=args.timeout)}
    result["machine_after"] = machine.describe()
    machine.save(out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
